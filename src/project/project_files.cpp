#include "project/project_files.hpp"

#include <algorithm>
#include <set>
#include <system_error>

#include "config/config_io.hpp"
#include "project/container_layout.hpp"
#include "project/gitignore.hpp"
#include "project/manifest.hpp"
#include "project/templates/templates.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::project {
namespace fs = std::filesystem;

namespace {

constexpr const char* kGitignore = ".gitignore";

std::chrono::system_clock::time_point now_or(const std::optional<std::chrono::system_clock::time_point>& now) {
  return now.value_or(std::chrono::system_clock::now());
}

// True when `path` holds exactly what the manifest says we wrote there.
bool unchanged_since_written(const fs::path& path, const ManifestEntry& entry) {
  auto content = read_file_if_exists(path);
  return content && sha256_hex(*content) == entry.sha256;
}

void record(Manifest& manifest, const GeneratedFile& file, const std::string& time) {
  const std::string sha = sha256_hex(file.content);
  if (auto* entry = manifest.find(file.path)) {
    if (entry->sha256 != sha || entry->mode != file.mode) {
      entry->sha256 = sha;
      entry->mode = file.mode;
      entry->updated_at = time;
    }
    return;
  }
  manifest.files.push_back({file.path, sha, file.mode, time, time});
}

// Removes `dir` and its parents up to (not including) `project_dir` while they are empty.
void remove_empty_dirs(const fs::path& project_dir, fs::path dir) {
  std::error_code ec;
  while (!dir.empty() && dir != project_dir && fs::is_directory(dir, ec) && fs::is_empty(dir, ec)) {
    fs::remove(dir, ec);
    if (ec) return;
    dir = dir.parent_path();
  }
}

// Keeps the file's permission bits as we want them even when the content was already right.
void ensure_mode(const fs::path& path, mode_t mode) {
  std::error_code ec;
  const auto current = fs::status(path, ec).permissions();
  if (ec) return;
  if ((static_cast<mode_t>(current) & 07777) != mode)
    fs::permissions(path, static_cast<fs::perms>(mode), fs::perm_options::replace, ec);
}

struct GitignoreResult {
  bool added = false;
  bool updated = false;
  bool damaged = false;
};

GitignoreResult write_gitignore_block(const fs::path& project_dir, Manifest& manifest) {
  GitignoreResult result;
  const fs::path path = project_dir / kGitignore;
  const auto existing = read_file_if_exists(path);
  const std::string text = existing.value_or("");
  const auto block_before = find_gitignore_block(text);
  const auto updated = gitignore_with_block(text, render_gitignore_block());
  if (!updated) {
    result.damaged = true;
    return result;
  }
  if (*updated != text) {
    write_file_atomic(path, *updated, 0644);
    result.added = block_before == GitignoreBlock::absent;
    result.updated = !result.added;
    if (!existing) manifest.gitignore_created_file = true;
  }
  manifest.gitignore_block = true;
  return result;
}

bool remove_gitignore_block(const fs::path& project_dir, const Manifest* manifest) {
  const fs::path path = project_dir / kGitignore;
  const auto existing = read_file_if_exists(path);
  if (!existing || find_gitignore_block(*existing) != GitignoreBlock::present) return false;
  const std::string remaining = gitignore_without_block(*existing);
  const bool we_created_it = manifest && manifest->gitignore_created_file;
  if (remaining.empty() && we_created_it) {
    fs::remove(path);
  } else {
    write_file_atomic(path, remaining, 0644);
  }
  return true;
}

}  // namespace

std::vector<GeneratedFile> render_project_files(const config::Config& config) {
  std::vector<GeneratedFile> files;
  files.push_back({config::kConfigFile, config::serialize_config(config), 0644});
  files.push_back({kSpecFile, render_container_spec(config), 0644});
  // A Containerfile of the user's own (image.containerfile elsewhere) is theirs: we write none.
  if (config.image.containerfile == kDefaultContainerfile)
    files.push_back({kDefaultContainerfile, render_containerfile(config), 0644});
  files.push_back({kMcpConfigFile, render_mcp_config(config), 0644});
  files.push_back({kContainerScript, render_container_script(), 0755});
  files.push_back({kSetupMcpScript, render_setup_mcp_script(config), 0755});
  files.push_back({kSyncSkillsScript, render_sync_skills_script(config), 0755});
  return files;
}

