#include "engine/native/skills_mount.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <cerrno>
#include <cstring>

#include "engine/native/child_report.hpp"
#include "engine/native/state_dir.hpp"
#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace cc::engine::native {

namespace fs = std::filesystem;

namespace {

// Creates the entry `name` below `dir` (a directory or an empty file) owned by the container's root.
bool create_entry(int dir, const std::string& name, bool directory, uid_t uid, gid_t gid) {
  if (directory) {
    if (::mkdirat(dir, name.c_str(), 0755) != 0) return false;
  } else {
    int fd = ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    ::close(fd);
  }
  return ::fchownat(dir, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) == 0 || errno == EPERM;
}

// Makes `name` below `dir` an entry of the right type: a planted symlink is removed (never
// followed), a missing entry created. False (with a note) when something else is in the way.
bool prepare_target(int dir, const std::string& name, bool directory, uid_t uid, gid_t gid, const std::string& shown,
                    std::vector<std::string>& notes) {
  struct stat st {};
  if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode)) {
      if (::unlinkat(dir, name.c_str(), 0) != 0) {
        notes.push_back("skills: " + shown + " in the container's home is a symbolic link that could not be removed (" +
                        std::strerror(errno) + "), so it is not shared");
        return false;
      }
      notes.push_back("skills: " + shown + " in the container's home was a symbolic link (left by an earlier run); it was removed, not followed");
    } else if (directory ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) {
      return true;
    } else {
      notes.push_back("skills: " + shown + " in the container's home is not a " + (directory ? "directory" : "regular file") +
                      ", so the host's is not shared; remove it inside (`claude-container exec -- rm -r " + shown + "`)");
      return false;
    }
  } else if (errno != ENOENT) {
    notes.push_back("skills: cannot inspect " + shown + " in the container's home: " + std::strerror(errno));
    return false;
  }
  if (!create_entry(dir, name, directory, uid, gid)) {
    notes.push_back("skills: cannot create " + shown + " in the container's home: " + std::strerror(errno));
    return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> plan_skill_mounts(RootfsPlan& plan, const fs::path& home,
                                           const std::vector<integrations::SkillItem>& items, uid_t uid, gid_t gid) {
  std::vector<std::string> notes;
  if (items.empty()) return notes;
  UniqueFd root = beneath::open_root(home);
  const std::string base = std::string("/root/") + kSkillsHomeDir;
  if (!prepare_target(root.get(), kSkillsHomeDir, true, uid, gid, base, notes)) return notes;
  UniqueFd dir = beneath::open_at(root.get(), kSkillsHomeDir, O_PATH | O_DIRECTORY);
  if (!dir) {
    notes.push_back("skills: cannot open " + base + " in the container's home: " + std::strerror(errno));
    return notes;
  }
  for (const auto& item : items) {
    if (!prepare_target(dir.get(), item.name, item.directory, uid, gid, base + "/" + item.name, notes)) continue;
    MountStep step{MountStep::Kind::bind_beneath, item.source.string(), "./root", "", "", item.directory ? mode_t{0755} : mode_t{0644},
                   std::string(kSkillsHomeDir) + "/" + item.name};
    plan.steps.push_back(std::move(step));
    plan.described.push_back({base + "/" + item.name, item.source.string() + " (skills, read-only)", true});
  }
  return notes;
}

int attach_skill_tree(int tree, const char* base, const char* relative, bool replace) noexcept {
  struct stat st {};
  if (::fstat(tree, &st) != 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
    return ELOOP;  // the host entry became a link or something else since it was listed
  }
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) return errno;
  // relative = "<parent>/<name>" (".claude/skills").
  const char* slash = std::strrchr(relative, '/');
  char parent_name[64];
  if (slash == nullptr || static_cast<std::size_t>(slash - relative) >= sizeof(parent_name)) return EINVAL;
  std::memcpy(parent_name, relative, static_cast<std::size_t>(slash - relative));
  parent_name[slash - relative] = '\0';
  const char* name = slash + 1;

  int root = ::open(base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) return errno;
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  // A refresh may find ".claude" missing (nothing shared at start): make it, never through a link.
  if (replace && ::mkdirat(root, parent_name, 0755) != 0 && errno != EEXIST) {
    int err = errno;
    ::close(root);
    return err;
  }
  int parent = static_cast<int>(::syscall(SYS_openat2, root, parent_name, &how, sizeof(how)));
  int err = errno;
  ::close(root);
  if (parent < 0) return err;
  if (replace) {
    // Detach the previous share so mounts do not stack up: by its name relative to the parent
    // we opened without following a link, and UMOUNT_NOFOLLOW for the name itself (a planted
    // link is left alone, and refused below). Not a mount point: EINVAL, nothing to detach.
    if (::fchdir(parent) == 0) ::umount2(name, MNT_DETACH | UMOUNT_NOFOLLOW);
    // Shared since the start: create the mount point.
    if (S_ISDIR(st.st_mode)) {
      ::mkdirat(parent, name, 0755);
    } else {
      int file = ::openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (file >= 0) ::close(file);
    }
  }
  int node = static_cast<int>(::syscall(SYS_openat2, parent, name, &how, sizeof(how)));
  err = errno;
  ::close(parent);
  if (node < 0) return err;
  int rc = static_cast<int>(::syscall(SYS_move_mount, tree, "", node, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
  err = errno;
  ::close(node);
  return rc == 0 ? 0 : err;
}

int mount_skill_item(const char* source, const char* base, const char* relative) noexcept {
  // `source` is /proc/self/fd/N (plan_private_fds), opened without following a link: the
  // magic link must be followed to reach it.
  int tree = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  if (tree < 0) return errno;
  int err = attach_skill_tree(tree, base, relative, false);
  ::close(tree);
  return err;
}

namespace {

// Sends one descriptor over a unix socket.
bool send_fd(int sock, int fd) noexcept {
  char byte = 'F';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  return ::sendmsg(sock, &msg, MSG_NOSIGNAL) == 1;
}

int receive_fd(int sock) noexcept {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  if (::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1) return -1;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) return -1;
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
  return fd;
}

int wait_child(pid_t pid) noexcept {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

}  // namespace

SkillRefresh refresh_skill_mounts(pid_t init_pid, std::uint64_t init_start_time,
                                  const std::vector<integrations::SkillItem>& items) {
  SkillRefresh result;
  if (items.empty()) return result;
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, init_pid, 0)));
  if (!pidfd || process_start_time(init_pid) != init_start_time) {
    throw Error("refreshing the skills failed: the container's init process is gone. Start the container again.");
  }
  // Everything the children need, prepared before fork (they do not allocate).
  std::vector<std::string> sources, relatives;
  for (const auto& item : items) {
    sources.push_back(item.source.string());
    relatives.push_back(std::string(kSkillsHomeDir) + "/" + item.name);
  }
  int report_pipe[2];
  if (::pipe2(report_pipe, O_CLOEXEC) != 0) throw_errno("refreshing the skills failed: pipe");
  UniqueFd report_read(report_pipe[0]), report_write(report_pipe[1]);
  int socks[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks) != 0) throw_errno("refreshing the skills failed: socketpair");
  UniqueFd cloner_sock(socks[0]), mounter_sock(socks[1]);

  // The cloner: its own user and mount namespace (a copy of ours), where it may clone the
  // host entries into detached mounts, which it passes on. One record per item: 'R' or 'E'.
  pid_t cloner = ::fork();
  if (cloner < 0) throw_errno("refreshing the skills failed: fork");
  if (cloner == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      send_report(report_write.get(), 'E', errno, "creating a namespace to clone the host's skills in");
      ::_exit(1);
    }
    for (const auto& source : sources) {
      int tree = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, source.c_str(),
                                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW));
      if (tree < 0 || !send_fd(cloner_sock.get(), tree)) {
        send_report(report_write.get(), 'E', errno, "cloning a host entry", source.c_str());
        ::_exit(1);
      }
      ::close(tree);
    }
    ::_exit(0);
  }
  // The mounter: joins the container's user and mount namespaces and puts each tree in place.
  pid_t mounter = ::fork();
  if (mounter < 0) {
    ::kill(cloner, SIGKILL);
    wait_child(cloner);
    throw_errno("refreshing the skills failed: fork");
  }
  if (mounter == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::setns(pidfd.get(), CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      send_report(report_write.get(), 'E', errno, "joining the container's namespaces (setns)");
      ::_exit(1);
    }
    // Our host ids came along; act as the container's root (as root on the host, a subordinate id).
    if (::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
      send_report(report_write.get(), 'E', errno, "switching to the container's root");
      ::_exit(1);
    }
    for (std::size_t i = 0; i < sources.size(); ++i) {
      int tree = receive_fd(mounter_sock.get());
      if (tree < 0) ::_exit(1);  // the cloner reported why
      int err = attach_skill_tree(tree, "/root", relatives[i].c_str(), true);
      ::close(tree);
      send_report(report_write.get(), err == 0 ? 'R' : 'E', err, "mounting into the running container", relatives[i].c_str());
    }
    ::_exit(0);
  }
  report_write.reset();
  cloner_sock.reset();
  mounter_sock.reset();
  ChildReport report;
  std::size_t index = 0;
  std::string failure;
  while (::read(report_read.get(), &report, sizeof(report)) == static_cast<ssize_t>(sizeof(report))) {
    if (report.tag == 'R' && index < items.size()) {
      result.mounted.push_back(items[index].name);
    } else {
      std::string line = std::string(report.what) + (report.detail[0] != '\0' ? std::string(" ") + report.detail : "") +
                         ": " + std::strerror(report.err);
      if (std::strcmp(report.what, "mounting into the running container") == 0) {
        result.notes.push_back("skills: " + line);
      } else if (failure.empty()) {
        failure = line;
      }
    }
    if (std::strcmp(report.what, "mounting into the running container") == 0) ++index;
  }
  wait_child(cloner);
  wait_child(mounter);
  if (!failure.empty() && result.mounted.empty()) {
    throw Error("refreshing the skills failed: " + failure + ". Restart the container (`claude-container stop` then `start`) to share them again.");
  }
  if (!failure.empty()) result.notes.push_back("skills: " + failure);
  return result;
}

}  // namespace cc::engine::native
