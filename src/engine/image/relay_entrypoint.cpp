// The relay inside an image engine's container: socat listens on the loopback ports the
// environment names and forwards each connection to the host side's unix socket. It is a
// convenience, not a boundary: a process inside that replaced it could reach nothing but the
// same sockets, where the host side decides.
#include <string>
#include <vector>

#include "engine/image/host_network.hpp"

namespace cc::engine::image {

namespace {

// `-t 300`: after one direction ends (a client half-closing a CONNECT tunnel), wait up to the
// proxy's idle timeout for the other instead of socat's 0.5 s. `-b 65536`: fewer copies than the
// 8 KiB default for large downloads. A relay that ends (killed, out of memory) comes back a
// second later; the loop is its own process, so pid 1 stays the command.
constexpr const char* kScript = R"(d=$1 relays=$2; shift 2
relay() {
  while :; do
    socat -b 65536 -t 300 "TCP-LISTEN:$1,bind=127.0.0.1,fork,reuseaddr,backlog=256" "UNIX-CONNECT:$d/$2"
    sleep 1
  done
}
if command -v socat >/dev/null 2>&1; then
  for r in $relays; do relay "${r%%=*}" "${r#*=}" </dev/null & done
else
  echo "claude-container: socat is missing from the image, so nothing inside reaches the proxy or the credential gateway; rebuild the image from the generated Containerfile." >&2
fi
exec "$@"
)";

}  // namespace

std::vector<std::string> relay_entrypoint(const std::vector<std::string>& command, bool with_proxy, bool with_gateway,
                                         const std::string& socket_dir) {
  std::string relays;
  if (with_proxy) relays += std::to_string(net::kProxyPort) + "=" + kProxySocketName;
  if (with_gateway) relays += (relays.empty() ? "" : " ") + std::to_string(net::kGatewayPort) + "=" + kGatewaySocketName;
  // Arguments rather than text in the script: the script is one constant, nothing is quoted into it.
  std::vector<std::string> argv = {"/bin/sh", "-c", kScript, "claude-container-relay", socket_dir, relays};
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

}  // namespace cc::engine::image
