#include "support/apple_stand_in.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "util/file_io.hpp"

namespace cc::test {

namespace fs = std::filesystem;

AppleStandIn::AppleStandIn(const std::string& version, bool service_up) : dir_("cc-apple"), version_(version) {
  fs::create_directories(dir_.path() / "bin");
  fs::create_directories(dir_.path() / "apple");
  // A copy, not a link: the stand-in finds its state next to the file it runs from.
  fs::copy_file(CC_APPLE_STAND_IN, dir_.path() / "bin" / "container");
  fs::permissions(dir_.path() / "bin" / "container", fs::perms::owner_all | fs::perms::group_read |
                                                           fs::perms::group_exec | fs::perms::others_read |
                                                           fs::perms::others_exec);
  write_config();
  set_state({{"service_up", service_up}, {"kernel_installed", service_up}});
}

void AppleStandIn::write_config() {
  const fs::path samples = fs::path(CC_TEST_DATA_DIR) / "apple" / version_;
  if (!fs::is_directory(samples)) throw std::runtime_error("no samples for Apple's container " + version_);
  nlohmann::json config{{"version", version_}, {"samples", samples.string()}, {"exec_status", exec_status_}};
  write_file_atomic(dir_.path() / "apple" / "config.json", config.dump(2));
}

std::vector<std::vector<std::string>> AppleStandIn::calls() const {
  std::vector<std::vector<std::string>> out;
  std::ifstream in(dir_.path() / "apple" / "calls.jsonl");
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line).at("argv").get<std::vector<std::string>>());
  return out;
}

void AppleStandIn::clear_calls() {
  std::error_code ec;
  fs::remove(dir_.path() / "apple" / "calls.jsonl", ec);
}

nlohmann::json AppleStandIn::state() const {
  std::ifstream in(dir_.path() / "apple" / "state.json");
  std::ostringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

void AppleStandIn::set_state(const nlohmann::json& state) {
  write_file_atomic(dir_.path() / "apple" / "state.json", state.dump(2));
}

void AppleStandIn::set_service_up(bool up) {
  nlohmann::json s = state();
  s["service_up"] = up;
  set_state(s);
}

void AppleStandIn::set_exec_status(int status) {
  exec_status_ = status;
  write_config();
}

ScopedPath::ScopedPath(const std::string& path) {
  if (const char* old = std::getenv("PATH")) saved_ = old;
  ::setenv("PATH", path.c_str(), 1);
}

ScopedPath::~ScopedPath() {
  if (saved_)
    ::setenv("PATH", saved_->c_str(), 1);
  else
    ::unsetenv("PATH");
}

}  // namespace cc::test
