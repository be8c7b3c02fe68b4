#include "workspace/file_state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/error.hpp"
#include "workspace/quoted_name.hpp"

namespace cc::workspace {

const char* type_name(FileType type) {
  switch (type) {
    case FileType::none: return "nothing";
    case FileType::regular: return "file";
    case FileType::directory: return "directory";
    case FileType::symlink: return "symlink";
    case FileType::fifo: return "fifo";
    case FileType::socket: return "socket";
    case FileType::char_device: return "character device";
    case FileType::block_device: return "block device";
    case FileType::whiteout: return "whiteout";
  }
  return "unknown";
}

bool same_state(const FileState& a, const FileState& b) {
  if (a.type != b.type) return false;
  if (a.type == FileType::none) return true;
  if (a.mode != b.mode) return false;
  if (a.type == FileType::regular) return a.sha256 == b.sha256;
  if (a.type == FileType::symlink) return a.link_target == b.link_target;
  return true;
}

std::string stamp_of(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return "d:" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_mode & 07777);
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_ctim.tv_sec) + "." +
         std::to_string(st.st_ctim.tv_nsec);
}

bool is_special(FileType type) {
  return type == FileType::fifo || type == FileType::socket || type == FileType::char_device ||
         type == FileType::block_device;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr); }
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256::update(const void* data, std::size_t size) { EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, size); }
std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest, &len);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 15];
  }
  return out;
}

namespace {

FileType type_of(const struct stat& st) {
  if (S_ISREG(st.st_mode)) return FileType::regular;
  if (S_ISDIR(st.st_mode)) return FileType::directory;
  if (S_ISLNK(st.st_mode)) return FileType::symlink;
  if (S_ISFIFO(st.st_mode)) return FileType::fifo;
  if (S_ISSOCK(st.st_mode)) return FileType::socket;
  if (S_ISCHR(st.st_mode)) return FileType::char_device;
  return FileType::block_device;
}

bool has_xattr(int fd, const char* name, const char* expected = nullptr) {
  if (expected == nullptr) return ::fgetxattr(fd, name, nullptr, 0) >= 0;  // any size
  char value[16] = {};
  ssize_t n = ::fgetxattr(fd, name, value, sizeof(value) - 1);
  if (n < 0) return false;
  return expected == nullptr || std::string(value, static_cast<size_t>(n)) == expected;
}

}  // namespace

UniqueFd open_regular(int dir_fd, const std::string& name, struct stat* st) {
  UniqueFd path(::openat(dir_fd, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!path) return {};
  if (::fstat(path.get(), st) != 0 || !S_ISREG(st->st_mode)) return {};
  // Reopen the inode we just checked; a swap of the name after the check cannot reach us.
  std::string self = "/proc/self/fd/" + std::to_string(path.get());
  UniqueFd fd(::open(self.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) {
    // No /proc: the name again, refusing links, never blocking; checked again below.
    fd = UniqueFd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  }
  struct stat again {};
  if (!fd || ::fstat(fd.get(), &again) != 0 || !S_ISREG(again.st_mode) || again.st_ino != st->st_ino ||
      again.st_dev != st->st_dev) {
    return {};
  }
  *st = again;
  return fd;
}

UniqueFd open_directory(int dir_fd, const std::string& name) {
  return UniqueFd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
}

std::vector<std::string> list_directory(int dir_fd) {
  std::vector<std::string> names;
  int copy = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) throw_errno("cannot list a directory of the workspace");
  DIR* dir = ::fdopendir(copy);
  if (dir == nullptr) {
    ::close(copy);
    throw_errno("cannot list a directory of the workspace");
  }
  while (dirent* entry = ::readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    names.emplace_back(entry->d_name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

bool is_opaque_directory(int dir_fd) {
  // "x" marks a directory holding xattr whiteouts, which is not opaque.
  return has_xattr(dir_fd, "user.overlay.opaque", "y") || has_xattr(dir_fd, "trusted.overlay.opaque", "y");
}

namespace {
FileState read_state_try(int dir_fd, const std::string& name, bool overlay_upper, bool keep_content, int tries_left);
}

FileState read_state(int dir_fd, const std::string& name, bool overlay_upper, bool keep_content) {
  return read_state_try(dir_fd, name, overlay_upper, keep_content, 3);
}

namespace {

FileState read_state_try(int dir_fd, const std::string& name, bool overlay_upper, bool keep_content, int tries_left) {
  FileState state;
  struct stat st {};
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return state;
    throw_errno("cannot read " + quote_path(name));
  }
  state.type = type_of(st);
  state.mode = st.st_mode & 07777;
  state.stamp = stamp_of(st);
  if (state.type == FileType::char_device && overlay_upper && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0) {
    state.type = FileType::whiteout;
    return state;
  }
  if (state.type == FileType::symlink) {
    std::string target(4096, '\0');
    ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
    if (n < 0) throw_errno("cannot read the symlink " + quote_path(name));
    target.resize(static_cast<size_t>(n));
    state.link_target = target;
    state.size = target.size();
    return state;
  }
  if (state.type != FileType::regular) return state;

  UniqueFd fd = open_regular(dir_fd, name, &st);
  if (!fd) {
    // Swapped for something else between the two looks: report what is there now, unread.
    int err = errno;
    if (tries_left > 1) return read_state_try(dir_fd, name, overlay_upper, keep_content, tries_left - 1);
    if (err == EACCES || err == EPERM) {
      throw Error("cannot read " + quote_path(name) + " (its permissions shut us out, " + std::strerror(err) +
                  "); make it readable inside the container (chmod u+r), or remove it, and review again.");
    }
    throw Error("cannot read " + quote_path(name) + ": it kept changing while it was read; run the command again.");
  }
  state.mode = st.st_mode & 07777;
  state.stamp = stamp_of(st);
  if (overlay_upper && st.st_size == 0 &&
      (has_xattr(fd.get(), "user.overlay.whiteout") || has_xattr(fd.get(), "trusted.overlay.whiteout"))) {
    state.type = FileType::whiteout;
    return state;
  }
  state.capabilities = has_xattr(fd.get(), "security.capability");
  Sha256 hash;
  std::string kept;
  std::uint64_t total = 0;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot read " + quote_path(name));
    if (n == 0) break;
    if (total < 8000 && std::memchr(buf, 0, std::min<std::uint64_t>(static_cast<std::uint64_t>(n), 8000 - total))) {
      state.binary = true;
    }
    hash.update(buf, static_cast<size_t>(n));
    if (keep_content && total + static_cast<std::uint64_t>(n) <= kShownContentLimit) kept.append(buf, static_cast<size_t>(n));
    total += static_cast<std::uint64_t>(n);
  }
  state.size = total;
  state.sha256 = hash.hex();
  if (keep_content && total <= kShownContentLimit && !state.binary) state.content = std::move(kept);
  return state;
}

}  // namespace

}  // namespace cc::workspace
