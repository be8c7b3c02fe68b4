// The host side's socket directory: the default under the state directory, or a short
// per-user alias when that would not fit sun_path (see the header for why and how).
#include "engine/image/host_socket_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "engine/image/host_network.hpp"
#include "engine/native/paths.hpp"
#include "util/error.hpp"

namespace cc::engine::image {

namespace {

namespace fs = std::filesystem;

fs::path default_dir(const fs::path& state_dir) { return state_dir / "host-network" / "sockets"; }

// The longest socket name below the directory, with its '/'.
std::size_t longest_socket_name() {
  return 1 + std::max(std::char_traits<char>::length(kProxySocketName), std::char_traits<char>::length(kGatewaySocketName));
}

bool fits(const fs::path& dir) { return dir.string().size() + longest_socket_name() <= kPortableSocketPathMax; }

// FNV-1a, 64 bits: stable across builds and platforms (std::hash is not), which a name found
// again by later invocations needs. Not a security boundary: the directory's checks are.
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string hex16(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

fs::path alias_under(const fs::path& base, const fs::path& state_dir, uid_t uid) {
  return base / ("cc-" + std::to_string(uid)) / hex16(fnv1a(state_dir.lexically_normal().string()));
}

// A directory `name` in `parent_fd` (made with `mode` when missing), opened without following
// a link and checked to be ours; `private_only`: no group or other access either.
UniqueFd open_own_dir(int parent_fd, const std::string& name, const fs::path& shown, mode_t mode, bool private_only) {
  if (::mkdirat(parent_fd, name.c_str(), mode) != 0 && errno != EEXIST) throw_errno("cannot create " + shown.string());
  UniqueFd fd(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ELOOP || errno == ENOTDIR) {
      throw Error("refused to use " + shown.string() + " for the network sockets: it is a symlink or not a directory; remove it and try again.");
    }
    throw_errno("cannot open " + shown.string());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("cannot inspect " + shown.string());
  if (st.st_uid != ::geteuid()) {
    throw Error("refused to use " + shown.string() + " for the network sockets: it belongs to another user; remove it or set TMPDIR to a directory of yours.");
  }
  if (private_only && (st.st_mode & 077) != 0) {
    char mode_text[8];
    std::snprintf(mode_text, sizeof mode_text, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    throw Error("refused to use " + shown.string() + " for the network sockets: other users can reach it (mode " + mode_text +
                "); remove it or chmod 700 it and try again.");
  }
  if (!private_only && ::fchmod(fd.get(), mode) != 0) throw_errno("cannot set the mode of " + shown.string());
  return fd;
}

// Opens the alias's parent (cc-<uid>) without creating it; an invalid fd when absent or not ours.
UniqueFd open_alias_parent_if_ours(const fs::path& parent) {
  UniqueFd fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return {};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || st.st_uid != ::geteuid()) return {};
  return fd;
}

void unlink_sockets(int dir_fd) {
  for (const char* name : {kProxySocketName, kGatewaySocketName}) {
    struct stat st {};
    // Only sockets: whatever else is there is not ours to remove.
    if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode)) ::unlinkat(dir_fd, name, 0);
  }
}

}  // namespace

fs::path choose_host_network_socket_dir(const fs::path& state_dir, const char* tmpdir, uid_t uid) {
  fs::path dir = default_dir(state_dir);
  if (fits(dir)) return dir;
  if (tmpdir != nullptr && tmpdir[0] == '/') {
    fs::path alias = alias_under(fs::path(tmpdir).lexically_normal(), state_dir, uid);
    if (fits(alias)) return alias;
  }
  // /tmp/cc-<uid>/<16 hex>/gateway.sock is at most 48 bytes.
  return alias_under("/tmp", state_dir, uid);
}

fs::path host_network_socket_dir(const fs::path& state_dir) {
  return choose_host_network_socket_dir(state_dir, std::getenv("TMPDIR"), ::geteuid());
}

bool is_short_socket_dir(const fs::path& state_dir, const fs::path& dir) { return dir != default_dir(state_dir); }

SocketDir open_host_network_socket_dir(const fs::path& state_dir) {
  SocketDir out;
  out.path = host_network_socket_dir(state_dir);
  const fs::path parent = out.path.parent_path();
  if (!is_short_socket_dir(state_dir, out.path)) {
    native::ensure_private_dir(parent);
    UniqueFd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!parent_fd) throw_errno("cannot open " + parent.string());
    out.fd = open_own_dir(parent_fd.get(), out.path.filename().string(), out.path, 0755, false);
    return out;
  }
  // The base ($TMPDIR or /tmp) is the system's or the user's; the walk starts there.
  const fs::path base = parent.parent_path();
  UniqueFd base_fd(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!base_fd) throw_errno("cannot open " + base.string() + " for the network sockets");
  UniqueFd parent_fd = open_own_dir(base_fd.get(), parent.filename().string(), parent, 0700, true);
  out.fd = open_own_dir(parent_fd.get(), out.path.filename().string(), out.path, 0755, false);
  return out;
}

void remove_host_network_sockets(const fs::path& state_dir) {
  const fs::path dir = host_network_socket_dir(state_dir);
  UniqueFd parent_fd;
  if (is_short_socket_dir(state_dir, dir)) {
    parent_fd = open_alias_parent_if_ours(dir.parent_path());
  } else {
    parent_fd.reset(::open(dir.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!parent_fd) return;
  UniqueFd fd(::openat(parent_fd.get(), dir.filename().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd) unlink_sockets(fd.get());
}

void remove_host_network_socket_dir(const fs::path& state_dir) {
  const fs::path dir = host_network_socket_dir(state_dir);
  if (!is_short_socket_dir(state_dir, dir)) {
    remove_host_network_sockets(state_dir);  // the directory goes with the state directory
    return;
  }
  UniqueFd parent_fd = open_alias_parent_if_ours(dir.parent_path());
  if (!parent_fd) return;
  const std::string name = dir.filename().string();
  UniqueFd fd(::openat(parent_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return;
  unlink_sockets(fd.get());
  fd.reset();
  ::unlinkat(parent_fd.get(), name.c_str(), AT_REMOVEDIR);  // fails, harmlessly, when not empty
  parent_fd.reset();
  // cc-<uid> when no other container of ours uses it; rmdir never follows a link.
  ::rmdir(dir.parent_path().c_str());
}

}  // namespace cc::engine::image
