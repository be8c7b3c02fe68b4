#include "workspace/control_aliases.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <optional>

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

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string trim(const std::string& text) {
  const auto start = text.find_first_not_of(" \t\r");
  if (start == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t\r");
  return text.substr(start, end - start + 1);
}

// core.hooksPath from the project's .git/config when it names a directory in the project
// (`.githooks`, a common choice): git runs the hooks there, as it runs .git/hooks.
std::optional<std::string> hooks_path(int root_fd) {
  std::optional<std::string> text;
  try {
    text = beneath::read_file(root_fd, ".git/config", 1024 * 1024);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (!text) return std::nullopt;
  std::optional<std::string> found;
  bool in_core = false;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string line = trim(text->substr(start, end - start));
    start = end + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      in_core = lower(trim(line.substr(1, line.find(']') - 1))) == "core";
      continue;
    }
    const auto eq = line.find('=');
    if (!in_core || eq == std::string::npos || lower(trim(line.substr(0, eq))) != "hookspath") continue;
    std::string value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    found = value;  // the last one wins, as in git
  }
  if (!found) return std::nullopt;
  std::string value = fs::path(*found).lexically_normal().string();
  while (!value.empty() && value.back() == '/') value.pop_back();
  if (!beneath::is_clean_relative(value)) return std::nullopt;  // outside the project: not project content
  return value;
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
  if (auto hooks = hooks_path(root.get())) {
    std::string resolved = resolve_inside(root.get(), *hooks);
    if (!resolved.empty() && std::find(aliases.begin(), aliases.end(), resolved) == aliases.end())
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
