#include "net/service_confinement.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace cc::net {
namespace {

// Landlock's uapi by value: Debian's kernel headers predate the ABI 4-6 fields, and the
// kernel accepts the larger attribute with unknown fields zero.
struct RulesetAttr {
  std::uint64_t handled_access_fs = 0;
  std::uint64_t handled_access_net = 0;
  std::uint64_t scoped = 0;
};
struct PathBeneathAttr {
  std::uint64_t allowed_access;
  std::int32_t parent_fd;
} __attribute__((packed));

constexpr std::uint64_t kWriteFile = 1ULL << 1, kReadFile = 1ULL << 2,
                        kRemoveFile = 1ULL << 5, kMakeReg = 1ULL << 8;
constexpr std::uint32_t kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;
constexpr std::uint64_t kScopeAbstractUnix = 1ULL << 0, kScopeSignal = 1ULL << 1;

bool landlock_applied = false;

// Every filesystem right the kernel's ABI knows, so that nothing unlisted stays allowed.
std::uint64_t handled_fs(int abi) {
  std::uint64_t rights = (1ULL << 13) - 1;  // ABI 1: execute .. make_sym
  if (abi >= 2) rights |= 1ULL << 13;       // refer
  if (abi >= 3) rights |= 1ULL << 14;       // truncate
  if (abi >= 5) rights |= 1ULL << 15;       // ioctl_dev
  return rights;
}

int landlock_abi() {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

void add_rule(int ruleset, const std::filesystem::path& path, std::uint64_t rights, bool directory) {
  UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC | (directory ? O_DIRECTORY : 0)));
  if (!fd) {
    if (!directory && (errno == ENOENT || errno == ENOTDIR)) return;  // a resolver file this system lacks
    throw_errno("cannot open " + path.string() + " for the network service's Landlock rules");
  }
  PathBeneathAttr rule{rights, fd.get()};
  if (::syscall(SYS_landlock_add_rule, ruleset, kRulePathBeneath, &rule, 0) != 0)
    throw_errno("cannot add a Landlock rule for " + path.string() + " to the network service");
}

void apply_landlock(const ServiceConfinement& c) {
  const int abi = landlock_abi();
  if (abi <= 0) return;
  RulesetAttr attr;
  attr.handled_access_fs = handled_fs(abi);
  if (abi >= 6) attr.scoped = kScopeAbstractUnix | kScopeSignal;
  UniqueFd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)));
  if (!ruleset) throw_errno("cannot create the network service's Landlock ruleset");
  if (!c.audit_dir.empty()) add_rule(ruleset.get(), c.audit_dir, kWriteFile | kMakeReg | kRemoveFile, true);
  for (const auto& file : c.readable_files) add_rule(ruleset.get(), file, kReadFile, false);
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0)
    throw_errno("cannot apply the network service's Landlock ruleset");
  landlock_applied = true;
}

int last_capability() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int last = CAP_LAST_CAP;
  if (!(in >> last) || last < 0 || last > 63) last = CAP_LAST_CAP;
  return last;
}

void drop_capabilities() {
  // The bounding set needs CAP_SETPCAP to shrink: as root. Without it (rootless) nothing can
  // raise a capability again anyway: no_new_privs, and execve is killed by the filter.
  const bool can_drop_bounding = ::prctl(PR_CAPBSET_READ, CAP_SETPCAP) == 1 && ::geteuid() == 0;
  if (can_drop_bounding) {
    for (int cap = 0, last = last_capability(); cap <= last; ++cap) {
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
        throw_errno("cannot drop capability " + std::to_string(cap) + " from the network service's bounding set");
    }
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    throw_errno("cannot clear the network service's ambient capabilities");
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capset, &header, data) != 0) throw_errno("cannot drop the network service's capabilities");
}

struct Filter {
  scmp_filter_ctx ctx = nullptr;
  ~Filter() {
    if (ctx) seccomp_release(ctx);
  }
};

void allow(scmp_filter_ctx ctx, const char* name, unsigned count = 0, const scmp_arg_cmp* args = nullptr,
           std::uint32_t action = SCMP_ACT_ALLOW) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return;  // not a syscall of this architecture
  int rc = seccomp_rule_add_array(ctx, action, nr, count, args);
  if (rc != 0) throw Error("cannot add " + std::string(name) + " to the network service's seccomp filter (" +
                           std::to_string(-rc) + ")");
}

