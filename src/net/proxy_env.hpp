#pragma once
// The environment that points programs inside the sandbox at the egress proxy:
// HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/NO_PROXY in both cases and NODE_USE_ENV_PROXY=1.
#include <cstdint>
#include <map>
#include <string>

namespace cc::net {

std::map<std::string, std::string> proxy_environment(std::uint16_t port);

}  // namespace cc::net
