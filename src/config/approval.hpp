#pragma once
// Config approval, the model direnv and mise use: a project's config takes effect only after
// this user approved its exact content on this machine. The approval (the content's sha256
// and a copy of the approved text, so the next change can be described) is kept per
// canonical project path under the user's state directory, never in the project, where a
// repository or a container could forge it.
#include <filesystem>
#include <optional>
#include <string>

namespace cc::config {

// This user's claude-container state directory: $XDG_STATE_HOME/claude-container when
// XDG_STATE_HOME is an absolute path; else /var/lib/claude-container for root; else
// ~/.local/state/claude-container.
std::filesystem::path user_state_root();

struct Approval {
  std::string project;        // the canonical project path it was given for
  std::string config_sha256;  // of config_text
  std::string config_text;    // exactly what was approved
  std::string approved_at;    // UTC, ISO 8601
  // credentials.ca_file's content when approved (see ca_file_digest): a CA the repository
  // swaps in later could read the real API key on its way upstream, so it needs approval too.
  std::string ca_file_sha256;
};

// What the approval records of the CA file `config_text` names, read beneath the project as
// the engine reads it: "" when it names none, the content's sha256, "missing" or "unreadable".
std::string ca_file_digest(const std::filesystem::path& project_dir, const std::string& config_text);

// The approval recorded for `project_dir` (canonical), or nullopt when there is none or the
// record is unreadable (then nothing counts as approved).
std::optional<Approval> load_approval(const std::filesystem::path& project_dir);

// Records `config_text` as approved for `project_dir`; atomic (temp file, fsync, rename),
// readable by this user only.
void record_approval(const std::filesystem::path& project_dir, const std::string& config_text);

// True when exactly `config_text` is the approved content for `project_dir`, and the CA file it
// names holds what it held then.
bool is_approved(const std::filesystem::path& project_dir, const std::string& config_text);

}  // namespace cc::config
