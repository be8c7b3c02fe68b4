#pragma once
// Installs the stand-in for Apple's `container` CLI (tests/support/apple_stand_in/) in a
// temporary directory: <root>/bin/container, replaying the output samples of one release
// (tests/data/apple/<version>/). Tests put bin_dir() first on PATH (ScopedPath) and read back
// every call the engine made, in order.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace cc::test {

class AppleStandIn {
 public:
  // `service_up`: whether `container system status` says the apiserver runs.
  explicit AppleStandIn(const std::string& version, bool service_up = true);

  std::string bin_dir() const { return (dir_.path() / "bin").string(); }
  const std::filesystem::path& root() const { return dir_.path(); }

  // Every call since the last clear_calls(), argv without the program name.
  std::vector<std::vector<std::string>> calls() const;
  void clear_calls();

  nlohmann::json state() const;  // containers, images, volumes, service_up
  void set_state(const nlohmann::json& state);
  void set_service_up(bool up);
  void set_exec_status(int status);

 private:
  void write_config();

  TempDir dir_;
  std::string version_;
  int exec_status_ = 0;
};

// Sets PATH (and restores it): tests run with a hermetic PATH.
class ScopedPath {
 public:
  explicit ScopedPath(const std::string& path);
  ~ScopedPath();
  ScopedPath(const ScopedPath&) = delete;
  ScopedPath& operator=(const ScopedPath&) = delete;

 private:
  std::optional<std::string> saved_;
};

}  // namespace cc::test
