// Finding Claude Code on the host by looking at files only: running `npm prefix -g` or
// `claude --version` would execute whatever the user's PATH holds, with our privileges.
#include "integrations/agent_install.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "util/file_io.hpp"
#include "util/unique_fd.hpp"

namespace cc::integrations {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxPackageJson = 256 * 1024;
constexpr std::size_t kMaxNpmrc = 64 * 1024;
constexpr std::size_t kMaxPathEntries = 128;
constexpr const char* kPackage = "lib/node_modules/@anthropic-ai/claude-code";

std::optional<std::string> read_small_file(const fs::path& path, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return std::nullopt;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::string text;
  if (!read_all_bounded(fd.get(), max_bytes, text)) return std::nullopt;
  return text;
}

bool inside(const fs::path& path, const fs::path& dir) {
  auto rel = path.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != ".." && rel != ".";
}

// A file we would hand to the container: a regular executable, owned by root or by us and not
// writable by others (anyone else could swap what the agent is).
bool trustworthy_executable(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if ((st.st_mode & 0111) == 0 || (st.st_mode & S_IWOTH) != 0) return false;
  return st.st_uid == 0 || st.st_uid == ::geteuid();
}

std::optional<fs::path> real_path(const fs::path& path) {
  std::error_code ec;
  fs::path real = fs::canonical(path, ec);
  if (ec) return std::nullopt;
  return real;
}

// An npm package directory of @anthropic-ai/claude-code: its package.json names the version
// and the `claude` bin (bin/claude.exe since the native builds, cli.js before).
std::optional<AgentInstall> from_package(const fs::path& package_dir, const std::string& via) {
  auto dir = real_path(package_dir);
  if (!dir) return std::nullopt;
  auto text = read_small_file(*dir / "package.json", kMaxPackageJson);
  if (!text) return std::nullopt;
  std::string version, bin;
  try {
    auto j = nlohmann::json::parse(*text);
    if (!j.is_object() || j.value("name", "") != "@anthropic-ai/claude-code") return std::nullopt;
    if (j.contains("version") && j["version"].is_string()) version = j["version"].get<std::string>();
    if (j.contains("bin") && j["bin"].is_string()) bin = j["bin"].get<std::string>();
    if (j.contains("bin") && j["bin"].is_object() && j["bin"].contains("claude") && j["bin"]["claude"].is_string()) {
      bin = j["bin"]["claude"].get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  if (bin.empty() || version.size() > 64) return std::nullopt;
  auto exe = real_path(*dir / bin);
  if (!exe || !inside(*exe, *dir) || !trustworthy_executable(*exe)) return std::nullopt;
  return AgentInstall{*exe, *dir, version, via};
}

// The native installer keeps each version as one file in .../claude/versions/.
std::optional<AgentInstall> from_versions_file(const fs::path& exe, const std::string& via) {
  fs::path dir = exe.parent_path();
  if (dir.filename() != "versions" || dir.parent_path().filename() != "claude") return std::nullopt;
  if (!trustworthy_executable(exe)) return std::nullopt;
  return AgentInstall{exe, dir, exe.filename().string(), via};
}

std::optional<fs::path> package_of(const fs::path& exe) {
  for (fs::path dir = exe.parent_path(); dir.has_relative_path(); dir = dir.parent_path()) {
    if (dir.filename() == "claude-code" && dir.parent_path().filename() == "@anthropic-ai" &&
        dir.parent_path().parent_path().filename() == "node_modules") {
      return dir;
    }
  }
  return std::nullopt;
}

// `claude` found on a PATH: an npm package, a native installer version, or (anything else) the
// file with its own directory, unless that directory is the home or holds it.
std::optional<AgentInstall> from_command(const fs::path& command, const fs::path& home, const std::string& via) {
  auto exe = real_path(command);
  if (!exe) return std::nullopt;
  if (auto package = package_of(*exe)) return from_package(*package, via);
  if (auto native = from_versions_file(*exe, via)) return native;
  if (!trustworthy_executable(*exe)) return std::nullopt;
  fs::path dir = exe->parent_path();
  auto real_home = real_path(home).value_or(home);
  if (dir == real_home || inside(real_home, dir) || dir == "/") return std::nullopt;
  return AgentInstall{*exe, dir, "", via};
}

// ${NAME} in an npmrc value, as npm expands them; a missing variable makes the value unusable.
std::optional<std::string> expand_npmrc(std::string value, const config::EnvLookup& env, const fs::path& home) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value.compare(i, 2, "${") == 0) {
      auto end = value.find('}', i);
      if (end == std::string::npos) return std::nullopt;
      auto found = env(value.substr(i + 2, end - i - 2));
      if (!found) return std::nullopt;
      out += *found;
      i = end;
    } else {
      out += value[i];
    }
  }
  if (out.rfind("~/", 0) == 0) out = (home / out.substr(2)).string();
  if (out.empty() || out[0] != '/') return std::nullopt;
  return out;
}

