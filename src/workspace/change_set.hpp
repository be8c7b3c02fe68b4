#pragma once
// The set of changes a workspace holds, as reviewed and as applied: each path with what the
// project has (before) and what the container made (after), which changes apply holds back,
// and the digest that binds `apply --digest` to exactly what `diff` showed.
#include <string>
#include <vector>

#include "workspace/file_state.hpp"

namespace cc::workspace {

struct Change {
  enum class Kind { added, modified, deleted };
  Kind kind = Kind::modified;
  std::string path;   // relative to the project, exact bytes
  FileState before;   // in the project (type none: absent)
  FileState after;    // in the container (type none: deleted)
  // The project's copy changed since the container's copy was taken (three-way check
  // against the recorded base); apply refuses it unless --force.
  bool conflict = false;
};

const char* kind_name(Change::Kind kind);

// Why apply does not take a change by default.
enum class HoldReason { none, git, control };
// .git/... at any depth (git), or a host-control path from project/control_files.hpp (control).
HoldReason hold_reason(const std::string& path);

// The mode apply gives a file or directory: permission bits only (no setuid, setgid, sticky).
inline mode_t applied_mode(mode_t mode) { return mode & 0777; }

// One line per change in a stable form: kind, path, and for both sides type, mode, content
// hash or link target, conflict. Sorted by path.
std::string canonical_listing(const std::vector<Change>& changes);
// sha256 of the canonical listing, first 32 hex digits (128 bits: a container cannot
// craft a second change set with the same digest).
std::string change_digest(const std::vector<Change>& changes);

// Sorts by path (a parent before what is below it).
void sort_changes(std::vector<Change>& changes);

}  // namespace cc::workspace
