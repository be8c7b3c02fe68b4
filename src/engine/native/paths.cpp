#include "engine/native/paths.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/unique_fd.hpp"

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

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// The checks every state and data directory passes (see ensure_private_dir).
void check_open_dir(int fd, const fs::path& dir) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno("cannot inspect " + dir.string());
  if (!S_ISDIR(st.st_mode)) throw Error(dir.string() + " is not a directory; remove it and try again.");
  if (st.st_uid != ::geteuid()) {
    throw Error("refused to use " + dir.string() + ": it belongs to uid " + std::to_string(st.st_uid) +
                ", not to you (uid " + std::to_string(::geteuid()) +
                "), so its owner could plant the container's state; remove it (`rm -rf " + dir.string() +
                "` as its owner or root) and try again.");
  }
  if ((st.st_mode & 077) != 0) {
    throw Error("refused to use " + dir.string() + ": its mode is " + octal_mode(st.st_mode) +
                ", so other users could change the container's state; run `chmod 700 " + dir.string() + "`.");
  }
}

}  // namespace

fs::path user_home() {
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') return home;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_dir != nullptr) return pw->pw_dir;
  throw Error("cannot find your home directory: HOME is not set and uid " + std::to_string(::geteuid()) +
              " has no entry in the password database; set HOME.");
}

fs::path canonical_project(const fs::path& project_dir) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::absolute(project_dir), ec);
  return ec ? fs::absolute(project_dir).lexically_normal() : canonical;
}

std::string container_key(const std::string& name, const fs::path& project_dir) {
  return name + "-" + sha256_hex(canonical_project(project_dir).string()).substr(0, 12);
}

ContainerPaths container_paths(const std::string& name, const fs::path& project_dir) {
  ContainerPaths paths;
  paths.key = container_key(name, project_dir);
  if (::geteuid() == 0) {
    paths.state_base = "/run/claude-container";
    paths.data_base = "/var/lib/claude-container";
  } else {
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
    paths.state_base = state_base / "claude-container";
    paths.data_base = data_base / "claude-container";
  }
  paths.state_dir = paths.state_base / paths.key;
  paths.data_dir = paths.data_base / paths.key;
  return paths;
}

void ensure_private_dir(const fs::path& dir) {
  std::error_code ec;
  if (dir.has_parent_path() && !fs::exists(dir.parent_path(), ec)) {
    fs::create_directories(dir.parent_path(), ec);
    if (ec) throw Error("cannot create " + dir.parent_path().string() + ": " + ec.message());
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("cannot create " + dir.string());
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOTDIR || errno == ELOOP) {
      throw Error("refused to use " + dir.string() + ": it is a symlink or not a directory; remove it and try again.");
    }
    throw_errno("cannot open " + dir.string());
  }
  check_open_dir(fd.get(), dir);
}

bool check_private_dir(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return false;
    if (errno == ENOTDIR || errno == ELOOP) {
      throw Error("refused to use " + dir.string() + ": it is a symlink or not a directory; remove it and try again.");
    }
    throw_errno("cannot open " + dir.string());
  }
  check_open_dir(fd.get(), dir);
  return true;
}

std::optional<std::string> read_private_file(const fs::path& file, std::size_t max_bytes) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) throw Error("refused to read " + file.string() + ": it is a symlink; remove it and try again.");
    throw_errno("cannot read " + file.string());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("cannot inspect " + file.string());
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    throw Error("refused to read " + file.string() + ": it is not a regular file that only you (uid " +
                std::to_string(::geteuid()) + ") can write; remove it and try again.");
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    throw Error("refused to read " + file.string() + ": it is larger than " + std::to_string(max_bytes) +
                " bytes; remove it and try again.");
  }
  std::string content;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot read " + file.string());
    if (n == 0) break;
    content.append(buf, static_cast<std::size_t>(n));
    if (content.size() > max_bytes) throw Error("refused to read " + file.string() + ": it grew past its limit.");
  }
  return content;
}

}  // namespace cc::engine::native
