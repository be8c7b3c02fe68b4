#include "engine/native/hardening.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>
#include <sched.h>

#include "engine/native/paths.hpp"
#include "engine/native/state_dir.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/unique_fd.hpp"

namespace cc::engine::native {

namespace {

// Syscalls denied with EPERM. The container's root holds every capability of its own user
// namespace, so the filter closes what capabilities alone leave open or what widens the
// kernel attack surface without a use for a coding agent:
//  - kernel code and keys: module loading, kexec, bpf, keyrings (not namespaced);
//  - the mount API: the masks over /etc secrets and the hidden host paths are mounts made
//    inside this namespace, so unmounting them must be impossible (CAP_SYS_ADMIN is dropped
//    too; this is the second lock);
//  - namespace changes: setns, and unshare/clone with CLONE_NEWUSER (a nested user namespace
//    would give back every capability); clone3 gets ENOSYS so libc falls back to clone,
//    whose flags a filter can inspect;
//  - host-wide state: clock setting, swap, reboot, acct, quotas, syslog, iopl/ioperm;
//  - known exploitation helpers: userfaultfd, perf_event_open, open_by_handle_at,
//    TIOCSTI/TIOCLINUX (typing into the terminal of the `shell` caller), io_uring (a second
//    syscall path that bypasses this very filter, and a steady source of kernel bugs).
// ptrace stays allowed: debuggers and strace are normal tools; CAP_SYS_PTRACE is dropped and
// every process inside is the same user, so it reaches nothing outside.
const char* const kDenied[] = {
    "add_key", "keyctl", "request_key", "bpf", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "mount", "umount2", "pivot_root", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "setns", "settimeofday",
    "clock_settime", "clock_adjtime", "adjtimex", "swapon", "swapoff", "reboot", "acct",
    "quotactl", "quotactl_fd", "syslog", "iopl", "ioperm", "userfaultfd", "perf_event_open",
    "open_by_handle_at", "lookup_dcookie", "vhangup", "nfsservctl", "uselib", "_sysctl",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
};

struct SeccompCtx {
  scmp_filter_ctx ctx;
  ~SeccompCtx() { seccomp_release(ctx); }
};

// Capabilities the container's root keeps (the usual container default set less NET_RAW, as
// podman does): enough to own files, change to other ids, bind low ports; not SYS_ADMIN,
// NET_ADMIN, NET_RAW (raw sockets forge packets past the proxy's view on a shared network;
// ping uses ICMP datagram sockets instead), SYS_PTRACE, SYS_MODULE, DAC_READ_SEARCH, ...
// CAP_SETFCAP is not kept: a file capability written into the project (bind storage) would
// be effective on the host.
constexpr int kKeptCaps[] = {CAP_CHOWN,  CAP_DAC_OVERRIDE,     CAP_FSETID,   CAP_FOWNER,      CAP_MKNOD,
                             CAP_SETGID,          CAP_SETUID,   CAP_SETPCAP,
                             CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE};

int landlock_abi_version() {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

unsigned long long landlock_write_rights(int abi) {
  unsigned long long rights = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                              LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
                              LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                              LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
                              LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
#ifdef LANDLOCK_ACCESS_FS_REFER
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
  if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
  return rights;
}

}  // namespace


namespace {

// One rule of the filter: `action` when syscall `nr` is called with arguments matching every
// comparison. The filter is built from this list alone, and the cache key is a hash of it.
struct SeccompRule {
  uint32_t action;
  int nr;
  std::vector<scmp_arg_cmp> args;
};

std::vector<SeccompRule> seccomp_rules(bool refuse_suid_modes) {
  std::vector<SeccompRule> rules;
  auto add = [&](uint32_t action, int nr, std::vector<scmp_arg_cmp> args = {}) {
    rules.push_back({action, nr, std::move(args)});
  };
  for (const char* name : kDenied) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    add(SCMP_ACT_ERRNO(EPERM), nr);
  }
  scmp_arg_cmp newuser_unshare = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
  add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), {newuser_unshare});
  add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), {newuser_unshare});  // x86-64: flags are arg 0
  add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3));
  // A virtual machine's channel to its host (vsock) is no business of the sandbox: on a VM
  // it reaches the hypervisor's services past every network namespace and proxy.
  add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), {SCMP_A0(SCMP_CMP_EQ, AF_VSOCK)});
  add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socketpair), {SCMP_A0(SCMP_CMP_EQ, AF_VSOCK)});
  // No setuid or setgid bits: in bind storage such a file lands in the host project, where
  // anyone who runs it would become its owner (the project owner; as root, root). The mount
  // is nosuid too, but that protects only the container's view.
  for (unsigned bit : {static_cast<unsigned>(S_ISUID), static_cast<unsigned>(S_ISGID)}) {
    if (!refuse_suid_modes) break;
    scmp_arg_cmp a1 = SCMP_A1(SCMP_CMP_MASKED_EQ, bit, bit);
    scmp_arg_cmp a2 = SCMP_A2(SCMP_CMP_MASKED_EQ, bit, bit);
    scmp_arg_cmp a3 = SCMP_A3(SCMP_CMP_MASKED_EQ, bit, bit);
    add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(chmod), {a1});
    add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fchmod), {a1});
    add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fchmodat), {a2});
    int fchmodat2 = seccomp_syscall_resolve_name("fchmodat2");
    if (fchmodat2 != __NR_SCMP_ERROR) add(SCMP_ACT_ERRNO(EPERM), fchmodat2, {a2});
    add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(creat), {a1});
    add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mknod), {a1});
    add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mknodat), {a2});
    add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(open), {SCMP_A1(SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT), a2});
    add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat), {SCMP_A2(SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT), a3});
  }
  // openat2 carries its mode in a struct the filter cannot read; libc falls back to openat.
  if (refuse_suid_modes) add(SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(openat2));
  add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI)});
  add(SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX)});
  return rules;
}

