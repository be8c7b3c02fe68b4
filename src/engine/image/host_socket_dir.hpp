#pragma once
// Where the image engines' network host side puts its unix sockets (proxy.sock, gateway.sock),
// the one answer every reader uses: the host side binding them, the engines' mount sources,
// Apple's per-socket `--volume`, status, stop and destroy.
//
// Why not always <state_dir>/host-network/sockets: a socket's path must fit sockaddr_un's
// sun_path wherever something binds or connects to it by name, and that is 104 bytes with the
// NUL on macOS (108 on Linux). Apple's runtime connects to the host path it is given, and a
// Mac's default state directory (~/.local/state/claude-container/<key>.apple/...) rarely fits.
// Binding relative to a directory fd does not help there (macOS has no bindat, and fchdir +
// relative bind is not thread-safe), so when the default does not fit the sockets go in a short
// per-user alias instead: <base>/cc-<uid>/<16 hex digits of a hash of state_dir>, where <base>
// is $TMPDIR when absolute and short enough, else /tmp. Simplest safe design:
//   - cc-<uid> is created 0700 and used only when it is a real directory (lstat + O_NOFOLLOW,
//     never following a link) owned by us with no group/other access; anything else (another
//     user's, a symlink, loosened) is refused, so no other user can plant or see our sockets.
//   - the hash directory (0755, like the default: the container's user must reach the sockets;
//     the 0700 parent keeps the host's other users out) is opened without following links and
//     must be ours.
//   - the name is a pure function of state_dir (and $TMPDIR), so no record is needed to find it
//     again; the 64-bit hash makes two containers of one user sharing it practically impossible.
// The alias lives while the container may run: remove_host_network_socket_dir (container stop,
// destroy, failed start) removes it and cc-<uid> when that is empty. The host side restarting
// keeps the directory (a running docker/podman container has it bind-mounted by inode).
#include <sys/types.h>

#include <cstddef>
#include <filesystem>

#include "util/unique_fd.hpp"

namespace cc::engine::image {

// The longest socket path every platform binds: macOS's 104-byte sun_path minus the NUL.
inline constexpr std::size_t kPortableSocketPathMax = 103;

// The socket directory for a container's state directory, with $TMPDIR from the environment
// and the effective uid.
std::filesystem::path host_network_socket_dir(const std::filesystem::path& state_dir);

// The same choice with its inputs explicit (tests). `tmpdir` may be null or empty.
std::filesystem::path choose_host_network_socket_dir(const std::filesystem::path& state_dir, const char* tmpdir, uid_t uid);

// True when the directory is the short alias rather than <state_dir>/host-network/sockets.
bool is_short_socket_dir(const std::filesystem::path& state_dir, const std::filesystem::path& dir);

struct SocketDir {
  std::filesystem::path path;
  UniqueFd fd;  // O_DIRECTORY, opened without following links
};

// Creates (if needed) and opens the socket directory for `state_dir` after the checks above;
// throws cc::Error (exit 1) naming what was refused and what to do. state_dir must exist.
SocketDir open_host_network_socket_dir(const std::filesystem::path& state_dir);

// Removes the sockets in it and, for the short alias, the directory itself and cc-<uid> when
// empty. Never follows a link; what is not ours is left alone. Idempotent.
void remove_host_network_socket_dir(const std::filesystem::path& state_dir);

// Removes only the sockets (the host side stopping; the directory stays for the container).
void remove_host_network_sockets(const std::filesystem::path& state_dir);

}  // namespace cc::engine::image
