#include "engine/native/sandbox.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/native/cgroups.hpp"
#include "engine/native/child_report.hpp"
#include "engine/native/fd_passing.hpp"
#include "engine/native/id_mapping.hpp"
#include "net/credential_gateway.hpp"
#include "net/proxy_listener.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

extern char** environ;

namespace cc::engine::native {

namespace {

struct CloneArgs {
  std::uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

int write_proc_file(pid_t pid, const char* name, const std::string& content) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) return errno;
  return 0;
}

int bring_up_loopback() noexcept {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return errno;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, "lo", 3);
  int err = 0;
  if (::ioctl(sock, SIOCGIFFLAGS, &ifr) != 0) {
    err = errno;
  } else {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(sock, SIOCSIFFLAGS, &ifr) != 0) err = errno;
  }
  ::close(sock);
  return err;
}

// CAP_NET_RAW is dropped (hardening.cpp), so ping needs ICMP datagram sockets, which the
// kernel allows only to the groups in this sysctl (none in a new network namespace). Open it
// to every group mapped into the container: the widest range this user namespace maps (root:
// its subordinate range; rootless: one id). Best effort: without it ping alone fails.
void allow_icmp_sockets() noexcept {
  for (const char* range : {"0 2147483647", "0 65535", "0 0"}) {
    int fd = ::open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return;
    bool ok = ::write(fd, range, std::strlen(range)) == static_cast<ssize_t>(std::strlen(range));
    ::close(fd);
    if (ok) return;
  }
}

