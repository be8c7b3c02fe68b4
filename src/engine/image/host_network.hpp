#pragma once
// The host side of an image engine's network (DESIGN.md section 5, "Image engines"): for the
// policies `none`, `isolated` and `development` the container runs with `--network none`; the
// egress proxy and the credential gateway (the same confined net::NetworkService the native
// engine runs) listen on unix sockets in the container's state directory, which the engine puts
// into the container (a bind mount of the socket directory on docker and podman; on Apple's
// `container` a `-v host_socket:path` per socket, whose runtime relays a socket mount source
// into the guest: its `--publish-socket` goes the other way, container to host), and a relay
// inside (socat, installed by the generated Containerfile) listens on the loopback ports
// HTTP(S)_PROXY and ANTHROPIC_BASE_URL name and forwards each connection to those sockets.
//
// The container outlives the CLI, so the host side is a detached process of its own: this
// binary re-executed with the internal verb `__image-network`. It holds a lock for as long as it
// lives (so a crash is seen by the next command, whatever pids were reused) and answers JSON
// lines on a control socket in the state directory. Later CLI invocations find it there.
//
// Layout under `<state_dir>/host-network/` (0700, ours): lock, control.sock, host.json (pid and
// socket paths), and `sockets/` (0755, so the container's non-root user can reach the sockets,
// which are 0666; the 0700 state directory above keeps other host users out). When that socket
// path would not fit sun_path, the sockets go in a short per-user alias instead:
// host_network_socket_dir (host_socket_dir.hpp) is the one answer to where they are.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "engine/image/container_cli.hpp"
#include "engine/image/host_socket_dir.hpp"
#include "net/network_service.hpp"
#include "net/proxy_listener.hpp"

namespace cc::engine::image {

inline constexpr const char* kImageNetworkVerb = "__image-network";

// Where the relay inside finds the sockets; docker/podman bind-mount the host's socket
// directory here, Apple mounts each socket at its path below it.
inline constexpr const char* kContainerSocketDir = "/run/claude-container";
inline constexpr const char* kProxySocketName = "proxy.sock";
inline constexpr const char* kGatewaySocketName = "gateway.sock";

struct HostNetworkSpec {
  std::filesystem::path state_dir;   // the container's state directory (exists, 0700, ours)
  config::Network network;           // effective policy with allow/deny; never `full`
  // Empty: <state_dir>/network/network.jsonl, as native::ContainerPaths::audit_log. Its
  // directory is created 0700 and must hold nothing else (the confined service may create and
  // rotate files there, and nowhere else).
  std::filesystem::path audit_log;
  // credentials.api "gateway": upstream, extra CA and the real credential (sent to the host
  // side over a private socketpair, never argv or the environment). nullopt: no gateway.
  std::optional<net::NetworkServiceGateway> gateway;
  // The binary to re-execute with the internal verb; empty: this one (/proc/self/exe). Tests,
  // which are not the CLI, name the CLI here.
  std::filesystem::path program;
};

// What the engine needs to start the container against a running host side.
struct HostNetwork {
  pid_t pid = 0;                                  // the detached host-side process
  std::filesystem::path socket_dir;               // host directory holding the sockets
  // <socket_dir>/proxy.sock; nullopt under `none` (the native engine runs no proxy there either)
  std::optional<std::filesystem::path> proxy_socket;
  std::optional<std::filesystem::path> gateway_socket;  // <socket_dir>/gateway.sock
  // The sockets one by one, host path -> path inside (Apple mounts each with -v). Docker and
  // podman bind-mount `socket_dir` at kContainerSocketDir instead, read-only (connecting needs
  // no write access to the mount, and the inside then cannot replace the sockets), so a
  // restarted host side's new sockets are seen without restarting the container.
  std::vector<SocketShare> shares;
  // HTTP(S)_PROXY, NO_PROXY etc. for net::kProxyPort, plus ANTHROPIC_BASE_URL when the gateway
  // runs (the placeholder credential variable comes from integrations::credential_environment).
  std::map<std::string, std::string> env;
};

// Starts the host side for the container whose state lives in spec.state_dir, or throws
// cc::Error (exit 1) with the reason (a host side already running for it is an error: stop it
// first; what a killed one left is cleaned). Returns once the listeners accept. Under `none`
// without a gateway there is nothing to run: the engine should not call this.
HostNetwork start_host_network(const HostNetworkSpec& spec);

// Stops the host side (if any) and removes its sockets, control socket and records; also
// cleans what a killed one left. Idempotent.
void stop_host_network(const std::filesystem::path& state_dir);

struct HostNetworkStatus {
  bool running = false;
  bool stale = false;        // records exist but the process that made them is gone
  pid_t pid = 0;
  std::optional<net::NetworkServiceStats> stats;  // when running and it answered
  std::string detail;        // one sentence when stale or not answering
};
HostNetworkStatus host_network_status(const std::filesystem::path& state_dir);

// Live allow/deny: the running host side applies `network` to new requests. Throws cc::Error
// when it is not running or refuses.
void reload_host_network(const std::filesystem::path& state_dir, const config::Network& network);

// The container's pid 1 command: a /bin/sh wrapper that starts the relays (kept running: a
// relay that exits is restarted a second later) and then execs `command`. `with_proxy`: relay
// net::kProxyPort to proxy.sock; `with_gateway`: net::kGatewayPort to gateway.sock. Both on
// 127.0.0.1 only, which is what proxy_environment and gateway_base_url name. `command` must not
// be empty. `socket_dir`: where the sockets are inside (tests run it outside a container).
std::vector<std::string> relay_entrypoint(const std::vector<std::string>& command, bool with_proxy, bool with_gateway,
                                          const std::string& socket_dir = kContainerSocketDir);

// The internal verb's entry point (dispatched from main before the CLI is built); never returns.
[[noreturn]] void image_network_main(int argc, char** argv);

}  // namespace cc::engine::image