// Everything the exported program depends on, in a fixed text form: libseccomp's version, the
// architecture, the default action and every rule with its comparisons.
std::string describe_rules(const std::vector<SeccompRule>& rules) {
  std::string text = "libseccomp " + std::to_string(SCMP_VER_MAJOR) + "." + std::to_string(SCMP_VER_MINOR) + "." +
                     std::to_string(SCMP_VER_MICRO) + " arch " + std::to_string(seccomp_arch_native()) +
                     " default allow\n";
  for (const auto& rule : rules) {
    text += std::to_string(rule.action) + " " + std::to_string(rule.nr);
    for (const auto& cmp : rule.args) {
      text += " [" + std::to_string(cmp.arg) + " " + std::to_string(cmp.op) + " " + std::to_string(cmp.datum_a) + " " +
              std::to_string(cmp.datum_b) + "]";
    }
    text += "\n";
  }
  return text;
}

}  // namespace

std::string describe_seccomp_rules(bool refuse_suid_modes) { return describe_rules(seccomp_rules(refuse_suid_modes)); }

std::string ContainerPaths::seccomp_key() {
  // Both variants: the cache file name adds "-nosuid" for the second.
  static const std::string key = sha256_hex(describe_seccomp_rules(false) + describe_seccomp_rules(true)).substr(0, 16);
  return key;
}

std::vector<sock_filter> build_seccomp_filter(bool refuse_suid_modes) {
  SeccompCtx c{seccomp_init(SCMP_ACT_ALLOW)};
  if (c.ctx == nullptr) throw Error("cannot initialise libseccomp");
  for (const auto& rule : seccomp_rules(refuse_suid_modes)) {
    int rc = seccomp_rule_add_array(c.ctx, rule.action, rule.nr, static_cast<unsigned>(rule.args.size()),
                                    rule.args.empty() ? nullptr : rule.args.data());
    if (rc < 0 && rc != -EEXIST) throw Error(errno_message("cannot add a seccomp rule", -rc));
  }

  UniqueFd mem(::memfd_create("cc-seccomp", MFD_CLOEXEC));
  if (!mem) throw_errno("memfd_create");
  int rc = seccomp_export_bpf(c.ctx, mem.get());
  if (rc < 0) throw Error(errno_message("cannot export the seccomp filter", -rc));
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % sizeof(sock_filter) != 0) throw Error("libseccomp produced a malformed filter");
  std::vector<sock_filter> program(size / sizeof(sock_filter));
  if (::pread(mem.get(), program.data(), size, 0) != size) throw_errno("reading the seccomp filter");
  return program;
}

void save_seccomp_filter(const std::filesystem::path& file, const std::vector<sock_filter>& filter) {
  write_runtime_file(file, std::string(reinterpret_cast<const char*>(filter.data()), filter.size() * sizeof(sock_filter)));
}

std::vector<sock_filter> load_seccomp_filter(const std::filesystem::path& file) {
  auto bytes = read_private_file(file, 1 << 20);  // ours only: a foreign program would run in every process inside
  if (!bytes || bytes->empty() || bytes->size() % sizeof(sock_filter) != 0) return {};
  std::vector<sock_filter> program(bytes->size() / sizeof(sock_filter));
  std::memcpy(program.data(), bytes->data(), bytes->size());
  return program;
}