WriteReport write_project_files(const fs::path& project_dir, const config::Config& config,
                                const WriteOptions& options) {
  // Never write a config.json that the next read would refuse: validate before touching
  // anything, so a bad setting leaves the project as it was.
  config::parse_config(config::serialize_config(config), config::kConfigFile);

  const std::string time = iso8601_utc(now_or(options.now));
  const auto previous = load_manifest(project_dir);
  Manifest manifest = previous.value_or(Manifest{});
  if (!previous) manifest.created_at = time;
  const std::string previous_text = previous ? serialize_manifest(*previous) : "";

  WriteReport report;
  const auto files = render_project_files(config);
  for (const auto& file : files) {
    const fs::path path = project_dir / file.path;
    fs::create_directories(path.parent_path());
    const auto existing = read_file_if_exists(path);
    const ManifestEntry* entry = manifest.find(file.path);

    if (existing && *existing == file.content) {
      ensure_mode(path, file.mode);
      record(manifest, file, time);  // claims a file identical to ours, e.g. after a lost manifest
      report.unchanged.push_back(file.path);
      continue;
    }
    // config.json holds the settings just chosen; every other file is ours only while its
    // content is what we last wrote.
    const bool ours_untouched = entry && existing && sha256_hex(*existing) == entry->sha256;
    const bool may_write = !existing || ours_untouched || options.force || file.path == config::kConfigFile;
    if (!may_write) {
      report.kept_modified.push_back(file.path);
      continue;
    }
    write_file_atomic(path, file.content, file.mode);
    record(manifest, file, time);
    report.written.push_back(file.path);
  }

  // Files an earlier configuration generated and this one does not (a Containerfile replaced
  // by the user's own): remove them while unchanged, keep them otherwise.
  std::set<std::string> wanted;
  for (const auto& file : files) wanted.insert(file.path);
  for (const auto& entry : std::vector<ManifestEntry>(manifest.files)) {
    if (wanted.count(entry.path)) continue;
    const fs::path path = project_dir / entry.path;
    if (!fs::exists(path)) {
      manifest.remove(entry.path);
    } else if (unchanged_since_written(path, entry)) {
      fs::remove(path);
      manifest.remove(entry.path);
      report.removed.push_back(entry.path);
      remove_empty_dirs(project_dir, path.parent_path());
    } else {
      report.kept_modified.push_back(entry.path);
    }
  }

  const GitignoreResult gitignore = write_gitignore_block(project_dir, manifest);
  report.gitignore_block_added = gitignore.added;
  if (gitignore.updated) report.written.push_back(kGitignore);
  if (gitignore.damaged) report.kept_modified.push_back(kGitignore);

  // The manifest changes only when something it records changed, so an identical re-run
  // leaves every byte of the project as it was.
  manifest.tool_version = CC_VERSION;
  Manifest candidate = manifest;
  candidate.updated_at = previous ? previous->updated_at : time;
  if (serialize_manifest(candidate) != previous_text) {
    manifest.updated_at = time;
    save_manifest(project_dir, manifest);
  }
  return report;
}

PurgeReport purge_project_files(const fs::path& project_dir) {
  PurgeReport report;
  const auto manifest = load_manifest(project_dir);
  std::set<fs::path> parents;
  if (manifest) {
    for (const auto& entry : manifest->files) {
      const fs::path path = project_dir / entry.path;
      if (!fs::exists(path)) continue;
      if (unchanged_since_written(path, entry)) {
        fs::remove(path);
        report.removed.push_back(entry.path);
        parents.insert(path.parent_path());
      } else {
        report.kept_modified.push_back(entry.path);
      }
    }
  }
  report.gitignore_block_removed = remove_gitignore_block(project_dir, manifest ? &*manifest : nullptr);
  if (manifest) {
    fs::remove(project_dir / kManifestFile);
    report.removed.push_back(kManifestFile);
    parents.insert((project_dir / kManifestFile).parent_path());
  }
  for (const auto& dir : parents) remove_empty_dirs(project_dir, dir);
  return report;
}

void save_config_tracked(const fs::path& project_dir, const config::Config& config,
                         std::optional<std::chrono::system_clock::time_point> now) {
  config::parse_config(config::serialize_config(config), config::kConfigFile);
  config::save_config(project_dir, config);
  auto manifest = load_manifest(project_dir);
  if (!manifest) return;  // nothing records the project's files: nothing to keep in step
  const std::string time = iso8601_utc(now_or(now));
  const GeneratedFile file{config::kConfigFile, config::serialize_config(config), 0644};
  const std::string before = serialize_manifest(*manifest);
  record(*manifest, file, time);
  if (serialize_manifest(*manifest) != before) {
    manifest->updated_at = time;
    save_manifest(project_dir, *manifest);
  }
}

}  // namespace cc::project
