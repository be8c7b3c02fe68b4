#include "util/beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::beneath {
namespace {

std::atomic<bool> openat2_missing{false};

std::vector<std::string> components(const std::filesystem::path& relative) {
  std::vector<std::string> parts;
  for (const auto& part : relative) {
    if (part.empty()) continue;  // a trailing slash
    parts.push_back(part.string());
  }
  return parts;
}

// One component at a time with O_NOFOLLOW, for kernels without openat2.
int walk_open(int root_fd, const std::vector<std::string>& parts, int flags, mode_t mode) {
  UniqueFd dir;
  int at = root_fd;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    struct stat st {};
    if (::fstatat(at, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
    if (S_ISLNK(st.st_mode)) {
      errno = ELOOP;
      return -1;
    }
    UniqueFd next(::openat(at, parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return -1;
    dir = std::move(next);
    at = dir.get();
  }
  struct stat st {};
  if (::fstatat(at, parts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
    errno = ELOOP;
    return -1;
  }
  return ::openat(at, parts.back().c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
}

// O_DIRECTORY|O_NOFOLLOW on a link fails with ENOTDIR; name the link as the cause instead.
bool passes_a_link(int root_fd, const std::vector<std::string>& parts) {
  UniqueFd dir;
  int at = root_fd;
  for (const auto& part : parts) {
    struct stat st {};
    if (::fstatat(at, part.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    if (S_ISLNK(st.st_mode)) return true;
    if (!S_ISDIR(st.st_mode)) return false;
    UniqueFd next(::openat(at, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return false;
    dir = std::move(next);
    at = dir.get();
  }
  return false;
}

std::string reason(int err) {
  switch (err) {
    case ELOOP: return "it is a symbolic link, or lies below one, and links in the project are never followed";
    case EXDEV: return "it leads outside the directory it must stay in";
    case ENOENT: return "it does not exist";
    case ENOTDIR: return "a part of it is not a directory";
    default: return std::strerror(err);
  }
}

[[noreturn]] void refuse(const std::filesystem::path& relative, int err) {
  throw Error("refusing " + relative.string() + ": " + reason(err));
}

void check_clean(const std::filesystem::path& relative) {
  if (!is_clean_relative(relative))
    throw Error("refusing the path '" + relative.string() +
                "': it must be relative, without '.' or '..' parts");
}

// The parent directory of `relative` (opened O_PATH) and the last component's name.
std::pair<UniqueFd, std::string> open_parent(int root_fd, const std::filesystem::path& relative) {
  check_clean(relative);
  auto parts = components(relative);
  std::string name = parts.back();
  if (parts.size() == 1) {
    UniqueFd self(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
    if (!self) throw_errno("cannot duplicate a directory descriptor");
    return {std::move(self), name};
  }
  std::filesystem::path parent;
  for (size_t i = 0; i + 1 < parts.size(); ++i) parent /= parts[i];
  UniqueFd dir = open_at(root_fd, parent, O_PATH | O_DIRECTORY);
  if (!dir) refuse(parent, errno);
  return {std::move(dir), name};
}

}  // namespace

bool is_clean_relative(const std::filesystem::path& relative) {
  const std::string& text = relative.native();
  if (text.empty() || relative.is_absolute() || text.find('\0') != std::string::npos) return false;
  bool any = false;
  for (const auto& part : relative) {
    if (part.empty()) continue;
    if (part == "." || part == "..") return false;
    any = true;
  }
  return any;
}

UniqueFd open_root(const std::filesystem::path& root) {
  UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    if (err == ENOTDIR || err == ELOOP)
      throw Error("cannot use " + root.string() + ": it is not a directory (or is a symbolic link)");
    throw Error(errno_message("cannot open " + root.string(), err));
  }
  return fd;
}

UniqueFd open_at(int root_fd, const std::filesystem::path& relative, int flags, mode_t mode) {
  if (!is_clean_relative(relative)) {
    errno = EINVAL;
    return UniqueFd();
  }
  if (!openat2_missing.load(std::memory_order_relaxed)) {
    struct open_how how {};
    how.flags = static_cast<unsigned long long>(flags | O_NOFOLLOW | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how);
    if (fd >= 0) {
      // O_PATH | O_NOFOLLOW returns the link itself rather than failing: never hand that out.
      if (flags & O_PATH) {
        struct stat st {};
        if (::fstat(static_cast<int>(fd), &st) == 0 && S_ISLNK(st.st_mode)) {
          ::close(static_cast<int>(fd));
          errno = ELOOP;
          return UniqueFd();
        }
      }
      return UniqueFd(static_cast<int>(fd));
    }
    if (errno == ENOTDIR && passes_a_link(root_fd, components(relative))) errno = ELOOP;
    if (errno != ENOSYS) return UniqueFd();
    openat2_missing.store(true, std::memory_order_relaxed);
  }
  int fd = walk_open(root_fd, components(relative), flags, mode);
  if (fd < 0 && errno == ENOTDIR && passes_a_link(root_fd, components(relative))) errno = ELOOP;
  if (fd >= 0 && (flags & O_PATH)) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
      ::close(fd);
      errno = ELOOP;
      return UniqueFd();
    }
  }
  return UniqueFd(fd);
}

UniqueFd open_or_throw(int root_fd, const std::filesystem::path& relative, int flags, mode_t mode) {
  check_clean(relative);
  UniqueFd fd = open_at(root_fd, relative, flags, mode);
  if (!fd) refuse(relative, errno);
  return fd;
}

std::optional<struct stat> stat_at(int root_fd, const std::filesystem::path& relative) {
  check_clean(relative);
  auto parts = components(relative);
  if (parts.size() > 1) {
    std::filesystem::path parent;
    for (size_t i = 0; i + 1 < parts.size(); ++i) parent /= parts[i];
    UniqueFd dir = open_at(root_fd, parent, O_PATH | O_DIRECTORY);
    if (!dir) {
      if (errno == ENOENT) return std::nullopt;
      refuse(parent, errno);
    }
    struct stat st {};
    if (::fstatat(dir.get(), parts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return std::nullopt;
      refuse(relative, errno);
    }
    return st;
  }
  struct stat st {};
  if (::fstatat(root_fd, parts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::nullopt;
    refuse(relative, errno);
  }
  return st;
}

UniqueFd make_directories(int root_fd, const std::filesystem::path& relative_dir, mode_t mode) {
  check_clean(relative_dir);
  UniqueFd current(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!current) throw_errno("cannot duplicate a directory descriptor");
  std::filesystem::path done;
  for (const auto& part : components(relative_dir)) {
    done /= part;
    if (::mkdirat(current.get(), part.c_str(), mode) != 0 && errno != EEXIST)
      throw Error(errno_message("cannot create the directory " + done.string(), errno));
    UniqueFd next = open_at(current.get(), part, O_PATH | O_DIRECTORY);
    if (!next) refuse(done, errno);
    current = std::move(next);
  }
  return current;
}

std::optional<std::string> read_file(int root_fd, const std::filesystem::path& relative,
                                     std::size_t max_bytes) {
  check_clean(relative);
  UniqueFd fd = open_at(root_fd, relative, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    refuse(relative, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("cannot inspect " + relative.string());
  if (!S_ISREG(st.st_mode))
    throw Error("refusing " + relative.string() + ": it is not a regular file");
  if (static_cast<std::size_t>(st.st_size) > max_bytes)
    throw Error(relative.string() + " is larger than the limit of " + std::to_string(max_bytes) +
                " bytes; shorten it");
  std::string content;
  if (!read_all_bounded(fd.get(), max_bytes, content)) {
    if (errno == EFBIG)
      throw Error(relative.string() + " is larger than the limit of " + std::to_string(max_bytes) +
                  " bytes; shorten it");
    throw_errno("cannot read " + relative.string());
  }
  return content;
}

void write_file(int root_fd, const std::filesystem::path& relative, const std::string& content,
                mode_t mode) {
  check_clean(relative);
  auto parts = components(relative);
  std::filesystem::path parent;
  for (size_t i = 0; i + 1 < parts.size(); ++i) parent /= parts[i];
  UniqueFd dir = parent.empty() ? UniqueFd(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0))
                                : make_directories(root_fd, parent);
  if (!dir) throw_errno("cannot duplicate a directory descriptor");
  const int dir_fd = dir.get();
  const std::string& name = parts.back();

  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
    throw Error("refusing to replace " + relative.string() +
                ": it is not a regular file (a symbolic link, directory or special file)");

  std::random_device random;
  std::string temp;
  UniqueFd out;
  for (int attempt = 0; attempt < 16 && !out; ++attempt) {
    temp = "." + name.substr(0, 200) + ".cc-tmp-" + std::to_string(random());
    out.reset(::openat(dir_fd, temp.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out && errno != EEXIST) throw_errno("cannot create a temporary file beside " + relative.string());
  }
  if (!out) throw Error("cannot create a temporary file beside " + relative.string());
  auto fail = [&](const std::string& what) {
    int err = errno;
    ::unlinkat(dir_fd, temp.c_str(), 0);
    throw Error(errno_message(what + " " + relative.string(), err));
  };
  if (!write_all(out.get(), content)) fail("cannot write");
  if (::fchmod(out.get(), mode) != 0) fail("cannot set permissions of");
  if (::fsync(out.get()) != 0) fail("cannot flush");
  out.reset();
  if (::renameat(dir_fd, temp.c_str(), dir_fd, name.c_str()) != 0)
    fail("cannot replace");
}

bool remove_file(int root_fd, const std::filesystem::path& relative) {
  auto [dir, name] = open_parent(root_fd, relative);
  struct stat st {};
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    refuse(relative, errno);
  }
  if (S_ISDIR(st.st_mode)) throw Error("refusing to remove " + relative.string() + ": it is a directory");
  if (::unlinkat(dir.get(), name.c_str(), 0) != 0) {
    if (errno == ENOENT) return false;
    throw Error(errno_message("cannot remove " + relative.string(), errno));
  }
  return true;
}

bool remove_empty_directory(int root_fd, const std::filesystem::path& relative) {
  auto [dir, name] = open_parent(root_fd, relative);
  if (::unlinkat(dir.get(), name.c_str(), AT_REMOVEDIR) != 0) {
    if (errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST) return false;
    throw Error(errno_message("cannot remove the directory " + relative.string(), errno));
  }
  return true;
}

}  // namespace cc::beneath
