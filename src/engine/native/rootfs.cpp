#include "engine/native/rootfs.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "engine/native/skills_mount.hpp"
#include "project/control_files.hpp"
#include "util/error.hpp"

namespace cc::engine::native {

namespace fs = std::filesystem;
using Kind = MountStep::Kind;

namespace {

bool host_is(const fs::path& p, fs::file_type type) {
  std::error_code ec;
  return fs::symlink_status(p, ec).type() == type;
}

// Secrets in the host's /etc that stay invisible even though /etc is shared read-only.
const char* const kSecretFiles[] = {"shadow", "gshadow", "shadow-", "gshadow-", "sudoers", "security/opasswd",
                                    "ssh/ssh_host_rsa_key", "ssh/ssh_host_ecdsa_key", "ssh/ssh_host_ed25519_key",
                                    "ssh/ssh_host_dsa_key", "docker/key.json", "containers/auth.json"};
const char* const kSecretDirs[] = {"sudoers.d", "ssl/private", "NetworkManager/system-connections", "wireguard",
                                   "ipsec.d/private", "letsencrypt"};

// The /proc entries runc and crun hide from containers (their default maskedPaths, plus
// /proc/interrupts as Docker does): kernel memory, the keys of every user, timer and scheduler
// internals that leak host activity or help exploits. Files get /dev/null over them,
// directories an empty read-only tmpfs; an entry this kernel lacks is skipped in the child.
const char* const kMaskedProc[] = {"/proc/acpi",        "/proc/asound",     "/proc/interrupts", "/proc/kcore",
                                   "/proc/keys",        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                                   "/proc/sched_debug", "/proc/scsi"};
// And the ones they leave visible but read-only (the kernel's tunables and triggers).
const char* const kReadOnlyProc[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

bool below(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

}  // namespace

void plan_private_fds(RootfsPlan& plan, const std::vector<std::string>& private_dirs) {
  constexpr int kFirstFd = 200;  // above anything the child holds, below RLIMIT_NOFILE's usual 1024
  auto open_path = [&](const std::string& path) {
    int fd = kFirstFd + static_cast<int>(plan.open_first.size());
    plan.open_first.push_back({path, fd});
    return "/proc/self/fd/" + std::to_string(fd);
  };
  auto is_private = [&](const std::string& path) {
    for (const auto& dir : private_dirs) {
      if (path == dir || below(path, dir)) return true;
    }
    return false;
  };
  open_path(plan.new_root);
  plan.root_fd = plan.open_first.back().fd;
  for (auto& step : plan.steps) {
    if ((step.kind == Kind::bind_rw || step.kind == Kind::bind_ro) && (is_private(step.source) || step.host_ids)) {
      step.source = open_path(step.source);
    }
    if (step.kind == Kind::bind_beneath) {
      // The host's skills, opened with the host's ids: a home directory is not traversable by
      // the container's root when that is a subordinate id.
      step.source = open_path(step.source);
      plan.open_first.back().directory = step.mode == 0755;
    }
    if (step.kind == Kind::overlay) {
      if (is_private(step.upper)) step.upper = open_path(step.upper);
      if (is_private(step.work)) step.work = open_path(step.work);
    }
  }
}

int open_private_fds(const RootfsPlan& plan, const char** detail) noexcept {
  for (const auto& entry : plan.open_first) {
    *detail = entry.path.c_str();
    int fd = ::open(entry.path.c_str(), O_PATH | O_CLOEXEC | (entry.directory ? O_DIRECTORY : O_NOFOLLOW));
    if (fd < 0) return errno;
    if (fd != entry.fd) {
      int rc = ::dup3(fd, entry.fd, O_CLOEXEC);
      int err = errno;
      ::close(fd);
      if (rc < 0) return err;
    }
  }
  return 0;
}

RootfsPlan plan_rootfs(const ContainerPaths& paths, const fs::path& project_dir, config::StorageType storage,
                       bool relax_git) {
  RootfsPlan plan;
  plan.new_root = paths.root_mountpoint().string();
  const std::string R = ".";  // targets relative to the new root (see RootfsPlan)
  auto add = [&](Kind kind, std::string source, const std::string& target, mode_t mode = 0755) {
    MountStep step{kind, std::move(source), R + target, "", "", mode};
    plan.steps.push_back(std::move(step));
  };
  auto describe = [&](std::string dst, std::string src, bool ro) {
    plan.described.push_back({std::move(dst), std::move(src), ro});
  };

  for (const char* dir : {"/usr", "/etc", "/opt"}) {
    if (host_is(dir, fs::file_type::directory)) {
      add(Kind::bind_ro, dir, dir);
      describe(dir, dir, true);
    }
  }
  for (const char* dir : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    if (host_is(dir, fs::file_type::symlink)) {
      std::error_code ec;
      auto target = fs::read_symlink(dir, ec);
      if (!ec) add(Kind::symlink, target.string(), dir);
    } else if (host_is(dir, fs::file_type::directory)) {
      add(Kind::bind_ro, dir, dir);
      describe(dir, dir, true);
    }
  }
  for (const char* name : kSecretFiles) {
    fs::path p = fs::path("/etc") / name;
    if (host_is(p, fs::file_type::regular)) add(Kind::mask_file, "", p.string());
  }
  for (const char* name : kSecretDirs) {
    fs::path p = fs::path("/etc") / name;
    if (host_is(p, fs::file_type::directory)) add(Kind::mask_dir, "", p.string());
  }

  add(Kind::proc, "", "/proc");
  describe("/proc",
           "proc (kcore, keys, timer_list and the rest runc masks read as empty; sys, sysrq-trigger, irq, bus, fs "
           "read-only)",
           false);
  for (const char* p : kMaskedProc) add(Kind::mask_proc, "", p);
  for (const char* p : kReadOnlyProc) add(Kind::make_ro, "", p);

  add(Kind::tmpfs, "mode=755,size=1m,uid=0,gid=0", "/dev");
  describe("/dev", "tmpfs (null zero full random urandom tty, devpts)", false);
  for (const char* node : {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"}) {
    add(Kind::dev_node, node, node);
  }
  add(Kind::devpts, "newinstance,ptmxmode=0666,mode=620", "/dev/pts");
  add(Kind::symlink, "pts/ptmx", "/dev/ptmx");
  add(Kind::tmpfs, "mode=1777,uid=0,gid=0", "/dev/shm");
  add(Kind::symlink, "/proc/self/fd", "/dev/fd");
  add(Kind::symlink, "/proc/self/fd/0", "/dev/stdin");
  add(Kind::symlink, "/proc/self/fd/1", "/dev/stdout");
  add(Kind::symlink, "/proc/self/fd/2", "/dev/stderr");

  add(Kind::tmpfs, "mode=1777,uid=0,gid=0", "/tmp");
  describe("/tmp", "tmpfs", false);
  add(Kind::tmpfs, "mode=755,uid=0,gid=0", "/run");
  add(Kind::tmpfs, "mode=755,uid=0,gid=0", "/var");
  add(Kind::mkdir, "", "/var/tmp", 01777);
  add(Kind::symlink, "../run", "/var/run");
  add(Kind::mkdir, "", "/home", 0755);

  add(Kind::bind_rw, paths.home_dir().string(), "/root");
  describe("/root", paths.home_dir().string(), false);

  switch (storage) {
    case config::StorageType::volume:
      add(Kind::bind_rw, paths.volume_dir().string(), "/workspace");
      describe("/workspace", paths.volume_dir().string() + " (volume)", false);
      break;
    case config::StorageType::bind:
      if (::geteuid() == 0) {
        // As root the container's root is a subordinate id: the project is mounted idmapped so
        // that its owner's files are the container root's, and what it makes is the owner's.
        MountStep step{Kind::attach, project_dir.string(), R + "/workspace", "", "", 0, "", true, -1, false};
        plan.steps.push_back(std::move(step));
      } else {
        add(Kind::bind_rw, project_dir.string(), "/workspace");
      }
      describe("/workspace", project_dir.string() + " (bind)", false);
      for (const auto& control : project::control_paths()) {
        if (relax_git && control.git) continue;
        std::error_code ec;
        if (!fs::exists(fs::symlink_status(project_dir / control.path, ec))) continue;  // see README: missing ones
        MountStep step{Kind::protect, "", R + "/workspace", "", "", 0, std::string(control.path)};
        plan.steps.push_back(std::move(step));
        describe("/workspace/" + std::string(control.path), "the project's own, read-only (a control file)", true);
      }
      break;
    case config::StorageType::hybrid: {
      std::string lower = project_dir.string();
      if (::geteuid() == 0) {
        // The lower layer idmapped like a bind project, so copy-up keeps the owner's files the
        // container root's; it is attached only while the overlay is made.
        lower = "./.lower";
        plan.steps.push_back(MountStep{Kind::attach, project_dir.string(), lower, "", "", 0, "", true, -1, true});
      }
      MountStep step{Kind::overlay, lower, R + "/workspace", paths.upper_dir().string(),
                     paths.work_dir().string(), 0755};
      plan.steps.push_back(std::move(step));
      if (::geteuid() == 0) plan.steps.push_back(MountStep{Kind::detach, "", lower, "", "", 0});
      describe("/workspace", "overlay: " + project_dir.string() + " read-only + " + paths.upper_dir().string(), false);
      break;
    }
  }
  return plan;
}

namespace {

// Clones the tree at `source` (recursively), applies `attrs` to all of it, attaches it at `target`.
int attach_clone(const char* source, const char* target, unsigned long long attrs) noexcept {
  int tree = static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  if (tree < 0) return errno;
  if (attrs != 0) {
    mount_attr attr{};
    attr.attr_set = attrs;
    if (::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) != 0) {
      int err = errno;
      ::close(tree);
      return err;
    }
  }
  int rc = static_cast<int>(::syscall(SYS_move_mount, tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH));
  int err = errno;
  ::close(tree);
  return rc == 0 ? 0 : err;
}

int make_dir(const char* path, mode_t mode) noexcept {
  if (::mkdir(path, mode) != 0 && errno != EEXIST) return errno;
  return 0;
}

int make_file(const char* path) noexcept {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 && errno != EEXIST) return errno;
  if (fd >= 0) ::close(fd);
  return 0;
}

int mount_overlay(const MountStep& step) noexcept {
  int fsfd = static_cast<int>(::syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC));
  if (fsfd < 0) return errno;
  auto set = [&](const char* key, const char* value) {
    return ::syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, key, value, 0) == 0;
  };
  // "lowerdir+" (Linux 6.8) takes the path as is; older kernels parse "lowerdir", where ':' and
  // ',' would split it, so such project paths need 6.8.
  bool lower_ok = set("lowerdir+", step.source.c_str()) ||
                  (errno == EINVAL && std::strpbrk(step.source.c_str(), ":,\\") == nullptr &&
                   set("lowerdir", step.source.c_str()));
  bool ok = lower_ok && set("upperdir", step.upper.c_str()) &&
            set("workdir", step.work.c_str()) &&
            ::syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, "userxattr", nullptr, 0) == 0 &&
            ::syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0;
  if (!ok) {
    int err = errno;
    ::close(fsfd);
    return err;
  }
  int mnt = static_cast<int>(::syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
  int err = errno;
  ::close(fsfd);
  if (mnt < 0) return err;
  int rc = static_cast<int>(::syscall(SYS_move_mount, mnt, "", AT_FDCWD, step.target.c_str(), MOVE_MOUNT_F_EMPTY_PATH));
  err = errno;
  ::close(mnt);
  return rc == 0 ? 0 : err;
}

// Mounts the control path `s.relative` below the workspace read-only over itself. Resolved
// without following any symlink (a repository may ship them), beneath the workspace. A control
// path that is itself a symlink gets an empty read-only file over it, so it can be neither
// followed nor replaced.
int protect_control_path(const MountStep& s) noexcept {
  int root = ::open(s.target.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return errno;
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  int node = static_cast<int>(::syscall(SYS_openat2, root, s.relative.c_str(), &how, sizeof(how)));
  int err = errno;
  bool symlink = false;
  if (node < 0 && err == ELOOP) {
    // The last component may be the symlink: open it without following, beneath its parent.
    const char* slash = std::strrchr(s.relative.c_str(), '/');
    int parent = root;
    char parent_path[256];
    if (slash != nullptr) {
      std::size_t n = static_cast<std::size_t>(slash - s.relative.c_str());
      if (n >= sizeof(parent_path)) { ::close(root); return ENAMETOOLONG; }
      std::memcpy(parent_path, s.relative.c_str(), n);
      parent_path[n] = '\0';
      parent = static_cast<int>(::syscall(SYS_openat2, root, parent_path, &how, sizeof(how)));
    }
    if (parent >= 0) {
      node = ::openat(parent, slash != nullptr ? slash + 1 : s.relative.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
      err = errno;
      if (parent != root) ::close(parent);
      symlink = node >= 0;
    } else {
      err = errno;
    }
  }
  ::close(root);
  if (node < 0) return err == ENOENT ? 0 : err;  // gone since the plan: nothing to protect
  int tree = symlink ? static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC))
                     : static_cast<int>(::syscall(SYS_open_tree, node, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
                                                                            AT_RECURSIVE | AT_EMPTY_PATH));
  if (tree < 0) {
    err = errno;
    ::close(node);
    return err;
  }
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (symlink ? MOUNT_ATTR_NOEXEC : 0);
  int rc = static_cast<int>(::syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)));
  if (rc == 0) {
    rc = static_cast<int>(::syscall(SYS_move_mount, tree, "", node, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH));
  }
  err = errno;
  ::close(tree);
  ::close(node);
  return rc == 0 ? 0 : err;
}

