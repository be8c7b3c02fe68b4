#pragma once
// SCM_RIGHTS over a Unix socket: a ChildReport plus up to kMaxPassedFds descriptors in one message.
// Both ends are noexcept (the sending end runs between clone and exec).
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "engine/native/child_report.hpp"

namespace cc::engine::native {

// The egress proxy's and the credential gateway's listeners, IPv4 and IPv6 each.
inline constexpr int kMaxPassedFds = 4;

inline int send_report_with_fds(int sock, const ChildReport& report, const int* fds, int count) noexcept {
  iovec iov{const_cast<ChildReport*>(&report), sizeof(report)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
    std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * count);
  }
  while (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return errno;
  }
  return 0;
}

// Returns bytes read (0 = EOF, -1 = error); stores received descriptors in fds (up to kMaxPassedFds), count in *count.
inline ssize_t receive_report_with_fds(int sock, ChildReport* report, int* fds, int* count) noexcept {
  iovec iov{report, sizeof(*report)};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  *count = 0;
  if (n <= 0) return n;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
      int k = static_cast<int>((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      if (k > kMaxPassedFds) k = kMaxPassedFds;  // the kernel installs only what fits anyway
      std::memcpy(fds, CMSG_DATA(cmsg), sizeof(int) * k);
      *count = k;
    }
  }
  return n;
}

}  // namespace cc::engine::native
