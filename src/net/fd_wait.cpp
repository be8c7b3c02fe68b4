#include "net/fd_wait.hpp"

#include <poll.h>

#include <cerrno>

namespace cc::net {

int ms_until(WaitClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - WaitClock::now()).count();
  if (left <= 0) return 0;
  // Round up so a wait never spins on a sub-millisecond remainder.
  return left > 1000 * 60 * 60 ? 1000 * 60 * 60 : static_cast<int>(left) + 1;
}

WaitResult wait_fd(int fd, short events, WaitClock::time_point deadline, int wake_fd, short* revents) {
  while (true) {
    pollfd p[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    int n = ::poll(p, wake_fd >= 0 ? 2 : 1, ms_until(deadline));
    if (n < 0) {
      if (errno == EINTR) continue;
      return WaitResult::woken;  // poll itself failed: treat as the end of the wait
    }
    if (wake_fd >= 0 && p[1].revents) return WaitResult::woken;
    if (n > 0 && p[0].revents) {
      if (revents) *revents = p[0].revents;
      return WaitResult::ready;
    }
    if (WaitClock::now() >= deadline) return WaitResult::timeout;
  }
}

}  // namespace cc::net