int run_step(const MountStep& s, const char** what) noexcept {
  const char* target = s.target.c_str();
  int err = 0;
  switch (s.kind) {
    case Kind::bind_ro:
    case Kind::bind_rw:
      *what = s.kind == Kind::bind_ro ? "read-only bind mount" : "bind mount";
      if ((err = make_dir(target, 0755)) != 0) return err;
      return attach_clone(s.source.c_str(), target,
                          MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (s.kind == Kind::bind_ro ? MOUNT_ATTR_RDONLY : 0));
    case Kind::dev_node:
      *what = "bind mount of a device node";
      if ((err = make_file(target)) != 0) return err;
      return attach_clone(s.source.c_str(), target, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    case Kind::tmpfs:
      *what = "tmpfs mount";
      if ((err = make_dir(target, 0755)) != 0) return err;
      return ::mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, s.source.c_str()) == 0 ? 0 : errno;
    case Kind::detach:
      *what = "detaching a helper mount";
      if (::umount2(target, MNT_DETACH) != 0) return errno;
      return ::rmdir(target) == 0 ? 0 : errno;
    case Kind::proc:
      *what = "mounting a fresh /proc";
      if ((err = make_dir(target, 0555)) != 0) return err;
      return ::mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0 ? 0 : errno;
    case Kind::devpts:
      *what = "mounting a new devpts instance";
      if ((err = make_dir(target, 0755)) != 0) return err;
      return ::mount("devpts", target, "devpts", MS_NOSUID | MS_NOEXEC, s.source.c_str()) == 0 ? 0 : errno;
    case Kind::mask_file:
      *what = "masking a secret file";
      return attach_clone("/dev/null", target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    case Kind::mask_dir:
      *what = "masking a secret directory";
      return ::mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000,size=4k") == 0
                 ? 0
                 : errno;
    case Kind::overlay:
      *what = "mounting the overlay workspace (lower: the project)";
      if ((err = make_dir(target, 0755)) != 0) return err;
      return mount_overlay(s);
    case Kind::symlink:
      *what = "creating a symlink";
      return ::symlink(s.source.c_str(), target) == 0 || errno == EEXIST ? 0 : errno;
    case Kind::mkdir:
      *what = "creating a directory";
      if ((err = make_dir(target, s.mode)) != 0) return err;
      return ::chmod(target, s.mode) == 0 ? 0 : errno;
    case Kind::attach:
      *what = "attaching the idmapped project mount";
      if ((err = make_dir(target, 0755)) != 0) return err;
      return ::syscall(SYS_move_mount, s.fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) == 0 ? 0 : errno;
    case Kind::protect:
      *what = "making a control file of the project read-only";
      return protect_control_path(s);
    case Kind::bind_beneath:
      *what = "read-only bind mount of the host's skills into /root/.claude (no link followed)";
      return mount_skill_item(s.source.c_str(), target, s.relative.c_str());
    case Kind::mask_proc: {
      *what = "masking a /proc entry";
      struct stat st {};
      if (::lstat(target, &st) != 0) return errno == ENOENT ? 0 : errno;  // absent on this kernel
      if (S_ISDIR(st.st_mode)) {
        return ::mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=555,size=4k") == 0
                   ? 0
                   : errno;
      }
      return attach_clone("/dev/null", target, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
    }
    case Kind::make_ro: {
      *what = "making a /proc subtree read-only";
      if (::access(target, F_OK) != 0) return 0;  // absent on this kernel
      if (::mount(target, target, nullptr, MS_BIND | MS_REC, nullptr) != 0) return errno;
      mount_attr attr{};
      attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
      return ::syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof(attr)) == 0 ? 0 : errno;
    }
  }
  return 0;
}

}  // namespace

