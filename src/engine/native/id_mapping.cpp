#include "engine/native/id_mapping.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cerrno>
#include <fstream>
#include <optional>
#include <sstream>

#include "util/error.hpp"

namespace cc::engine::native {

namespace fs = std::filesystem;

namespace {

struct Entry {
  std::string owner;
  unsigned long start = 0, count = 0;
};

std::vector<Entry> read_ranges(const char* file) {
  std::vector<Entry> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    Entry e;
    char c1 = 0, c2 = 0;
    if (std::getline(fields, e.owner, ':') && fields >> e.start >> c1 >> e.count && c1 == ':' && e.count > 0) {
      (void)c2;
      out.push_back(e);
    }
  }
  return out;
}

std::optional<Entry> root_entry(const std::vector<Entry>& entries) {
  for (const auto& e : entries) {
    if ((e.owner == "root" || e.owner == "0") && e.count >= 65536) return e;
  }
  return std::nullopt;
}

void append_line(const char* file, const std::string& line) {
  int fd = ::open(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno(std::string("cannot open ") + file);
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  int err = errno;
  ::close(fd);
  if (!ok) throw Error(errno_message(std::string("cannot add a subordinate range to ") + file, err));
}

std::string map_line(unsigned long inside, unsigned long outside, unsigned long count) {
  return std::to_string(inside) + " " + std::to_string(outside) + " " + std::to_string(count) + "\n";
}

}  // namespace

SubordinateRange root_subordinate_range(std::string* note) {
  auto uids = read_ranges("/etc/subuid");
  auto gids = read_ranges("/etc/subgid");
  auto uid = root_entry(uids);
  auto gid = root_entry(gids);
  if (!uid || !gid) {
    // Allocate past every range already handed out (and past 100000, where they start), as
    // `usermod --add-subuids` and podman's setup do; the same start in both files.
    unsigned long end = 100000;
    for (const auto* list : {&uids, &gids}) {
      for (const auto& e : *list) end = std::max(end, e.start + e.count);
    }
    unsigned long start = (end + 65535) / 65536 * 65536;
    const std::string line = "root:" + std::to_string(start) + ":65536\n";
    try {
      if (!uid) append_line("/etc/subuid", line);
      if (!gid) append_line("/etc/subgid", line);
    } catch (const Error& e) {
      throw Error(std::string(e.what()) +
                  "; the container must not run as host uid 0, so root needs a subordinate id range: add "
                  "`root:" + std::to_string(start) + ":65536` to /etc/subuid and /etc/subgid.");
    }
    if (!uid) uid = Entry{"root", start, 65536};
    if (!gid) gid = Entry{"root", start, 65536};
    if (note != nullptr) {
      *note = "root had no subordinate id range; allocated " + std::to_string(start) +
              "-" + std::to_string(start + 65535) + " in /etc/subuid and /etc/subgid for its containers";
    }
  }
  SubordinateRange range;
  range.uid_start = static_cast<uid_t>(uid->start);
  range.gid_start = static_cast<gid_t>(gid->start);
  range.count = 65536;
  return range;
}

UniqueFd make_idmap_userns(uid_t owner_uid, gid_t owner_gid, const SubordinateRange& range) {
  // A child in a new user namespace that only waits; we write its maps and keep its namespace.
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd wait_read(pipe_fds[0]), wait_write(pipe_fds[1]);
  // clone3 with CLONE_NEWUSER: the namespace exists when it returns, so its maps can be
  // written at once.
  struct {
    std::uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
  } args{};
  args.flags = CLONE_NEWUSER;
  args.exit_signal = SIGCHLD;
  long cloned = ::syscall(SYS_clone3, &args, sizeof(args));
  if (cloned < 0) throw_errno("cannot create the idmap user namespace");
  pid_t pid = static_cast<pid_t>(cloned);
  if (pid == 0) {
    char byte;
    ssize_t ignored = ::read(wait_read.get(), &byte, 1);
    (void)ignored;
    ::_exit(0);
  }
  wait_read.reset();
  auto finish = [&] {
    wait_write.reset();
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  };
  const std::string ns_path = "/proc/" + std::to_string(pid) + "/ns/user";
  // On disk owner -> the container's root (range start); the range's other ids stay as they are.
  auto maps = [&](unsigned long owner, unsigned long start) {
    std::string text = map_line(owner, start, 1);
    if (owner < start + 1 || owner >= start + range.count) text += map_line(start + 1, start + 1, range.count - 1);
    return text;
  };
  auto write = [&](const char* name, const std::string& content) {
    std::string path = "/proc/" + std::to_string(pid) + "/" + name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
    int err = errno;
    if (fd >= 0) ::close(fd);
    if (!ok) {
      finish();
      throw Error(errno_message("cannot write the idmap's " + std::string(name), err));
    }
  };
  write("uid_map", maps(owner_uid, range.uid_start));
  write("gid_map", maps(owner_gid, range.gid_start));
  UniqueFd ns(::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
  int err = errno;
  finish();
  if (!ns) throw Error(errno_message("cannot open the idmap user namespace", err));
  return ns;
}

UniqueFd idmapped_clone(const fs::path& source, int userns, bool read_only) {
  UniqueFd tree(static_cast<int>(
      ::syscall(SYS_open_tree, AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)));
  if (!tree) throw_errno("cannot clone the mount of " + source.string());
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (read_only ? MOUNT_ATTR_RDONLY : 0);
  attr.userns_fd = static_cast<std::uint64_t>(userns);
  // Not AT_RECURSIVE: a tree with submounts of other file systems may not all support idmaps;
  // the project's own file system is what matters.
  if (::syscall(SYS_mount_setattr, tree.get(), "", AT_EMPTY_PATH, &attr, sizeof(attr)) != 0) {
    int err = errno;
    throw Error(errno_message("cannot make an idmapped mount of " + source.string() +
                                  " (mount_setattr MOUNT_ATTR_IDMAP; the file system must support idmapped mounts, "
                                  "Linux 5.12+)",
                              err));
  }
  return tree;
}

void chown_tree(const fs::path& path, uid_t uid, gid_t gid) {
  std::error_code ec;
  ::lchown(path.c_str(), uid, gid);
  if (!fs::is_directory(fs::symlink_status(path, ec))) return;
  for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::none, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    ::lchown(it->path().c_str(), uid, gid);
  }
}

}  // namespace cc::engine::native
