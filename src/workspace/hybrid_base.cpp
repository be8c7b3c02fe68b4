#include "workspace/hybrid_base.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <fstream>
#include <map>
#include <string_view>
#include <set>
#include <sstream>

#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/hex.hpp"

namespace cc::workspace {

namespace fs = std::filesystem;

namespace {

using Stamps = std::map<std::string, std::string>;

std::string join(const std::string& rel, const std::string& name) { return rel.empty() ? name : rel + "/" + name; }


// Temporary file and rename, without fsync: a base lost to a power cut is recorded again at
// the next start, and start should not wait for the disk.
void write_base(const fs::path& base_file, const Stamps& stamps) {
  std::string text = "cc-hybrid-base 1\n";
  for (const auto& [path, stamp] : stamps) text += "x" + to_hex(path) + " " + stamp + "\n";  // "x": never an empty field
  fs::path temp = base_file;
  temp += ".partial";
  {
    std::ofstream out(temp, std::ios::trunc | std::ios::binary);
    out << text;
    if (!out.flush()) throw Error("cannot write " + temp.string());
  }
  ::chmod(temp.c_str(), 0600);
  std::error_code ec;
  fs::rename(temp, base_file, ec);
  if (ec) throw Error("cannot write " + base_file.string() + ": " + ec.message());
}

void stamp_tree(int dir_fd, const std::string& rel, Stamps& out) {
  std::vector<std::string> names;
  try {
    names = list_directory(dir_fd);
  } catch (const Error&) {
    return;  // unreadable: nothing the container could have read either
  }
  for (const auto& name : names) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    std::string path = join(rel, name);
    out[path] = stamp_of(st);
    if (S_ISDIR(st.st_mode)) {
      UniqueFd sub = open_directory(dir_fd, name);
      if (sub) stamp_tree(sub.get(), path, out);
    }
  }
}

// Paths the change layer covers: every entry but a plain merged directory; "prefixes" are
// those that hide everything below them (whiteouts, opaque dirs, non-directories).
void covered_paths(int dir_fd, const std::string& rel, std::set<std::string>& covered, std::set<std::string>& prefixes) {
  for (const auto& name : list_directory(dir_fd)) {
    struct stat st {};
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    std::string path = join(rel, name);
    covered.insert(path);
    if (!S_ISDIR(st.st_mode)) {
      prefixes.insert(path);
      continue;
    }
    UniqueFd sub = open_directory(dir_fd, name);
    if (!sub) continue;
    if (is_opaque_directory(sub.get())) prefixes.insert(path);
    covered_paths(sub.get(), path, covered, prefixes);
  }
}

bool below_any(const std::string& path, const std::set<std::string>& prefixes) {
  for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (prefixes.count(path.substr(0, slash))) return true;
  }
  return false;
}

std::optional<Stamps> read_base(const fs::path& base_file) {
  auto text = read_file_if_exists(base_file);
  if (!text) return std::nullopt;
  Stamps stamps;
  std::istringstream lines(*text);
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    auto space = line.find(' ');
    if (space == std::string::npos || line[0] != 'x') continue;
    auto path = from_hex(std::string_view(line).substr(1, space - 1));
    if (!path) continue;  // damaged: a missing stamp only makes that path a conflict
    stamps.emplace_hint(stamps.end(), std::move(*path), line.substr(space + 1));
  }
  return stamps;
}

}  // namespace

void record_hybrid_base(const fs::path& project, const fs::path& upper, const fs::path& base_file) {
  Stamps fresh;
  UniqueFd project_fd = beneath::open_root(project);
  stamp_tree(project_fd.get(), "", fresh);
  std::set<std::string> covered, prefixes;
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(upper, ec))) {
    UniqueFd upper_fd = beneath::open_root(upper);
    covered_paths(upper_fd.get(), "", covered, prefixes);
  }
  // An empty change layer covers nothing: no earlier stamp to keep.
  std::optional<Stamps> old = covered.empty() ? std::nullopt : read_base(base_file);
  if (old) {
    // What the change layer covers keeps the stamp from when its copy was taken (or its absence).
    for (const auto& path : covered) fresh.erase(path);
    for (auto it = fresh.begin(); it != fresh.end();) it = below_any(it->first, prefixes) ? fresh.erase(it) : std::next(it);
    for (const auto& [path, stamp] : *old) {
      if (covered.count(path) || below_any(path, prefixes)) fresh[path] = stamp;
    }
  }
  write_base(base_file, fresh);
}

void advance_hybrid_base(const fs::path& project, const fs::path& base_file, const std::vector<const Change*>& applied) {
  auto base = read_base(base_file);
  if (!base) return;
  UniqueFd project_fd = beneath::open_root(project);
  for (const Change* c : applied) {
    std::optional<struct stat> st;
    try {
      st = beneath::stat_at(project_fd.get(), c->path);
    } catch (const Error&) {
    }
    if (st) (*base)[c->path] = stamp_of(*st);
    else base->erase(c->path);
  }
  write_base(base_file, *base);
}

void mark_hybrid_conflicts(const fs::path& base_file, std::vector<Change>& changes) {
  auto base = read_base(base_file);
  if (!base) return;
  for (auto& c : changes) {
    auto it = base->find(c.path);
    std::string expected = it == base->end() ? "" : it->second;
    std::string now = c.before.type == FileType::none ? "" : c.before.stamp;
    c.conflict = now != expected;
  }
}

}  // namespace cc::workspace
