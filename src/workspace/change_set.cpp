#include "workspace/change_set.hpp"

#include <algorithm>
#include <cstdio>

#include "project/control_files.hpp"
#include "util/file_io.hpp"

namespace cc::workspace {

const char* kind_name(Change::Kind kind) {
  switch (kind) {
    case Change::Kind::added: return "added";
    case Change::Kind::modified: return "modified";
    case Change::Kind::deleted: return "deleted";
  }
  return "modified";
}

HoldReason hold_reason(const std::string& path) {
  // Any repository's .git, nested ones (submodules, vendored checkouts) included.
  if (path == ".git" || path.rfind(".git/", 0) == 0 || path.find("/.git/") != std::string::npos ||
      (path.size() > 5 && path.compare(path.size() - 5, 5, "/.git") == 0)) {
    return HoldReason::git;
  }
  if (project::find_control_path(path) != nullptr) return HoldReason::control;
  // A directory that holds a control path (".claude" holding .claude/settings.json) is
  // itself an ordinary change; what is below it is checked on its own.
  return HoldReason::none;
}

namespace {

std::string side(const FileState& s) {
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(s.mode));
  std::string out = std::string(type_name(s.type)) + " " + mode;
  if (s.type == FileType::regular) out += " " + s.sha256 + (s.capabilities ? " caps" : "");
  if (s.type == FileType::symlink) out += " " + std::to_string(s.link_target.size()) + ":" + s.link_target;
  return out;
}

}  // namespace

std::string canonical_listing(const std::vector<Change>& changes) {
  std::vector<const Change*> sorted;
  for (const auto& c : changes) sorted.push_back(&c);
  std::sort(sorted.begin(), sorted.end(), [](const Change* a, const Change* b) { return a->path < b->path; });
  std::string out;
  for (const Change* c : sorted) {
    // Length-prefixed path: no name can pass for another line.
    out += std::string(kind_name(c->kind)) + " " + std::to_string(c->path.size()) + ":" + c->path + " | " +
           side(c->before) + " | " + side(c->after) + (c->conflict ? " | conflict" : "") + "\n";
  }
  return out;
}

std::string change_digest(const std::vector<Change>& changes) {
  return sha256_hex(canonical_listing(changes)).substr(0, 32);
}

void sort_changes(std::vector<Change>& changes) {
  std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) { return a.path < b.path; });
}

}  // namespace cc::workspace
