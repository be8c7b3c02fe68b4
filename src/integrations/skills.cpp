#include "integrations/skills.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace cc::integrations {

namespace fs = std::filesystem;

std::optional<fs::path> host_claude_dir(const config::EnvLookup& env) {
  if (auto dir = env("CLAUDE_CONFIG_DIR"); dir && !dir->empty()) return fs::path(*dir);
  if (auto home = env("HOME"); home && !home->empty()) return fs::path(*home) / ".claude";
  return std::nullopt;
}

std::vector<SkillItem> shared_skill_items(const fs::path& claude_dir, std::vector<std::string>* skipped) {
  std::vector<SkillItem> items;
  for (const auto& entry : kSkillEntries) {
    fs::path source = claude_dir / entry.name;
    struct stat st {};
    if (::lstat(source.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      if (skipped != nullptr) skipped->push_back(source.string() + " is a symbolic link, so it is not shared");
      continue;
    }
    if (entry.directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
      if (skipped != nullptr) {
        skipped->push_back(source.string() + " is not a " + (entry.directory ? "directory" : "regular file") +
                           ", so it is not shared");
      }
      continue;
    }
    items.push_back({entry.name, source, entry.directory});
  }
  return items;
}

std::vector<std::string> skill_names(const std::vector<SkillItem>& items) {
  std::vector<std::string> names;
  for (const auto& item : items) {
    if (item.name != "skills") continue;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(item.source, ec)) {
      if (entry.is_directory(ec)) names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

// Follows symlinks only while they stay beneath `root`; ".." cannot climb out, an absolute
// link or one that leaves fails with EXDEV.
UniqueFd open_inside(int root, const std::string& relative, int flags) {
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags) | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return UniqueFd(static_cast<int>(::syscall(SYS_openat2, root, relative.c_str(), &how, sizeof(how))));
}

class Copier {
 public:
  Copier(const CopyLimits& limits, CopyReport& report) : limits_(limits), report_(report) {}

  void copy_file(int source_fd, const struct stat& st, int dest_dir, const std::string& name, const std::string& shown) {
    if (static_cast<std::size_t>(st.st_size) > limits_.max_file_bytes) {
      throw Error("Copying the skills failed: " + shown + " is larger than " +
                  std::to_string(limits_.max_file_bytes / (1024 * 1024)) + " MiB. Remove it or move it out of the shared directories.");
    }
    count_entry(shown);
    UniqueFd out(::openat(dest_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 0777));
    if (!out) throw_errno("Copying the skills failed: cannot create the copy of " + shown);
    char buffer[65536];
    std::uint64_t copied = 0;
    for (;;) {
      ssize_t n = ::read(source_fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno("Copying the skills failed: reading " + shown);
      if (n == 0) break;
      copied += static_cast<std::uint64_t>(n);
      report_.bytes += static_cast<std::uint64_t>(n);
      if (copied > limits_.max_file_bytes || report_.bytes > limits_.max_total_bytes) {
        throw Error("Copying the skills failed: they are larger than " +
                    std::to_string(limits_.max_total_bytes / (1024 * 1024)) + " MiB (at " + shown +
                    "). Remove large files from the shared directories.");
      }
      for (ssize_t done = 0; done < n;) {
        ssize_t w = ::write(out.get(), buffer + done, static_cast<std::size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw_errno("Copying the skills failed: writing the copy of " + shown);
        done += w;
      }
    }
    ++report_.files;
  }

  // Copies the directory `relative` of the item rooted at `root` into `dest` (an open directory).
  void copy_dir(int root, const std::string& relative, int dest, const std::string& shown, int depth) {
    if (depth > limits_.max_depth) {
      throw Error("Copying the skills failed: " + shown + " is nested deeper than " + std::to_string(limits_.max_depth) +
                  " directories. Flatten it or remove it from the shared directories.");
    }
    UniqueFd dir = relative.empty() ? UniqueFd(::openat(root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
                                    : open_inside(root, relative, O_RDONLY | O_DIRECTORY);
    if (!dir) throw_errno("Copying the skills failed: cannot open " + shown);
    struct stat dir_st {};
    if (::fstat(dir.get(), &dir_st) != 0) throw_errno("Copying the skills failed: " + shown);
    // A link inside the item that names one of its own ancestors would recurse forever.
    auto key = std::make_pair(dir_st.st_dev, dir_st.st_ino);
    if (!on_path_.insert(key).second) {
      report_.skipped.push_back(shown + ": a link back to a directory above it, not copied again");
      return;
    }
    std::vector<std::string> names;
    {
      DIR* stream = ::fdopendir(::dup(dir.get()));
      if (stream == nullptr) throw_errno("Copying the skills failed: listing " + shown);
      while (dirent* entry = ::readdir(stream)) {
        std::string name = entry->d_name;
        if (name != "." && name != "..") names.push_back(std::move(name));
        if (names.size() > limits_.max_entries) break;
      }
      ::closedir(stream);
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::string child = relative.empty() ? name : relative + "/" + name;
      std::string child_shown = shown + "/" + name;
      UniqueFd node = open_inside(root, child, O_PATH);
      if (!node) {
        if (errno == EXDEV) {
          report_.skipped.push_back(child_shown + ": a symbolic link that leaves " + top_ + ", not followed");
        } else if (errno == ELOOP || errno == ENOENT) {
          report_.skipped.push_back(child_shown + ": a symbolic link that loops or points nowhere");
        } else {
          throw_errno("Copying the skills failed: cannot open " + child_shown);
        }
        continue;
      }
      struct stat st {};
      if (::fstat(node.get(), &st) != 0) throw_errno("Copying the skills failed: " + child_shown);
      if (S_ISDIR(st.st_mode)) {
        count_entry(child_shown);
        if (::mkdirat(dest, name.c_str(), 0700) != 0) throw_errno("Copying the skills failed: creating the copy of " + child_shown);
        UniqueFd sub(::openat(dest, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) throw_errno("Copying the skills failed: opening the copy of " + child_shown);
        copy_dir(root, child, sub.get(), child_shown, depth + 1);
        ::fchmod(sub.get(), (st.st_mode & 0777) | 0700);
        ++report_.directories;
      } else if (S_ISREG(st.st_mode)) {
        UniqueFd file = open_inside(root, child, O_RDONLY | O_NOCTTY | O_NONBLOCK);
        struct stat again {};
        if (!file || ::fstat(file.get(), &again) != 0 || !S_ISREG(again.st_mode) || again.st_ino != st.st_ino) {
          report_.skipped.push_back(child_shown + ": changed while it was copied");
          continue;
        }
        copy_file(file.get(), again, dest, name, child_shown);
      } else {
        report_.skipped.push_back(child_shown + ": not a regular file or directory");
      }
    }
    on_path_.erase(key);
  }

  void set_top(std::string top) { top_ = std::move(top); }

 private:
  void count_entry(const std::string& shown) {
    if (++entries_ > limits_.max_entries) {
      throw Error("Copying the skills failed: more than " + std::to_string(limits_.max_entries) + " entries (at " + shown +
                  "). Remove what Claude Code does not need from the shared directories.");
    }
  }

  const CopyLimits& limits_;
  CopyReport& report_;
  std::set<std::pair<dev_t, ino_t>> on_path_;
  std::size_t entries_ = 0;
  std::string top_;
};

}  // namespace

CopyReport copy_skill_items(const std::vector<SkillItem>& items, const fs::path& dest_dir, const CopyLimits& limits) {
  CopyReport report;
  Copier copier(limits, report);
  UniqueFd dest(::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dest) throw_errno("Copying the skills failed: cannot open " + dest_dir.string());
  for (const auto& item : items) {
    // The item itself is never a link (shared_skill_items), and is opened without following one.
    UniqueFd source(::open(item.source.c_str(), (item.directory ? O_RDONLY | O_DIRECTORY : O_RDONLY | O_NONBLOCK) |
                                                    O_NOFOLLOW | O_NOCTTY | O_CLOEXEC));
    if (!source) {
      if (errno == ENOENT) continue;  // removed since it was listed
      throw_errno("Copying the skills failed: cannot open " + item.source.string());
    }
    struct stat st {};
    if (::fstat(source.get(), &st) != 0) throw_errno("Copying the skills failed: " + item.source.string());
    copier.set_top(item.name);
    if (item.directory) {
      if (::mkdirat(dest.get(), item.name.c_str(), 0700) != 0) throw_errno("Copying the skills failed: creating " + item.name);
      UniqueFd sub(::openat(dest.get(), item.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) throw_errno("Copying the skills failed: opening the copy of " + item.name);
      copier.copy_dir(source.get(), "", sub.get(), item.name, 1);
      ::fchmod(sub.get(), (st.st_mode & 0777) | 0700);
      ++report.directories;
    } else if (S_ISREG(st.st_mode)) {
      copier.copy_file(source.get(), st, dest.get(), item.name, item.name);
    } else {
      report.skipped.push_back(item.name + ": not a regular file");
    }
  }
  return report;
}

}  // namespace cc::integrations
