#pragma once
// The copy path of the skills (integrations/skills.hpp) for engines that copy instead of
// mounting: a tar archive of a clean copy (directories and regular files only, no link that
// leaves its item), streamed into the container where kSkillsUnpackScript unpacks it.
#include <string>
#include <vector>

#include "integrations/skills.hpp"
#include "util/unique_fd.hpp"

namespace cc::integrations {

struct SkillArchive {
  UniqueFd fd;        // an anonymous file, rewound, holding the tar archive
  CopyReport report;  // what went in and what was left out
};

// Copies `items` into a private temporary directory (copy_skill_items), archives that copy
// with tar (which then meets no link and no special file), removes the copy. Throws cc::Error.
SkillArchive archive_skill_items(const std::vector<SkillItem>& items, const CopyLimits& limits = {});

// Run inside with the archive on stdin: replaces each shared entry in the agent's configuration
// directory (CLAUDE_CONFIG_DIR, else ~/.claude) by the archived one, entry by entry, after the
// whole archive unpacked, so a failed copy leaves the old entries.
extern const char* const kSkillsUnpackScript;

}  // namespace cc::integrations
