#include "engine/native/paths.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <system_error>

#include "util/error.hpp"

namespace cc::engine::native {

namespace fs = std::filesystem;

namespace {

// An XDG variable counts only when it is set to an absolute path (the spec says to ignore
// relative ones).
std::optional<fs::path> xdg_dir(const char* variable) {
  const char* value = std::getenv(variable);
  if (value == nullptr || value[0] != '/') return std::nullopt;
  return fs::path(value);
}

bool is_dir(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

}  // namespace

fs::path user_home() {
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') return home;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  throw Error("cannot find your home directory: HOME is not set and uid " + std::to_string(::geteuid()) +
              " has no entry in the password database; set HOME.");
}

ContainerPaths container_paths(const std::string& name) {
  ContainerPaths paths;
  fs::path state_base;
  if (auto runtime = xdg_dir("XDG_RUNTIME_DIR"); runtime && is_dir(*runtime)) {
    state_base = *runtime;
  } else if (auto state = xdg_dir("XDG_STATE_HOME")) {
    state_base = *state;
  } else {
    state_base = user_home() / ".local" / "state";
  }
  fs::path data_base;
  if (auto data = xdg_dir("XDG_DATA_HOME")) {
    data_base = *data;
  } else {
    data_base = user_home() / ".local" / "share";
  }
  paths.state_dir = state_base / "claude-container" / name;
  paths.data_dir = data_base / "claude-container" / name;
  return paths;
}

}  // namespace cc::engine::native
