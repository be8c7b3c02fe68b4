#include "workspace/overlay_changes.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/unique_fd.hpp"
#include "workspace/file_tree.hpp"

extern char** environ;

namespace cc::workspace {

namespace fs = std::filesystem;

namespace {

bool has_xattr(const fs::path& path, const char* name, const char* expected = nullptr) {
  char value[16] = {};
  ssize_t n = ::lgetxattr(path.c_str(), name, value, sizeof(value) - 1);
  if (n < 0) return false;
  return expected == nullptr || std::string(value, static_cast<size_t>(n)) == expected;
}

bool is_whiteout(const fs::path& path, const struct stat& st) {
  if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0) return true;
  return S_ISREG(st.st_mode) && st.st_size == 0 &&
         (has_xattr(path, "user.overlay.whiteout") || has_xattr(path, "trusted.overlay.whiteout"));
}

bool is_opaque(const fs::path& path) {
  return has_xattr(path, "user.overlay.opaque", "y") || has_xattr(path, "trusted.overlay.opaque", "y") ||
         has_xattr(path, "user.overlay.opaque", "x") || has_xattr(path, "trusted.overlay.opaque", "x");
}

bool lstat_path(const fs::path& path, struct stat* st) { return ::lstat(path.c_str(), st) == 0; }

bool same_content(const fs::path& a, const fs::path& b, const struct stat& sa, const struct stat& sb) {
  if ((sa.st_mode & 07777) != (sb.st_mode & 07777)) return false;
  if (S_ISLNK(sa.st_mode) && S_ISLNK(sb.st_mode)) {
    std::error_code e1, e2;
    return fs::read_symlink(a, e1) == fs::read_symlink(b, e2) && !e1 && !e2;
  }
  if (!S_ISREG(sa.st_mode) || !S_ISREG(sb.st_mode) || sa.st_size != sb.st_size) return false;
  UniqueFd fa(::open(a.c_str(), O_RDONLY | O_CLOEXEC)), fb(::open(b.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fa || !fb) return false;
  char ba[65536], bb[65536];
  for (;;) {
    ssize_t na = ::read(fa.get(), ba, sizeof(ba));
    if (na < 0) return false;
    if (na == 0) return true;
    ssize_t got = 0;
    while (got < na) {
      ssize_t nb = ::read(fb.get(), bb + got, static_cast<size_t>(na - got));
      if (nb <= 0) return false;
      got += nb;
    }
    if (std::memcmp(ba, bb, static_cast<size_t>(na)) != 0) return false;
  }
}

void add_all(const fs::path& upper_dir, const fs::path& rel, std::vector<Change>& out) {
  std::error_code ec;
  bool empty = true;
  for (const auto& entry : fs::directory_iterator(upper_dir, ec)) {
    empty = false;
    fs::path child = rel / entry.path().filename();
    struct stat st {};
    if (!lstat_path(entry.path(), &st) || is_whiteout(entry.path(), st)) continue;
    if (S_ISDIR(st.st_mode)) add_all(entry.path(), child, out);
    else out.push_back({Change::Kind::added, child.string()});
  }
  if (empty) out.push_back({Change::Kind::added, rel.string()});
}

void walk(const OverlayLayers& layers, const fs::path& rel, std::vector<Change>& out) {
  fs::path upper_dir = rel.empty() ? layers.upper : layers.upper / rel;
  fs::path lower_dir = rel.empty() ? layers.lower : layers.lower / rel;
  std::error_code ec;
  if (!rel.empty() && is_opaque(upper_dir)) {
    // Everything the lower layer had here is hidden unless the upper layer has it again.
    for (const auto& entry : fs::directory_iterator(lower_dir, ec)) {
      struct stat st {};
      if (!lstat_path(upper_dir / entry.path().filename(), &st)) {
        out.push_back({Change::Kind::deleted, (rel / entry.path().filename()).string()});
      }
    }
  }
  for (const auto& entry : fs::directory_iterator(upper_dir, ec)) {
    fs::path name = entry.path().filename();
    fs::path child = rel.empty() ? name : rel / name;
    struct stat su {}, sl {};
    if (!lstat_path(entry.path(), &su)) continue;
    bool in_lower = lstat_path(lower_dir / name, &sl);
    if (is_whiteout(entry.path(), su)) {
      if (in_lower) out.push_back({Change::Kind::deleted, child.string()});
      continue;
    }
    if (S_ISDIR(su.st_mode)) {
      if (in_lower && S_ISDIR(sl.st_mode)) {
        walk(layers, child, out);
      } else {
        if (in_lower) out.push_back({Change::Kind::deleted, child.string()});
        add_all(entry.path(), child, out);
      }
      continue;
    }
    if (!in_lower) {
      out.push_back({Change::Kind::added, child.string()});
    } else if (!same_content(entry.path(), lower_dir / name, su, sl)) {
      out.push_back({Change::Kind::modified, child.string()});
    }
  }
  if (ec) throw Error("cannot read the overlay's upper layer " + upper_dir.string() + ": " + ec.message());
}

// Runs `diff -u` (diffutils) and returns its output; status 0 and 1 are both fine.
std::string run_diff(const std::string& label_a, const std::string& label_b, const std::string& a, const std::string& b) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd rd(fds[0]), wr(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, wr.get(), 1);
  std::vector<std::string> args = {"diff", "-u", "--label", label_a, "--label", label_b, a, b};
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid;
  int rc = ::posix_spawnp(&pid, "diff", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw Error(errno_message("cannot run diff (install diffutils)", rc));
  wr.reset();
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(rd.get(), buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) > 1) throw Error("diff failed on " + a + " and " + b + ".");
  return out;
}

void install_file(const fs::path& from, const fs::path& to) {
  struct stat st {};
  if (!lstat_path(from, &st)) throw_errno("cannot read " + from.string());
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) throw Error("cannot create " + to.parent_path().string() + ": " + ec.message());
  fs::path tmp = to.parent_path() / (".cc-apply-" + std::to_string(::getpid()) + "-" + to.filename().string());
  fs::remove(tmp, ec);
  if (S_ISLNK(st.st_mode)) {
    fs::create_symlink(fs::read_symlink(from), tmp, ec);
    if (ec) throw Error("cannot create " + tmp.string() + ": " + ec.message());
  } else if (S_ISREG(st.st_mode)) {
    fs::copy_file(from, tmp, ec);
    if (ec) throw Error("cannot copy " + from.string() + ": " + ec.message());
    ::chmod(tmp.c_str(), st.st_mode & 07777);
    UniqueFd fd(::open(tmp.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd) ::fsync(fd.get());
  } else {
    return;  // special files are not project content
  }
  struct stat existing {};
  if (lstat_path(to, &existing) && S_ISDIR(existing.st_mode)) remove_tree(to);
  if (::rename(tmp.c_str(), to.c_str()) != 0) {
    int err = errno;
    fs::remove(tmp, ec);
    throw Error(errno_message("cannot replace " + to.string(), err));
  }
}

void empty_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(dir, ec)) remove_tree(entry.path());
  if (ec) throw Error("cannot empty " + dir.string() + ": " + ec.message());
}

}  // namespace

