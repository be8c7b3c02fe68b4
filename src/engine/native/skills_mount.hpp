#pragma once
// The host's skills (integrations/skills.hpp) as read-only bind mounts in the container's
// agent configuration directory (/root/.claude), at start and into a running container.
//
// The container's home is written by the sandbox and persists, so /root/.claude/skills may be
// a symlink a previous run planted (to /etc, to the workspace). Every mount target is opened
// beneath /root with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) and mounted onto by
// descriptor: a planted link is removed on the host side before start (with a note) and, if
// one appears anyway, the mount fails instead of following it.
//
// Symlinks inside a mounted host tree are not followed on the host: the kernel resolves a
// link when a process inside opens it, against that process's root and mounts, i.e. the
// container's view. A link to /home/user/.ssh/id_rsa names the container's /home (an empty
// directory), and "../../.." climbs the container's tree, not the host's; nothing of the host
// outside the mounted trees is reachable through them.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/native/rootfs.hpp"
#include "integrations/skills.hpp"

namespace cc::engine::native {

// Where the shared entries appear, relative to the container's home (/root).
inline constexpr const char* kSkillsHomeDir = ".claude";

// Host side, before the sandbox starts: prepares the mount targets in `home` (the host
// directory mounted at /root) without following any link, owned by uid/gid (the container's
// root on the host), and appends a bind_beneath step per item to `plan`. Returns notes for
// the user (a planted link removed, an entry of the wrong type left unshared).
std::vector<std::string> plan_skill_mounts(RootfsPlan& plan, const std::filesystem::path& home,
                                           const std::vector<integrations::SkillItem>& items, uid_t uid, gid_t gid);

// Child side (noexcept, no allocation): mounts the detached tree `tree` read-only onto
// `relative` beneath the directory `base`, resolved with no symlink followed. `replace`:
// detach what is mounted there first (a refresh).
int attach_skill_tree(int tree, const char* base, const char* relative, bool replace) noexcept;
// The same for the host entry `source` (cloned here), at start.
int mount_skill_item(const char* source, const char* base, const char* relative) noexcept;

struct SkillRefresh {
  std::vector<std::string> mounted;  // names mounted (again) into the running container
  std::vector<std::string> notes;
};

// Mounts `items` (again) into the running container whose init is `init_pid`: a fresh clone
// of each host entry replaces the one mounted before, so entries created since the start and
// a CLAUDE.md replaced by rename show. The clone is made in a fresh user and mount namespace
// (rootless we may not clone in the host's) and handed over a socket to a process that joined
// the container's namespaces. Throws cc::Error when the container cannot be entered.
SkillRefresh refresh_skill_mounts(pid_t init_pid, std::uint64_t init_start_time,
                                  const std::vector<integrations::SkillItem>& items);

}  // namespace cc::engine::native
