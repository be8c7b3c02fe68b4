#include "workspace/control_aliases.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "project/control_files.hpp"
#include "util/beneath.hpp"

namespace cc::workspace {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxLinkHops = 40;  // as the kernel's own limit

bool at_or_below(const std::string& path, const std::string& prefix) {
  return path == prefix || (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
                            path[prefix.size()] == '/');
}

// `relative` with every link inside the project followed (lexically, beneath the root);
// empty when a link leads outside or the hops run out.
std::string resolve_inside(int root_fd, const std::string& relative) {
  fs::path path = relative;
  for (int hops = 0; hops <= kMaxLinkHops;) {
    fs::path prefix;
    bool followed = false;
    for (auto it = path.begin(); it != path.end(); ++it) {
      prefix /= *it;
      auto st = [&]() -> std::optional<struct stat> {
        try {
          return beneath::stat_at(root_fd, prefix);
        } catch (const std::exception&) {
          return std::nullopt;
        }
      }();
      if (!st) return path.string();  // absent from here on: this is where it would be
      if (!S_ISLNK(st->st_mode)) continue;
      char target[4096];
      ssize_t n = ::readlinkat(root_fd, prefix.c_str(), target, sizeof target - 1);
      if (n <= 0 || target[0] == '/') return "";
      fs::path rest;
      for (auto r = std::next(it); r != path.end(); ++r) rest /= *r;
      fs::path next = (prefix.parent_path() / std::string(target, static_cast<size_t>(n)) / rest).lexically_normal();
      std::string text = next.string();
      while (!text.empty() && text.back() == '/') text.pop_back();
      if (!beneath::is_clean_relative(text)) return "";
      path = text;
      followed = true;
      ++hops;
      break;
    }
    if (!followed) return path.string();
  }
  return "";
}

}  // namespace

std::vector<std::string> control_aliases(const fs::path& project) {
  std::vector<std::string> aliases;
  UniqueFd root = beneath::open_root(project);
  for (const auto& control : project::control_paths()) {
    const std::string path(control.path);
    std::string resolved = resolve_inside(root.get(), path);
    if (!resolved.empty() && resolved != path &&
        std::find(aliases.begin(), aliases.end(), resolved) == aliases.end())
      aliases.push_back(resolved);
  }
  return aliases;
}

void mark_control_aliases(const std::vector<std::string>& aliases, std::vector<Change>& changes) {
  for (auto& c : changes) {
    for (const auto& alias : aliases) {
      const bool link_above = c.after.type == FileType::symlink && at_or_below(alias, c.path);
      if (at_or_below(c.path, alias) || link_above) c.guards_control = true;
    }
  }
}

}  // namespace cc::workspace
