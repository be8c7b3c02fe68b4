// Runs on the child side of a fork inside the sandbox's fresh network namespace: only system
// calls, no allocation, no exceptions.
#include "net/proxy_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace cc::net {
namespace {

int listen_on(int family, std::uint16_t port, int* out, const char** what) noexcept {
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *what = family == AF_INET ? "cannot create the proxy's IPv4 socket" : "cannot create the proxy's IPv6 socket";
    return errno;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (rc != 0 || ::listen(fd, 1024) != 0) {
    int err = errno;
    ::close(fd);
    *what = family == AF_INET ? "cannot listen on 127.0.0.1 for the proxy" : "cannot listen on [::1] for the proxy";
    return err;
  }
  *out = fd;
  return 0;
}

}  // namespace

int create_proxy_listeners(std::uint16_t port, int fds[2], const char** what) noexcept {
  static const char* unused = nullptr;
  if (what == nullptr) what = &unused;
  fds[0] = -1;
  fds[1] = -1;
  int err = listen_on(AF_INET, port, &fds[0], what);
  if (err != 0) return err;
  err = listen_on(AF_INET6, port, &fds[1], what);
  if (err == EAFNOSUPPORT || err == EADDRNOTAVAIL) {
    fds[1] = -1;  // no IPv6 in this kernel or on loopback: IPv4 alone is fine
    *what = nullptr;
    return 0;
  }
  if (err != 0) {
    ::close(fds[0]);
    fds[0] = -1;
    return err;
  }
  *what = nullptr;
  return 0;
}

}  // namespace cc::net