// The sandbox child. Allocation-free and noexcept: every failure is one report to the parent.
[[noreturn]] void sandbox_child(const SandboxPlan& plan, int sock, char* init_fd_arg) noexcept {
  // Die with the supervisor; if it is already gone the socket read below sees EOF.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // Keep only stdio (the container log), the setup socket and the mounts to attach.
  {
    unsigned next = 3;
    auto keep = [&](int fd) {
      if (fd < static_cast<int>(next)) return;
      if (static_cast<unsigned>(fd) > next) ::syscall(SYS_close_range, next, static_cast<unsigned>(fd) - 1, 0);
      next = static_cast<unsigned>(fd) + 1;
    };
    bool sock_kept = false;
    for (int fd : plan.keep_fds) {
      if (!sock_kept && sock < fd) {
        keep(sock);
        sock_kept = true;
      }
      keep(fd);
    }
    if (!sock_kept) keep(sock);
    ::syscall(SYS_close_range, next, ~0U, 0);
  }

  // Until it executes pid 1's program we are a copy of the supervisor: wipe what of its
  // environment and secrets a process inside could read meanwhile through /proc/1.
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) std::memset(*e, 0, std::strlen(*e));
  // Likewise the real credential the supervisor holds for the gateway: pid 1's memory can be
  // read by processes inside (same user, ptrace allowed). Its other copies were wiped where made.
  if (plan.wipe_data != nullptr) ::explicit_bzero(plan.wipe_data, plan.wipe_size);
  if (plan.wipe_git_data != nullptr) ::explicit_bzero(plan.wipe_git_data, plan.wipe_git_size);

  char go = 0;
  if (::read(sock, &go, 1) != 1 || go != 'G') ::_exit(1);

  auto fail = [&](int err, const char* what, const char* detail) {
    send_report(sock, 'E', err, what, detail);
    ::_exit(1);
  };
  // A cgroup namespace rooted at the cgroup the parent just placed us in.
  if (::unshare(CLONE_NEWCGROUP) != 0) fail(errno, "creating the cgroup namespace", nullptr);
  // As root the state and data directories are root's 0700, which the container's root (a
  // subordinate id) may not traverse: open what the root filesystem needs from there first.
  const char* what = "";
  const char* detail = "";
  if (int err = open_private_fds(plan.rootfs, &detail); err != 0) fail(err, "opening the container's directories", detail);
  if (::setresgid(0, 0, 0) != 0) fail(errno, "switching to gid 0 inside the user namespace", nullptr);
  if (!plan.deny_setgroups && ::setgroups(0, nullptr) != 0) fail(errno, "clearing supplementary groups", nullptr);
  if (::setresuid(0, 0, 0) != 0) fail(errno, "switching to uid 0 inside the user namespace", nullptr);
  if (::sethostname(plan.hostname.data(), plan.hostname.size()) != 0) fail(errno, "setting the hostname", nullptr);

  // Before the new /proc makes /proc/sys read-only; the host's /proc shows our own netns here.
  if (plan.own_netns) allow_icmp_sockets();
  if (int err = build_rootfs(plan.rootfs, &what, &detail); err != 0) fail(err, what, detail);

  int fds[kMaxPassedFds] = {-1, -1, -1, -1};
  int count = 0;
  if (plan.own_netns) {
    if (int err = bring_up_loopback(); err != 0) fail(err, "bringing up the loopback interface", "lo");
  }
  if (plan.proxy_listeners) {
    const char* lwhat = "";
    if (int err = net::create_proxy_listeners(net::kProxyPort, fds, &lwhat); err != 0) {
      fail(err, "creating the egress proxy's listening sockets inside the sandbox", lwhat);
    }
    count = fds[1] >= 0 ? 2 : 1;
  }
  const int proxy_count = count;
  if (plan.gateway_listeners) {
    const char* lwhat = "";
    int gateway[2] = {-1, -1};
    if (int err = net::create_proxy_listeners(net::kGatewayPort, gateway, &lwhat); err != 0) {
      fail(err, "creating the credential gateway's listening sockets inside the sandbox", lwhat);
    }
    fds[count++] = gateway[0];
    if (gateway[1] >= 0) fds[count++] = gateway[1];
  }
  if (int err = apply_hardening(plan.hardening, &what); err != 0) fail(err, what, "pid 1");

  ChildReport ready;
  ready.tag = 'R';
  ready.first_group = proxy_count;
  if (send_report_with_fds(sock, ready, fds, count) != 0) ::_exit(1);
  for (int i = 0; i < count; ++i) ::close(fds[i]);
  // pid 1 becomes a program of its own (init_image.hpp): none of the supervisor's memory stays,
  // and /proc/1/exe leads to no host file. It keeps stdio (the log) and the setup socket only.
  ::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  ::fcntl(sock, F_SETFD, 0);
  char init_name[] = "claude-container-init";
  char* const argv[] = {init_name, init_fd_arg, nullptr};
  char* const envp[] = {nullptr};
  ::syscall(SYS_execveat, plan.init_image_fd, "", argv, envp, AT_EMPTY_PATH);
  // Too late for a report (the container was reported ready): the log says it, and the
  // supervisor sees pid 1 end.
  const char message[] = "[init] cannot execute the container's pid 1 program; the container ends\n";
  ssize_t ignored = ::write(STDOUT_FILENO, message, sizeof(message) - 1);
  (void)ignored;
  ::_exit(127);
}

}  // namespace

std::string plan_id_maps(SandboxPlan& plan) {
  uid_t uid = ::geteuid();
  gid_t gid = ::getegid();
  if (uid != 0) {
    plan.uid_map = "0 " + std::to_string(uid) + " 1\n";
    plan.gid_map = "0 " + std::to_string(gid) + " 1\n";
    plan.deny_setgroups = true;
    return "";
  }
  std::string note;
  SubordinateRange range = root_subordinate_range(&note);
  plan.uid_map = "0 " + std::to_string(range.uid_start) + " " + std::to_string(range.count) + "\n";
  plan.gid_map = "0 " + std::to_string(range.gid_start) + " " + std::to_string(range.count) + "\n";
  plan.deny_setgroups = false;
  return note;
}

