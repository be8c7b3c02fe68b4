#include "support/net_netns.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace cc::test {
namespace {

bool write_text(const char* path, const char* text) {
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text, std::strlen(text)) == static_cast<ssize_t>(std::strlen(text));
  ::close(fd);
  return ok;
}

}  // namespace

NetnsChild::NetnsChild() {
  int ready[2], release[2];
  if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(release, O_CLOEXEC) != 0) {
    error_ = "pipe failed";
    return;
  }
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    ::close(release[1]);
    char status = 'x';
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
      char map[64];
      std::snprintf(map, sizeof map, "0 %u 1", uid);
      bool mapped = write_text("/proc/self/uid_map", map);
      write_text("/proc/self/setgroups", "deny");
      std::snprintf(map, sizeof map, "0 %u 1", gid);
      mapped = mapped && write_text("/proc/self/gid_map", map);
      int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      ifreq ifr{};
      std::strcpy(ifr.ifr_name, "lo");
      bool up = s >= 0 && ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
      ifr.ifr_flags |= IFF_UP;
      up = up && ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
      status = mapped && up ? 'y' : 'l';
    }
    [[maybe_unused]] auto n = ::write(ready[1], &status, 1);
    char c;
    while (::read(release[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  release_ = UniqueFd(release[1]);
  char status = 0;
  pollfd p{ready[0], POLLIN, 0};
  if (pid < 0 || ::poll(&p, 1, 10000) <= 0 || ::read(ready[0], &status, 1) != 1 || status != 'y') {
    error_ = status == 'l' ? "cannot map ids or bring loopback up in the new namespace"
                           : "cannot create a user and network namespace";
  }
  ::close(ready[0]);
  pid_ = pid;
}

NetnsChild::~NetnsChild() { terminate(); }

void NetnsChild::terminate() {
  if (pid_ <= 0) return;
  release_.reset();
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

int NetnsChild::run_inside(const std::function<int()>& probe, int timeout_seconds) const {
  std::string ns = "/proc/" + std::to_string(pid_) + "/ns/net";
  int nsfd = ::open(ns.c_str(), O_RDONLY | O_CLOEXEC);
  if (nsfd < 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setns(nsfd, CLONE_NEWNET) != 0) _exit(255);
    _exit(probe() & 0xff);
  }
  ::close(nsfd);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return 137;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status) == 255 ? -1 : WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

int tcp_connect_errno(const std::string& address, unsigned port, int timeout_ms) {
  sockaddr_storage ss{};
  socklen_t len;
  auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, address.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof *a4;
  } else if (inet_pton(AF_INET6, address.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof *a6;
  } else {
    return EINVAL;
  }
  int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int err = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) {
        err = ETIMEDOUT;
      } else {
        socklen_t l = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
      }
    }
  }
  ::close(fd);
  return err;
}

}  // namespace cc::test
