#include "workspace/apply_changes.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <sstream>

#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/hex.hpp"
#include "workspace/quoted_name.hpp"

namespace cc::workspace {

namespace fs = std::filesystem;

namespace {

std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}
std::string name_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}


// A directory of a tree, beneath its root, never through a link; the root itself for "".
UniqueFd directory_fd(int root_fd, const std::string& rel) {
  if (rel.empty()) return UniqueFd(::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return beneath::open_at(root_fd, rel, O_RDONLY | O_DIRECTORY);
}

void fsync_directory(int dir_fd) {
  UniqueFd fd(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) ::fsync(fd.get());
}

// Copies the whole of `from` into `to` (kernel-side where it can) and returns the sha256 of
// what `to` then holds, read back from `to` itself.
std::string copy_and_hash(int from, int to) {
  for (;;) {
    ssize_t n = ::copy_file_range(from, nullptr, to, nullptr, 1 << 30, 0);
    if (n > 0) continue;
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) throw_errno("cannot copy");
    // Fallback: plain reads and writes.
    char buf[65536];
    for (;;) {
      ssize_t r = ::read(from, buf, sizeof(buf));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw_errno("cannot read");
      if (r == 0) break;
      for (ssize_t done = 0; done < r;) {
        ssize_t w = ::write(to, buf + done, static_cast<size_t>(r - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw_errno("cannot write");
        done += w;
      }
    }
    break;
  }
  Sha256 hash;
  char buf[65536];
  off_t at = 0;
  for (;;) {
    ssize_t r = ::pread(to, buf, sizeof(buf), at);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("cannot read back");
    if (r == 0) break;
    hash.update(buf, static_cast<size_t>(r));
    at += r;
  }
  return hash.hex();
}

class Journal {
 public:
  explicit Journal(const fs::path& file) : file_(file) {}
  // Records every temporary name before any exists.
  void record(const std::vector<std::pair<std::string, std::string>>& temps) {
    std::string text = "cc-apply-journal 1\n";
    for (const auto& [dir, name] : temps) text += to_hex(dir) + " " + to_hex(name) + "\n";
    fs::create_directories(file_.parent_path());
    write_file_atomic(file_, text, 0600);
  }
  void finish() {
    std::error_code ec;
    fs::remove(file_, ec);
  }

 private:
  fs::path file_;
};

class Applier {
 public:
  Applier(const WorkspaceLayout& layout, const ApplyOptions& options)
      : layout_(layout), options_(options), project_fd_(beneath::open_root(layout.project)),
        changes_fd_(beneath::open_root(layout.changes)),
        sync_fd_(::openat(project_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    struct stat st {};
    if (::fstat(project_fd_.get(), &st) == 0) {
      owner_ = st.st_uid;
      group_ = st.st_gid;
    }
    std::random_device random;
    token_ = std::to_string(random()) + std::to_string(random());
  }

  ApplyReport run(const std::vector<Change>& changes) {
    ApplyReport report;
    std::vector<const Change*> taken;
    for (const auto& c : changes) {
      Decision d = decide(c, options_);
      if (d.verdict == Decision::Verdict::held_back) report.held_back.push_back({&c, d.why});
      else if (d.verdict == Decision::Verdict::refused) report.refused.push_back({&c, d.why});
      else taken.push_back(&c);
    }
    std::sort(taken.begin(), taken.end(), [](const Change* a, const Change* b) { return a->path < b->path; });
    // The temporary name of every file or link to install, journaled before the first exists.
    std::vector<std::pair<std::string, std::string>> temps;
    for (const Change* c : taken) {
      if (c->after.type == FileType::regular || c->after.type == FileType::symlink) {
        temps_[c] = ".cc-apply-" + token_ + "-" + std::to_string(temps.size());
        temps.push_back({parent_of(c->path), temps_[c]});
      }
    }
    Journal journal(layout_.journal);
    journal.record(temps);
    std::map<const Change*, std::string>& failed = failed_;
    // Pass 1, deepest first: deletions, and directories that become something else.
    for (auto it = taken.rbegin(); it != taken.rend(); ++it) {
      const Change* c = *it;
      bool removes = c->after.type == FileType::none ||
                     (c->before.type == FileType::directory && c->after.type != FileType::directory);
      if (!removes) continue;
      try {
        remove_entry(*c);
      } catch (const Error& e) {
        failed[c] = e.what();
      }
    }
    // Pass 2, parents first: directories, files and links.
    for (const Change* c : taken) {
      if (c->after.type == FileType::none || failed.count(c)) continue;
      try {
        install(*c);
      } catch (const Error& e) {
        failed[c] = e.what();
      }
      if (pending_.size() >= kBatch) put_in_place();
    }
    put_in_place();
    ::syncfs(sync_fd_.get());  // the renames and removals reach the disk before the journal goes
    journal.finish();
    for (const Change* c : taken) {
      if (failed.count(c)) report.refused.push_back({c, failed[c]});
      else report.applied.push_back(c);
    }
    return report;
  }

 private:
  // The project's copy must still be what the review showed.
  void check_unchanged(int dir_fd, const Change& c) {
    if (options_.force) return;
    FileState now = read_state(dir_fd, name_of(c.path), false, false);
    if (!same_state(now, c.before)) {
      throw Error("the project's copy changed since the review (it is now " + std::string(type_name(now.type)) +
                  "); review again with `claude-container diff`, or `apply --force` overwrites it");
    }
  }

  UniqueFd project_dir(const std::string& rel) {
    UniqueFd fd = directory_fd(project_fd_.get(), rel);
    if (!fd) {
      if (errno != ENOENT) throw Error(errno_message("cannot open the project directory " + quote_path(rel), errno));
      beneath::make_directories(project_fd_.get(), rel);
      fd = directory_fd(project_fd_.get(), rel);
      if (!fd) throw Error(errno_message("cannot open the project directory " + quote_path(rel), errno));
    }
    return fd;
  }

  void remove_entry(const Change& c) {
    UniqueFd dir = directory_fd(project_fd_.get(), parent_of(c.path));
    if (!dir && errno == ENOENT) return;  // already gone
    if (!dir) {
      throw Error(errno_message("cannot open its directory in the project (a link there is never followed)", errno));
    }
    check_unchanged(dir.get(), c);
    const std::string name = name_of(c.path);
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    int flags = S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0;
    if (::unlinkat(dir.get(), name.c_str(), flags) != 0 && errno != ENOENT) {
      if (errno == ENOTEMPTY || errno == EEXIST) {
        throw Error("the project's directory has files the review did not show; review again with `claude-container diff`");
      }
      throw Error(errno_message("cannot remove it", errno));
    }
  }

  void install(const Change& c) {
    const std::string parent = parent_of(c.path);
    const std::string name = name_of(c.path);
    UniqueFd dir = project_dir(parent);
    // Pass 1 removed a directory that becomes a file; its absence is what we expect now.
    bool replaced_dir = c.before.type == FileType::directory && c.after.type != FileType::directory;
    if (!replaced_dir) check_unchanged(dir.get(), c);

    if (c.after.type == FileType::directory) {
      struct stat st {};
      if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode)) {
        if (::unlinkat(dir.get(), name.c_str(), 0) != 0) throw Error(errno_message("cannot replace it", errno));
      }
      if (::mkdirat(dir.get(), name.c_str(), 0700) != 0 && errno != EEXIST) throw Error(errno_message("cannot create it", errno));
      UniqueFd made(::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!made) throw Error(errno_message("cannot open it", errno));
      own(made.get());
      ::fchmod(made.get(), applied_mode(c.after.mode));
      return;
    }

    const std::string& temp = temps_.at(&c);
    if (c.after.type == FileType::symlink) {
      if (::symlinkat(c.after.link_target.c_str(), dir.get(), temp.c_str()) != 0) {
        throw Error(errno_message("cannot create the link", errno));
      }
      if (::geteuid() == 0) ::fchownat(dir.get(), temp.c_str(), owner_, group_, AT_SYMLINK_NOFOLLOW);
    } else {
      UniqueFd source_dir = directory_fd(changes_fd_.get(), parent);
      struct stat st {};
      UniqueFd source = source_dir ? open_regular(source_dir.get(), name, &st) : UniqueFd();
      if (!source) throw Error("the container's copy is no longer a regular file; review again with `claude-container diff`");
      UniqueFd out(::openat(dir.get(), temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!out) throw Error(errno_message("cannot create a temporary file beside it", errno));
      try {
        if (copy_and_hash(source.get(), out.get()) != c.after.sha256) {
          throw Error("the container's copy changed since the review; review again with `claude-container diff`");
        }
        own(out.get());
        if (::fchmod(out.get(), applied_mode(c.after.mode)) != 0) throw_errno("cannot set its mode");
      } catch (...) {
        ::unlinkat(dir.get(), temp.c_str(), 0);
        throw;
      }
    }
    pending_.push_back({&c, std::move(dir), name, temp});
  }

  // Temporary files are renamed over the project's in batches, after one syncfs has put their
  // content on disk: a crash leaves each file old or new, and costs one flush per batch rather
  // than two per file.
  void put_in_place() {
    if (pending_.empty()) return;
    if (::syncfs(sync_fd_.get()) != 0) {
      for (auto& p : pending_) {
        ::unlinkat(p.dir.get(), p.temp.c_str(), 0);
        failed_[p.change] = errno_message("cannot write it to disk", errno);
      }
      pending_.clear();
      return;
    }
    for (auto& p : pending_) {
      struct stat existing {};
      if (::fstatat(p.dir.get(), p.name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(existing.st_mode)) {
        ::unlinkat(p.dir.get(), p.temp.c_str(), 0);
        failed_[p.change] = "a directory is in its place in the project; review again with `claude-container diff`";
        continue;
      }
      if (::renameat(p.dir.get(), p.temp.c_str(), p.dir.get(), p.name.c_str()) != 0) {
        int err = errno;
        ::unlinkat(p.dir.get(), p.temp.c_str(), 0);
        failed_[p.change] = errno_message("cannot put it in place", err);
      }
    }
    pending_.clear();
  }

  // Root applies as the project's owner would: the new file belongs to the project's owner.
  void own(int fd) {
    if (::geteuid() == 0) {
      if (::fchown(fd, owner_, group_) != 0) throw_errno("cannot give it to the project's owner");
    }
  }

  const WorkspaceLayout& layout_;
  const ApplyOptions& options_;
  UniqueFd project_fd_;
  UniqueFd changes_fd_;
  UniqueFd sync_fd_;  // syncfs needs a readable descriptor; the root is O_PATH
  uid_t owner_ = 0;
  gid_t group_ = 0;
  std::string token_;
  std::map<const Change*, std::string> temps_;
  struct Pending {
    const Change* change;
    UniqueFd dir;
    std::string name;
    std::string temp;
  };
  static constexpr size_t kBatch = 256;
  std::vector<Pending> pending_;
  std::map<const Change*, std::string> failed_;
};

}  // namespace

ApplyReport apply_changes(const WorkspaceLayout& layout, const std::vector<Change>& changes, const ApplyOptions& options) {
  recover_interrupted_apply(layout);
  return Applier(layout, options).run(changes);
}

int recover_interrupted_apply(const WorkspaceLayout& layout) {
  auto text = read_file_if_exists(layout.journal);
  if (!text) return 0;
  int removed = 0;
  UniqueFd project_fd = beneath::open_root(layout.project);
  std::istringstream lines(*text);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    auto space = line.find(' ');
    if (space == std::string::npos) continue;
    auto dir_text = from_hex(std::string_view(line).substr(0, space));
    auto name_text = from_hex(std::string_view(line).substr(space + 1));
    if (!dir_text || !name_text) continue;  // damaged: not ours to act on
    const std::string& dir = *dir_text;
    const std::string& name = *name_text;
    if (name.rfind(".cc-apply-", 0) != 0 || name.find('/') != std::string::npos) continue;  // only ours
    UniqueFd dir_fd = directory_fd(project_fd.get(), dir);
    if (!dir_fd) continue;
    struct stat st {};
    if (::fstatat(dir_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode)) continue;
    if (::unlinkat(dir_fd.get(), name.c_str(), 0) == 0) {
      ++removed;
      fsync_directory(dir_fd.get());
    }
  }
  std::error_code ec;
  fs::remove(layout.journal, ec);
  return removed;
}

}  // namespace cc::workspace
