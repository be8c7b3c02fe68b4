#include "engine/native/environment.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "net/proxy_env.hpp"
#include "net/proxy_listener.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

extern char** environ;

namespace cc::engine::native {

namespace {

// "${NAME}" references resolved from the caller's environment (unset -> empty).
std::string expand(const std::string& value) {
  std::string out;
  for (size_t i = 0; i < value.size();) {
    if (value.compare(i, 2, "${") == 0) {
      size_t end = value.find('}', i + 2);
      if (end != std::string::npos) {
        std::string name = value.substr(i + 2, end - i - 2);
        if (const char* v = std::getenv(name.c_str())) out += v;
        i = end + 1;
        continue;
      }
    }
    out += value[i++];
  }
  return out;
}

std::map<std::string, std::string> read_env_file(const std::filesystem::path& file) {
  auto text = read_file_if_exists(file);
  if (!text) {
    throw Error(file.string() + ": env_file not found; create it or clear \"env_file\" in .claude-container/config.json.",
                ExitCode::usage);
  }
  std::map<std::string, std::string> vars;
  std::istringstream in(*text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    line = line.substr(start);
    if (line.rfind("export ", 0) == 0) line = line.substr(7);
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(file.string() + ":" + std::to_string(number) + ": expected KEY=VALUE.", ExitCode::usage);
    }
    std::string key = line.substr(0, eq);
    std::string value = line.substr(eq + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    vars[key] = value;
  }
  return vars;
}

}  // namespace

std::vector<std::string> login_shell_argv() {
  if (::access("/usr/bin/bash", X_OK) == 0 || ::access("/bin/bash", X_OK) == 0) return {"/bin/bash", "-l"};
  return {"/bin/sh", "-l"};
}

std::vector<std::string> container_environment(const ProjectContext& ctx, const ExecRequest& req, bool tty) {
  const auto& cfg = ctx.config;
  std::map<std::string, std::string> env;
  std::string path;
  for (const auto& dir : container_path_dirs()) path += (path.empty() ? "" : ":") + dir;
  env["PATH"] = path;
  env["HOME"] = "/root";
  env["USER"] = "root";
  env["LOGNAME"] = "root";
  env["SHELL"] = login_shell_argv()[0];
  env["HOSTNAME"] = cfg.name;
  env["CLAUDE_CONTAINER"] = cfg.name;
  if (const char* term = std::getenv("TERM"); term != nullptr && *term != '\0') env["TERM"] = term;
  else if (tty) env["TERM"] = "xterm-256color";
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string key = entry.substr(0, eq);
    if (key == "LANG" || key == "LANGUAGE" || key.rfind("LC_", 0) == 0 || key == "COLORTERM" || key == "TZ") {
      env[key] = entry.substr(eq + 1);
    }
  }
  if (cfg.network.policy == config::NetworkPolicy::isolated || cfg.network.policy == config::NetworkPolicy::development) {
    for (const auto& [k, v] : net::proxy_environment(net::kProxyPort)) env[k] = v;
  }
  if (!cfg.env_file.empty()) {
    std::filesystem::path file = cfg.env_file;
    if (file.is_relative()) file = ctx.project_dir / file;
    for (auto& [k, v] : read_env_file(file)) env[k] = v;
  }
  for (const auto& [k, v] : cfg.env) env[k] = expand(v);
  for (const auto& [k, v] : req.extra_env) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace cc::engine::native