std::optional<fs::path> npmrc_prefix(const config::EnvLookup& env, const fs::path& home) {
  auto text = read_small_file(home / ".npmrc", kMaxNpmrc);
  if (!text) return std::nullopt;
  std::istringstream lines(*text);
  std::optional<fs::path> prefix;
  for (std::string line; std::getline(lines, line);) {
    auto trim = [](const std::string& s) {
      auto b = s.find_first_not_of(" \t\r");
      auto e = s.find_last_not_of(" \t\r");
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos || trim(line.substr(0, eq)) != "prefix") continue;
    if (auto value = expand_npmrc(trim(line.substr(eq + 1)), env, home)) prefix = *value;  // the last one wins, as in npm
  }
  return prefix;
}

std::vector<std::string> split_path(const std::string& text) {
  std::vector<std::string> dirs;
  std::size_t start = 0;
  while (start <= text.size() && dirs.size() < kMaxPathEntries) {
    auto end = text.find(':', start);
    if (end == std::string::npos) end = text.size();
    std::string dir = text.substr(start, end - start);
    if (!dir.empty() && dir[0] == '/') dirs.push_back(dir);  // relative entries depend on where we run
    start = end + 1;
  }
  return dirs;
}

}  // namespace

std::optional<AgentInstall> find_claude_code(const config::EnvLookup& env, const std::vector<fs::path>& system_prefixes) {
  fs::path home;
  if (auto value = env("HOME"); value && !value->empty() && (*value)[0] == '/') {
    home = *value;
  } else if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_dir != nullptr) {
    home = pw->pw_dir;
  }
  if (auto path = env("PATH")) {
    for (const auto& dir : split_path(*path)) {
      fs::path candidate = fs::path(dir) / "claude";
      if (::access(candidate.c_str(), X_OK) != 0) continue;
      if (auto found = from_command(candidate, home, "the host PATH (" + dir + ")")) return found;
    }
  }
  std::vector<std::pair<fs::path, std::string>> prefixes;
  for (const char* name : {"NPM_CONFIG_PREFIX", "npm_config_prefix"}) {
    if (auto value = env(name); value && !value->empty() && (*value)[0] == '/') {
      prefixes.emplace_back(*value, std::string("the npm prefix ") + name + "=" + *value);
    }
  }
  if (!home.empty()) {
    if (auto prefix = npmrc_prefix(env, home)) {
      prefixes.emplace_back(*prefix, "the npm prefix in ~/.npmrc (" + prefix->string() + ")");
    }
    prefixes.emplace_back(home / ".npm-global", "the npm prefix ~/.npm-global");
  }
  for (const auto& [prefix, via] : prefixes) {
    if (auto found = from_package(prefix / kPackage, via)) return found;
  }
  if (!home.empty()) {
    if (auto found = from_command(home / ".local/bin/claude", home, "the native installer (~/.local/bin/claude)")) {
      return found;
    }
  }
  for (const auto& prefix : system_prefixes) {
    if (auto found = from_package(prefix / kPackage, "the npm prefix " + prefix.string())) return found;
  }
  return std::nullopt;
}

std::string claude_code_install_hint() {
  return "Claude Code is not installed on this machine (looked on PATH, in the npm prefixes and in ~/.local); install "
         "it with `npm install -g @anthropic-ai/claude-code` or with Anthropic's native installer, then run this again";
}

std::string describe(const AgentInstall& install) {
  return "Claude Code" + (install.version.empty() ? std::string() : " " + install.version) + " (" +
         install.executable.string() + ", found via " + install.found_via + ")";
}

}  // namespace cc::integrations