void remove_stale_seccomp_caches(const std::filesystem::path& state_dir, const std::string& key) {
  UniqueFd dir(::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return;
  DIR* stream = ::fdopendir(::dup(dir.get()));
  if (stream == nullptr) return;
  const std::string current = "seccomp-" + key;
  while (const dirent* entry = ::readdir(stream)) {
    const std::string_view name(entry->d_name);
    const bool cache = name.size() > 12 && name.substr(0, 8) == "seccomp-" && name.substr(name.size() - 4) == ".bpf";
    if (!cache || name.substr(0, current.size()) == current) continue;
    struct stat st {};
    if (::fstatat(dir.get(), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
      ::unlinkat(dir.get(), entry->d_name, 0);
    }
  }
  ::closedir(stream);
}

HardeningPlan make_hardening_plan(const std::filesystem::path& seccomp_cache, bool refuse_suid_modes) {
  HardeningPlan plan = base_hardening_plan();
  plan.seccomp = load_seccomp_filter(seccomp_cache);
  if (plan.seccomp.empty()) plan.seccomp = build_seccomp_filter(refuse_suid_modes);
  return plan;
}

HardeningPlan base_hardening_plan() {
  HardeningPlan plan;
  for (int cap : kKeptCaps) plan.keep_caps |= 1ull << cap;
  if (auto text = read_file_if_exists("/proc/sys/kernel/cap_last_cap")) plan.last_cap = std::atoi(text->c_str());
  plan.landlock_abi = landlock_abi_version();
  plan.landlock_writable = {"/workspace", "/root", "/tmp", "/var/tmp", "/dev", "/run", "/proc"};
  return plan;
}

int apply_hardening(const HardeningPlan& plan, const char** what) noexcept {
  // No core dumps (secrets from memory in the workspace); NPROC, NOFILE, FSIZE (resource_limits.hpp).
  if (int err = apply_rlimits(plan.rlimits, what); err != 0) return err;

  for (int cap = 0; cap <= plan.last_cap && cap < 64; ++cap) {
    if (plan.keep_caps & (1ull << cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      *what = "dropping capabilities from the bounding set";
      return errno;
    }
  }
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  for (int i = 0; i < 2; ++i) {
    std::uint32_t bits = static_cast<std::uint32_t>(plan.keep_caps >> (32 * i));
    data[i].effective = bits;
    data[i].permitted = bits;
    data[i].inheritable = 0;
  }
  if (::syscall(SYS_capset, &header, data) != 0) { *what = "capset"; return errno; }

  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) { *what = "prctl(PR_SET_NO_NEW_PRIVS)"; return errno; }

  if (plan.landlock_abi > 0) {
    landlock_ruleset_attr attr{};
    attr.handled_access_fs = landlock_write_rights(plan.landlock_abi);
    int ruleset = static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0));
    if (ruleset < 0) { *what = "landlock_create_ruleset"; return errno; }
    for (const auto& path : plan.landlock_writable) {
      int dir = ::open(path.c_str(), O_PATH | O_CLOEXEC | O_DIRECTORY);
      if (dir < 0) continue;  // not present in this container
      landlock_path_beneath_attr beneath{};
      beneath.allowed_access = attr.handled_access_fs;
      beneath.parent_fd = dir;
      long rc = ::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0);
      int err = errno;
      ::close(dir);
      if (rc != 0) { ::close(ruleset); *what = "landlock_add_rule"; return err; }
    }
    long rc = ::syscall(SYS_landlock_restrict_self, ruleset, 0);
    int err = errno;
    ::close(ruleset);
    if (rc != 0) { *what = "landlock_restrict_self"; return err; }
  }

  if (!plan.seccomp.empty()) {
    sock_fprog prog{static_cast<unsigned short>(plan.seccomp.size()), const_cast<sock_filter*>(plan.seccomp.data())};
    if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) { *what = "installing the seccomp filter"; return errno; }
  }
  return 0;
}

std::vector<LimitStatus> hardening_status(const HardeningPlan& plan) {
  std::vector<LimitStatus> out;
  out.push_back({"no_new_privs", "on", true, "prctl(PR_SET_NO_NEW_PRIVS)"});
  out.push_back({"seccomp", std::to_string(plan.seccomp.size()) + " BPF instructions", !plan.seccomp.empty(),
                 "denylist returning EPERM: keyrings, bpf, modules, kexec, mount API, setns, nested user namespaces, "
                 "clocks, TIOCSTI, userfaultfd, perf_event_open, io_uring, AF_VSOCK sockets, and with bind storage "
                 "setuid/setgid file modes"});
  out.push_back({"capabilities", std::to_string(sizeof(kKeptCaps) / sizeof(kKeptCaps[0])) + " kept", true,
                 "container default set; no CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_PTRACE, CAP_SYS_MODULE, "
                 "CAP_SETFCAP"});
  if (plan.landlock_abi > 0) {
    out.push_back({"landlock", "ABI " + std::to_string(plan.landlock_abi), true,
                   "writes only under /workspace, /root, /tmp, /var/tmp, /dev, /run, /proc"});
  } else {
    out.push_back({"landlock", "", false, "not enforced: the kernel has no Landlock (or it is disabled at boot)"});
  }
  for (auto& limit : rlimit_status(plan.rlimits)) out.push_back(std::move(limit));
  return out;
}

}  // namespace cc::engine::native
