#include "config/container_env.hpp"

#include <cstdlib>
#include <sstream>

#include "config/config_paths.hpp"
#include "config/limits.hpp"
#include "util/error.hpp"

namespace cc::config {

EnvLookup host_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
  };
}

std::map<std::string, std::string> parse_env_file(const std::string& text, const std::string& source) {
  std::map<std::string, std::string> vars;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    if (line.rfind("export ", 0) == 0) line = line.substr(7);
    const std::size_t eq = line.find('=');
    const std::string where = source + ":" + std::to_string(number);
    if (eq == std::string::npos || eq == 0)
      throw usage_error(where + ": expected KEY=VALUE. Fix the line or clear \"env_file\" in " +
                        std::string(".claude-container/config.json"));
    const std::string key = line.substr(0, eq);
    if (!valid_env_name(key) || key.size() > kMaxKeyBytes)
      throw usage_error(where + ": \"" + key.substr(0, 60) +
                        "\" is not a variable name (letters, digits and _, not starting with a digit). Fix the line");
    std::string value = line.substr(eq + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    vars[key] = value;
    if (vars.size() > kMaxEnvFileEntries)
      throw usage_error(source + ": more than " + std::to_string(kMaxEnvFileEntries) + " variables. Shorten it");
  }
  return vars;
}

std::map<std::string, std::string> container_env(const Config& config, const std::filesystem::path& project_dir,
                                                 const EnvLookup& lookup) {
  std::map<std::string, std::string> env;
  if (!config.env_file.empty()) {
    auto text = read_config_path(project_dir, "env_file", config.env_file, kMaxEnvFileBytes);
    if (!text)
      throw usage_error("env_file \"" + config.env_file.substr(0, 200) +
                        "\" does not exist; create it or clear \"env_file\" in .claude-container/config.json");
    env = parse_env_file(*text, config.env_file.substr(0, 200));
  }
  for (const auto& [key, value] : config.env) {
    try {
      env[key] = expand_env_references(value, lookup);
    } catch (const Error& e) {
      throw usage_error("env." + key + ": " + e.what());
    }
  }
  return env;
}

}  // namespace cc::config
