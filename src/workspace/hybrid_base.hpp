#pragma once
// The base of the three-way check for hybrid storage. The container's copy of a project file
// is taken when it first writes it (copy-up), and from then on the host may change the
// project's copy underneath without the container seeing it. So at every start the project's
// stamps (inode, size, mtime, ctime: no content read, so it stays cheap) are recorded,
// keeping the earlier record for every path the change layer already covers (copied up,
// whited out, or below an opaque or replaced directory). A change whose project copy no
// longer has the recorded stamp changed on the host since the container's copy was taken.
#include <filesystem>
#include <vector>

#include "workspace/change_set.hpp"

namespace cc::workspace {

// Called with the container stopped, before it starts.
void record_hybrid_base(const std::filesystem::path& project, const std::filesystem::path& upper,
                        const std::filesystem::path& base_file);

// After an apply that left the change layer in place: the applied paths' new project stamps
// are the base now (apply changed them, not the host).
void advance_hybrid_base(const std::filesystem::path& project, const std::filesystem::path& base_file,
                         const std::vector<const Change*>& applied);

// Sets Change::conflict where the project's copy moved away from the base. Without a base
// file (a container started by an older version) nothing is marked.
void mark_hybrid_conflicts(const std::filesystem::path& base_file, std::vector<Change>& changes);

}  // namespace cc::workspace
