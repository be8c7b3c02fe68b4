#pragma once
// Waiting on a socket with a deadline and a wake-up descriptor: the gateway's connection
// threads block only here, so a stop (the wake eventfd turns readable) or a timeout always
// ends the wait.
#include <chrono>

namespace cc::net {

using WaitClock = std::chrono::steady_clock;

enum class WaitResult { ready, timeout, woken };

// Polls `fd` for `events` (POLLIN/POLLOUT) until `deadline`; `wake_fd` (-1: none) readable
// means stop. Sets *revents to what poll reported for fd when ready.
WaitResult wait_fd(int fd, short events, WaitClock::time_point deadline, int wake_fd, short* revents = nullptr);

// Milliseconds left until `deadline`, 0 when passed.
int ms_until(WaitClock::time_point deadline);

}  // namespace cc::net
