#pragma once
// Noticing that the kernel's OOM killer ended processes of the container at its memory limit,
// so that the supervisor can say so in the container log and `status` in its notes.
//
// The OOM killer of a memory cgroup picks only processes of that cgroup, which holds the
// container's processes alone (never the supervisor or a host process): on cgroup v1 it kills
// the largest, on cgroup v2 every process of the container together (memory.oom.group=1, set by
// create_cgroups). The count comes from the cgroup: memory.events "oom_kill" (v2) or
// memory.oom_control "oom_kill" (v1). Without a memory cgroup there is nothing to count: the
// container has no memory bound then, and status says so.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/unique_fd.hpp"

namespace cc::engine::native {

// The OOM kills counted in a memory cgroup directory (v1 or v2), or nothing when unreadable.
std::optional<std::uint64_t> read_oom_kills(const std::string& memory_dir);

// Of the container's cgroup directories, the one with a memory controller, or "".
std::string memory_cgroup_of(const std::vector<std::string>& dirs);

// The sentence for the log and status, e.g. "out of memory: the kernel killed 1 process ...".
std::string oom_sentence(std::uint64_t kills, const std::string& limit_text, const std::string& memory_dir);

// Where the supervisor leaves the OOM sentence of a run when it ends, so that `status` of the
// stopped container still says it (an OOM on cgroup v2 ends the whole container). The next
// start removes it.
std::filesystem::path oom_record(const std::filesystem::path& state_dir);

// Supervisor side: a descriptor that becomes readable when the cgroup's OOM state changes
// (v1: an eventfd registered with cgroup.event_control; v2: memory.events, which the kernel
// marks with POLLPRI on every change).
class OomWatch {
 public:
  OomWatch() = default;
  OomWatch(std::string memory_dir, bool v2, std::string limit_text);
  int fd() const { return fd_.get(); }           // -1: nothing to watch
  short events() const { return v2_ ? static_cast<short>(0x002) /*POLLPRI*/ : static_cast<short>(0x001) /*POLLIN*/; }
  // How long the supervisor may sleep before looking again: cgroup v1 does not signal every OOM
  // kill on the eventfd (only some paths notify), so there the counter is read every second too.
  int poll_timeout_ms() const { return !dir_.empty() && !v2_ ? 1000 : -1; }
  // Re-arms the descriptor and returns the sentence when the count grew since the last call.
  std::optional<std::string> check();
  // The sentence for every kill since the watch began, or nothing.
  std::optional<std::string> summary() const;

 private:
  std::string dir_;
  bool v2_ = false;
  std::string limit_text_;
  UniqueFd fd_;
  UniqueFd control_;  // v1: memory.oom_control, kept open while registered
  std::uint64_t first_ = 0;  // the count when the watch began
  std::uint64_t seen_ = 0;
};

}  // namespace cc::engine::native
