#pragma once
// Config approval, the model direnv and mise use: a project's config takes effect only after
// this user approved its exact content on this machine. The approval (the content's sha256
// and a copy of the approved text, so the next change can be described) is kept per
// canonical project path under the user's state directory, never in the project, where a
// repository or a container could forge it.
#include <filesystem>
#include <optional>
#include <string>

#include "config/config.hpp"

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
  // image.containerfile's content when approved, for configs that build an image (see
  // containerfile_digest): its RUN steps run on this machine's build machinery.
  std::string containerfile_sha256;
};

// Whether the engine `config` names may build an image from image.containerfile: docker,
// podman and apple; and auto, which is apple on macOS and falls back to podman or docker on
// Linux when the native engine cannot run.
bool builds_image(const Config& config);

// image.containerfile read beneath the project, bounded, exactly as an image engine reads it;
// nullopt when it does not exist.
std::optional<std::string> read_containerfile(const std::filesystem::path& project_dir, const Config& config);

// What the approval records of the Containerfile for `config_text`: "" when the config builds
// no image (or does not parse), else the content's sha256, "missing" or "unreadable".
std::string containerfile_digest(const std::filesystem::path& project_dir, const std::string& config_text);

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
// names and the Containerfile it builds from (see builds_image) hold what they held then.
bool is_approved(const std::filesystem::path& project_dir, const std::string& config_text);

}  // namespace cc::config
