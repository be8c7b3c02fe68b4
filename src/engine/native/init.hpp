#pragma once
// The container's pid 1: reaps every orphan, forwards SIGTERM/SIGINT/SIGHUP to all processes
// in the container, and exits once they are gone. It is the program claude-container-init
// (init_main.cpp), which the sandbox child executes from a sealed memfd (init_image.hpp);
// allocation-free, never returns.

namespace cc::engine::native {

// `supervisor_sock`: hang-up means the supervisor is gone, so the container ends too.
[[noreturn]] void run_init(int supervisor_sock) noexcept;

}  // namespace cc::engine::native
