#pragma once
// Created on the sandbox side, inside its fresh network namespace (loopback already up), and
// passed to the supervisor over SCM_RIGHTS. noexcept: it runs on the child side of a fork.
#include <cstdint>
#include <string>

namespace cc::net {

inline constexpr std::uint16_t kProxyPort = 3128;

// Binds and listens on 127.0.0.1:port and [::1]:port (non-blocking, CLOEXEC).
// Fills fds[0] (IPv4) and fds[1] (IPv6, -1 when the kernel has no IPv6). Returns 0, or an
// errno value with a static description in *what.
int create_proxy_listeners(std::uint16_t port, int fds[2], const char** what) noexcept;

}  // namespace cc::net
