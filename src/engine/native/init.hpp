#pragma once
// The container's pid 1: reaps every orphan, forwards SIGTERM/SIGINT/SIGHUP to all processes
// in the container, and exits once they are gone. Runs in the sandbox child; never returns.

namespace cc::engine::native {

// `supervisor_sock`: hang-up means the supervisor is gone, so the container ends too.
[[noreturn]] void run_init(int supervisor_sock) noexcept;

}  // namespace cc::engine::native
