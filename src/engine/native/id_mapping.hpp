#pragma once
// As root, the container must never be host uid 0 (issue 9): it runs in a subordinate id range
// (/etc/subuid and /etc/subgid for root; one is allocated there, as `usermod --add-subuids`
// would, when root has none). The project is then mounted idmapped (mount_setattr with
// MOUNT_ATTR_IDMAP), so the project owner's files are the container root's inside and files
// made inside belong to the project owner on the host, never to a subordinate id. The
// container's home, volume and overlay layers belong to the range's first id on the host.
//
// Rootless: the invoking uid maps to 0 inside (one id); nothing here is needed.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "util/unique_fd.hpp"

namespace cc::engine::native {

struct SubordinateRange {
  uid_t uid_start = 0;
  gid_t gid_start = 0;
  unsigned count = 65536;
};

// root's range from /etc/subuid and /etc/subgid; appends one to both files when root has
// none. Throws cc::Error with the fix when neither works. `note` says what was allocated.
SubordinateRange root_subordinate_range(std::string* note);

// A user namespace whose maps turn on-disk `owner` ids into the container's root and leave the
// rest of the range as it is; used only as the idmap of a mount. Throws cc::Error.
UniqueFd make_idmap_userns(uid_t owner_uid, gid_t owner_gid, const SubordinateRange& range);

// A detached recursive clone of `source`, idmapped through `userns`, nosuid and nodev (and
// read-only when asked). Attach it with move_mount. Throws cc::Error explaining what the
// kernel or file system refused.
UniqueFd idmapped_clone(const std::filesystem::path& source, int userns, bool read_only);

// Gives `path` and everything below it (not following symlinks) to uid/gid.
void chown_tree(const std::filesystem::path& path, uid_t uid, gid_t gid);

}  // namespace cc::engine::native