// Everything the proxy's event loop, the resolver threads (glibc's DNS client and
// getifaddrs), the gateway's TLS threads, the audit writer and the sanitizer runtimes use.
const char* const kAllowed[] = {
    // descriptors and I/O
    "read", "write", "readv", "writev", "pread64", "pwrite64", "close", "fcntl", "dup", "dup3", "lseek",
    "fstat", "newfstatat", "statx", "stat", "lstat", "access", "faccessat", "faccessat2", "pipe2", "splice",
    "eventfd2", "openat", "open", "renameat2", "renameat", "rename", "getdents64", "readlink", "readlinkat",
    // event loop
    "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select",
    "pselect6",
    // sockets (socket itself is filtered by family below)
    "connect", "accept4", "accept", "bind", "getsockname", "getpeername", "getsockopt", "setsockopt",
    "shutdown", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
    // memory
    "mmap", "munmap", "mremap", "madvise", "brk", "mprotect",
    // threads, signals, time, randomness
    "futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "set_tid_address", "sched_yield",
    "sched_getaffinity", "gettid", "getpid", "getppid", "rt_sigaction", "rt_sigprocmask",
    "rt_sigreturn", "rt_sigtimedwait", "sigaltstack", "signalfd4", "restart_syscall", "clock_gettime",
    "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time", "getrandom", "exit", "exit_group",
    // process facts libc and the sanitizers ask for
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "uname", "getrlimit", "prlimit64",
    "sysinfo", "getcwd", "membarrier",
};

void apply_seccomp() {
  Filter f;
  f.ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (!f.ctx) throw Error("cannot create the network service's seccomp filter");
  for (const char* name : kAllowed) allow(f.ctx, name);
  // Threads only: fork would give a second, unconfined-by-design copy nobody waits for.
  scmp_arg_cmp thread = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
  allow(f.ctx, "clone", 1, &thread);
  // abort() and raise() signal this process only (Landlock ABI 6 scopes signals as well).
  scmp_arg_cmp self = SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(::getpid()));
  allow(f.ctx, "tgkill", 1, &self);
  // clone3 hides its flags behind a pointer: ENOSYS makes libc fall back to clone.
  allow(f.ctx, "clone3", 0, nullptr, SCMP_ACT_ERRNO(ENOSYS));
  // No new unix sockets: a pathname socket on the host (a container engine's API, a session
  // bus) is out of Landlock's reach, so the filter keeps the service from dialing one. Unix
  // listeners handed over still accept, and glibc's nscd probe falls back.
  for (int family : {AF_INET, AF_INET6}) {
    scmp_arg_cmp domain = SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family));
    allow(f.ctx, "socket", 1, &domain);
  }
  // getifaddrs (AI_ADDRCONFIG, the host's own addresses) dumps the routing netlink family.
  scmp_arg_cmp netlink[2] = {SCMP_A0(SCMP_CMP_EQ, AF_NETLINK), SCMP_A2(SCMP_CMP_EQ, 0 /* NETLINK_ROUTE */)};
  allow(f.ctx, "socket", 2, netlink);
  // Other families are refused, not fatal: libc probes some.
  for (int family : {AF_UNIX, AF_NETLINK, AF_PACKET, AF_VSOCK, AF_ALG, AF_BLUETOOTH, AF_KEY, AF_CAN, AF_XDP}) {
    scmp_arg_cmp domain = SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family));
    if (family == AF_NETLINK) {
      scmp_arg_cmp other[2] = {domain, SCMP_A2(SCMP_CMP_NE, 0)};
      allow(f.ctx, "socket", 2, other, SCMP_ACT_ERRNO(EAFNOSUPPORT));
    } else {
      allow(f.ctx, "socket", 1, &domain, SCMP_ACT_ERRNO(EAFNOSUPPORT));
    }
  }
  allow(f.ctx, "socketpair", 0, nullptr, SCMP_ACT_ERRNO(EAFNOSUPPORT));
  // Naming threads and memory maps (glibc, the sanitizers); every other prctl is refused.
  for (int option : {PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE}) {
    scmp_arg_cmp op = SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(option));
    allow(f.ctx, "prctl", 1, &op);
  }
  // isatty() and friends from libc and the sanitizers' report paths: refused, not fatal.
  allow(f.ctx, "ioctl", 0, nullptr, SCMP_ACT_ERRNO(ENOTTY));
  // The ruleset is for all threads, also any a runtime started before us.
  if (seccomp_attr_set(f.ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
    throw Error("cannot make the network service's seccomp filter apply to all threads");
  int rc = seccomp_load(f.ctx);
  if (rc != 0) throw Error("cannot load the network service's seccomp filter (" + std::string(std::strerror(-rc)) + ")");
}

}  // namespace

std::vector<std::filesystem::path> name_resolution_files() {
  return {"/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf"};
}

void confine_network_service(const ServiceConfinement& confinement) {
  drop_capabilities();
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw_errno("cannot set no_new_privs on the network service");
  apply_landlock(confinement);
  apply_seccomp();
}

bool landlock_enforced() { return landlock_applied; }

}  // namespace cc::net