std::vector<Change> overlay_changes(const OverlayLayers& layers) {
  std::vector<Change> out;
  std::error_code ec;
  if (!fs::is_directory(layers.upper, ec)) return out;
  walk(layers, fs::path(), out);
  std::sort(out.begin(), out.end(), [](const Change& a, const Change& b) { return a.path < b.path; });
  return out;
}

std::string overlay_diff(const OverlayLayers& layers) {
  std::string text;
  for (const auto& change : overlay_changes(layers)) {
    fs::path lower = layers.lower / change.path;
    fs::path upper = layers.upper / change.path;
    std::error_code ec;
    bool lower_dir = fs::is_directory(fs::symlink_status(lower, ec));
    bool upper_dir = change.kind != Change::Kind::deleted && fs::is_directory(fs::symlink_status(upper, ec));
    if (lower_dir || upper_dir) {
      text += (change.kind == Change::Kind::deleted ? "Deleted directory: " : "New directory: ") + change.path + "\n";
      continue;
    }
    std::string a = change.kind == Change::Kind::added ? "/dev/null" : lower.string();
    std::string b = change.kind == Change::Kind::deleted ? "/dev/null" : upper.string();
    text += run_diff(change.kind == Change::Kind::added ? "/dev/null" : "a/" + change.path,
                     change.kind == Change::Kind::deleted ? "/dev/null" : "b/" + change.path, a, b);
  }
  return text;
}

void overlay_apply(const OverlayLayers& layers) {
  for (const auto& change : overlay_changes(layers)) {
    fs::path target = layers.lower / change.path;
    if (change.kind == Change::Kind::deleted) {
      remove_tree(target);
      continue;
    }
    fs::path source = layers.upper / change.path;
    struct stat st {};
    if (!lstat_path(source, &st)) continue;
    if (S_ISDIR(st.st_mode)) {
      std::error_code ec;
      fs::create_directories(target, ec);
      if (ec) throw Error("cannot create " + target.string() + ": " + ec.message());
      continue;
    }
    install_file(source, target);
  }
}

void overlay_discard(const OverlayLayers& layers) {
  empty_dir(layers.upper);
  empty_dir(layers.work);
}

}  // namespace cc::workspace