std::string explain_userns_failure(int err) {
  std::string base = errno_message("cannot create the container's user namespace", err);
  auto value = [](const char* file) {
    auto text = read_file_if_exists(file);
    return text ? std::string(text->substr(0, text->find('\n'))) : std::string();
  };
  if (value("/proc/sys/kernel/unprivileged_userns_clone") == "0") {
    return base + ": unprivileged user namespaces are disabled; enable them with "
                  "`sudo sysctl -w kernel.unprivileged_userns_clone=1`.";
  }
  if (value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1") {
    return base + ": AppArmor restricts unprivileged user namespaces; allow them with "
                  "`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` or an AppArmor profile for "
                  "claude-container granting `userns`.";
  }
  if (value("/proc/sys/user/max_user_namespaces") == "0") {
    return base + ": user namespaces are disabled (user.max_user_namespaces=0); enable them with "
                  "`sudo sysctl -w user.max_user_namespaces=15000`.";
  }
  if (err == ENOSPC) return base + ": the limit of user namespaces is reached (user.max_user_namespaces).";
  return base + ". The native engine needs user namespaces; run `claude-container doctor`.";
}

Sandbox spawn_sandbox(const SandboxPlan& plan) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) throw_errno("socketpair");
  UniqueFd ours(pair[0]), theirs(pair[1]);

  if (plan.init_image_fd < 0) throw Error("internal error: the sandbox plan has no image for pid 1");
  char init_fd_arg[16];  // pid 1's argv[1]: its end of the setup socket (formatted before clone)
  std::snprintf(init_fd_arg, sizeof(init_fd_arg), "%d", theirs.get());

  std::uint64_t flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  if (plan.own_netns) flags |= CLONE_NEWNET;
  int pidfd = -1;
  CloneArgs args{};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uintptr_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof(args));
  if (pid < 0) {
    int err = errno;
    if (err == EPERM || err == EACCES || err == ENOSPC || err == EINVAL) throw Error(explain_userns_failure(err));
    throw Error(errno_message("cannot create the container process (clone3)", err));
  }
  if (pid == 0) sandbox_child(plan, theirs.get(), init_fd_arg);

  Sandbox sandbox;
  sandbox.pid = static_cast<pid_t>(pid);
  sandbox.pidfd.reset(pidfd);
  theirs.reset();
  auto abort_child = [&]() {
    ::kill(sandbox.pid, SIGKILL);
    ::waitpid(sandbox.pid, nullptr, 0);
  };

  int err = 0;
  if (plan.deny_setgroups) err = write_proc_file(sandbox.pid, "setgroups", "deny");
  if (err == 0) err = write_proc_file(sandbox.pid, "uid_map", plan.uid_map);
  if (err == 0) err = write_proc_file(sandbox.pid, "gid_map", plan.gid_map);
  if (err != 0) {
    abort_child();
    if (err == EPERM || err == EACCES) throw Error(explain_userns_failure(err));
    throw Error(errno_message("cannot write the container's uid/gid maps", err));
  }
  sandbox.cgroup_problem = join_cgroups(plan.cgroup_dirs, sandbox.pid);

  if (::write(ours.get(), "G", 1) != 1) {
    int e = errno;
    abort_child();
    throw Error(errno_message("cannot signal the container process", e));
  }
  ChildReport report;
  int fds[kMaxPassedFds] = {-1, -1, -1, -1};
  int count = 0;
  ssize_t n = receive_report_with_fds(ours.get(), &report, fds, &count);
  for (int i = 0; i < count; ++i) {
    // The proxy's come first; the rest are the gateway's.
    (i < report.first_group ? sandbox.listeners : sandbox.gateway_listeners).emplace_back(fds[i]);
  }
  if (n != static_cast<ssize_t>(sizeof(report)) || report.tag != 'R') {
    abort_child();
    if (n == static_cast<ssize_t>(sizeof(report)) && report.tag == 'E') {
      std::string message = "cannot set up the container: " + std::string(report.what);
      if (report.detail[0] != '\0') message += " (" + std::string(report.detail) + ")";
      message += ": " + std::string(std::strerror(report.err));
      if (report.err == EPERM || report.err == EACCES) {
        message += ". The kernel refused it inside the user namespace; check `claude-container doctor`";
      }
      throw Error(message + ".");
    }
    throw Error("the container process ended during setup without saying why; see `claude-container logs`.");
  }
  sandbox.control = std::move(ours);
  return sandbox;
}

}  // namespace cc::engine::native
