#include "net/proxy_env.hpp"

namespace cc::net {

std::map<std::string, std::string> proxy_environment(std::uint16_t port) {
  // 127.0.0.1 rather than "localhost": the sandbox has no resolver and some clients do not
  // read /etc/hosts for the proxy's own name.
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  const std::string no_proxy = "localhost,127.0.0.1,::1";
  std::map<std::string, std::string> env;
  for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"}) {
    std::string upper = name, lower;
    for (char c : upper) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    env[upper] = url;
    env[lower] = url;
  }
  env["NO_PROXY"] = no_proxy;
  env["no_proxy"] = no_proxy;
  env["NODE_USE_ENV_PROXY"] = "1";
  return env;
}

}  // namespace cc::net
