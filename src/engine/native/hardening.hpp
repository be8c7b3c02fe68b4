#pragma once
// What every process inside the container runs under: no_new_privs, a reduced capability
// set, Landlock (where the kernel has it), rlimits, and a seccomp denylist installed last.
// The BPF program is built once per container start (libseccomp) and cached in the state
// directory; exec loads the cached bytes with one seccomp(2) call.
#include <linux/filter.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/native/resource_limits.hpp"

namespace cc::engine::native {

struct HardeningPlan {
  std::vector<sock_filter> seccomp;          // empty = no filter
  unsigned long long keep_caps = 0;          // capability bits kept (bounding, permitted, effective)
  int last_cap = 40;                         // /proc/sys/kernel/cap_last_cap
  int landlock_abi = 0;                      // 0 = not available
  std::vector<std::string> landlock_writable;  // paths (inside) where writes stay allowed
  RlimitPlan rlimits;                        // resource_limits.hpp
};

// libseccomp -> BPF for the native architecture. Throws cc::Error.
// `refuse_suid_modes` (bind storage, where a file made inside lands in the host project):
// setuid/setgid file modes are refused too. Elsewhere such files stay in the container's own
// data, and `apply` strips the bits.
std::vector<sock_filter> build_seccomp_filter(bool refuse_suid_modes);
// Everything the program built for this variant depends on, as text: libseccomp's version,
// the architecture and every rule. ContainerPaths::seccomp_key hashes it, so a changed rule
// names another cache file and can never load a stale program.
std::string describe_seccomp_rules(bool refuse_suid_modes);
void save_seccomp_filter(const std::filesystem::path& file, const std::vector<sock_filter>& filter);
std::vector<sock_filter> load_seccomp_filter(const std::filesystem::path& file);  // empty when absent
// Removes the compiled programs of other filters (`seccomp-*.bpf` not named by `key`) from a
// state directory: each binary upgrade that changes a rule would otherwise leave one behind.
void remove_stale_seccomp_caches(const std::filesystem::path& state_dir, const std::string& key);

// The plan for processes inside without its seccomp program (the supervisor builds that once).
HardeningPlan base_hardening_plan();
// The plan for processes inside; reads the cached filter or builds it.
HardeningPlan make_hardening_plan(const std::filesystem::path& seccomp_cache, bool refuse_suid_modes);

// Child side: applies the plan to the calling process. Returns 0 or an errno value with a
// static description in *what. noexcept, allocation-free.
int apply_hardening(const HardeningPlan& plan, const char** what) noexcept;

// For `status`: one line per mechanism.
std::vector<LimitStatus> hardening_status(const HardeningPlan& plan);

}  // namespace cc::engine::native