int build_rootfs(const RootfsPlan& plan, const char** what, const char** detail) noexcept {
  *detail = "/";
  // Nothing we mount may propagate back to the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    *what = "making the mount tree private";
    return errno;
  }
  *detail = plan.new_root.c_str();
  *what = "mounting the root tmpfs";
  {
    int fsfd = static_cast<int>(::syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
    if (fsfd < 0) return errno;
    bool ok = ::syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "mode", "755", 0) == 0 &&
              ::syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "uid", "0", 0) == 0 &&
              ::syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "gid", "0", 0) == 0 &&
              ::syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0;
    int err = errno;
    int mnt = ok ? static_cast<int>(::syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) : -1;
    if (ok && mnt < 0) err = errno;
    ::close(fsfd);
    if (mnt < 0) return err;
    // Onto the mountpoint by descriptor (its parents are root's 0700), then work from inside.
    if (::syscall(SYS_move_mount, mnt, "", plan.root_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0 ||
        ::fchdir(mnt) != 0) {
      err = errno;
      ::close(mnt);
      return err;
    }
    ::close(mnt);
  }
  for (const auto& step : plan.steps) {
    *detail = step.kind == Kind::bind_ro || step.kind == Kind::bind_rw || step.kind == Kind::overlay ||
                      step.kind == Kind::attach
                  ? step.source.c_str()
                  : step.kind == Kind::protect || step.kind == Kind::bind_beneath ? step.relative.c_str()
                                                                                   : step.target.c_str();
    int err = run_step(step, what);
    if (err != 0) return err;
  }
  *detail = plan.new_root.c_str();
  *what = "pivot_root into the container's root";
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return errno;
  // The old root is now stacked under the new one; detach it so the host tree is gone.
  if (::umount2(".", MNT_DETACH) != 0) return errno;
  if (::chdir("/") != 0) return errno;
  *what = "making the root read-only";
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &attr, sizeof(attr)) != 0) return errno;
  return 0;
}

}  // namespace cc::engine::native
