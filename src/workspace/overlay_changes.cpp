#include "workspace/overlay_changes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <algorithm>
#include <unistd.h>

#include "util/beneath.hpp"
#include "util/error.hpp"
#include "workspace/file_tree.hpp"

namespace cc::workspace {

namespace fs = std::filesystem;

namespace {

std::string join(const std::string& rel, const std::string& name) { return rel.empty() ? name : rel + "/" + name; }

class OverlayWalk {
 public:
  OverlayWalk(bool keep_content, std::vector<Change>& out) : keep_(keep_content), out_(out) {}

  // Both directories exist at `rel` (lower_fd may be invalid: the project has nothing here).
  void walk(int upper_fd, int lower_fd, const std::string& rel) {
    std::vector<std::string> upper_names = list_directory(upper_fd);
    if (lower_fd >= 0 && !rel.empty() && is_opaque_directory(upper_fd)) {
      // Everything the project has here is hidden unless the upper layer has it again.
      for (const auto& name : list_directory(lower_fd)) {
        if (!std::binary_search(upper_names.begin(), upper_names.end(), name)) deleted(lower_fd, name, join(rel, name));
      }
    }
    for (const auto& name : upper_names) entry(upper_fd, lower_fd, name, join(rel, name));
  }

 private:
  void entry(int upper_fd, int lower_fd, const std::string& name, const std::string& path) {
    FileState after = read_state(upper_fd, name, true, keep_);
    FileState before = lower_fd >= 0 ? read_state(lower_fd, name, false, keep_) : FileState{};
    if (after.type == FileType::none) return;  // gone while we looked (live review)
    if (after.type == FileType::whiteout) {
      if (before.type != FileType::none) deleted(lower_fd, name, path);
      return;
    }
    if (after.type == FileType::directory) {
      UniqueFd up = open_directory(upper_fd, name);
      if (!up) return;  // replaced while we looked
      if (before.type == FileType::directory) {
        if (before.mode != after.mode) push(Change::Kind::modified, path, before, after);
        UniqueFd low = open_directory(lower_fd, name);
        walk(up.get(), low.get(), path);
        return;
      }
      push(before.type == FileType::none ? Change::Kind::added : Change::Kind::modified, path, before, after);
      walk(up.get(), -1, path);  // all new (whiteouts below match nothing in the project)
      return;
    }
    if (before.type == FileType::directory) {
      // Directory replaced by a file: everything below it goes, then the path changes type.
      UniqueFd low = open_directory(lower_fd, name);
      if (low) {
        for (const auto& child : list_directory(low.get())) deleted(low.get(), child, join(path, child));
      }
      push(Change::Kind::modified, path, before, after);
      return;
    }
    if (before.type == FileType::none) {
      push(Change::Kind::added, path, before, after);
    } else if (!same_state(before, after) || before.capabilities != after.capabilities) {
      push(Change::Kind::modified, path, before, after);
    }
  }

  // `name` in the project is deleted, with everything below it.
  void deleted(int lower_fd, const std::string& name, const std::string& path) {
    FileState before = read_state(lower_fd, name, false, keep_);
    if (before.type == FileType::none) return;
    push(Change::Kind::deleted, path, before, FileState{});
    if (before.type != FileType::directory) return;
    UniqueFd low = open_directory(lower_fd, name);
    if (!low) return;
    for (const auto& child : list_directory(low.get())) deleted(low.get(), child, join(path, child));
  }

  void push(Change::Kind kind, const std::string& path, const FileState& before, const FileState& after) {
    Change c;
    c.kind = kind;
    c.path = path;
    c.before = before;
    c.after = after;
    out_.push_back(std::move(c));
  }

  bool keep_;
  std::vector<Change>& out_;
};

void empty_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(dir, ec)) remove_tree(entry.path());
  if (ec) throw Error("cannot empty " + dir.string() + ": " + ec.message());
}

}  // namespace

std::vector<Change> overlay_changes(const fs::path& project, const fs::path& upper, bool keep_content) {
  std::vector<Change> out;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(upper, ec))) return out;
  UniqueFd upper_fd = beneath::open_root(upper);
  UniqueFd lower_fd = beneath::open_root(project);
  OverlayWalk(keep_content, out).walk(upper_fd.get(), lower_fd.get(), "");
  sort_changes(out);
  return out;
}

void overlay_forget_applied(const fs::path& upper, const std::vector<const Change*>& applied) {
  UniqueFd upper_fd = beneath::open_root(upper);
  for (const Change* c : applied) {
    if (c->after.type == FileType::directory) continue;  // merged directories are harmless
    auto slash = c->path.rfind('/');
    std::string parent = slash == std::string::npos ? "" : c->path.substr(0, slash);
    std::string name = slash == std::string::npos ? c->path : c->path.substr(slash + 1);
    // Every directory on the way must be a plain merged one.
    UniqueFd dir(::openat(upper_fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    bool plain = true;
    std::string done;
    for (size_t start = 0; plain && !parent.empty() && start <= parent.size();) {
      size_t end = parent.find('/', start);
      if (end == std::string::npos) end = parent.size();
      UniqueFd next = open_directory(dir.get(), parent.substr(start, end - start));
      plain = next && !is_opaque_directory(next.get());
      dir = std::move(next);
      start = end + 1;
    }
    if (!plain) continue;
    struct stat st {};
    if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode)) continue;
    ::unlinkat(dir.get(), name.c_str(), 0);
  }
}

void overlay_discard(const fs::path& upper, const fs::path& work) {
  empty_dir(upper);
  empty_dir(work);
}

}  // namespace cc::workspace
