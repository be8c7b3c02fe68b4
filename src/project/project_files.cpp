#include "project/project_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <system_error>

#include "config/config_io.hpp"
#include "project/container_layout.hpp"
#include "project/gitignore.hpp"
#include "project/manifest.hpp"
#include "project/templates/templates.hpp"
#include "config/limits.hpp"
#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::project {
namespace fs = std::filesystem;

namespace {

constexpr const char* kGitignore = ".gitignore";
constexpr std::size_t kMaxGeneratedBytes = 4 * 1024 * 1024;

std::chrono::system_clock::time_point now_or(const std::optional<std::chrono::system_clock::time_point>& now) {
  return now.value_or(std::chrono::system_clock::now());
}

// Every read, write and delete below goes through cc::beneath on this root: a link the
// repository shipped (scripts -> /host/dir, .gitignore -> ~/.ssh/id_x, link -> /root) is
// never followed, and nothing leaves the project.
class ProjectRoot {
 public:
  ProjectRoot(const fs::path& dir, std::string command) : dir_(dir), command_(std::move(command)), fd_(beneath::open_root(dir)) {}

  int fd() const { return fd_.get(); }

  // Refuses (one sentence, nothing written yet) unless `relative` can be written as a regular
  // file: every existing parent a real directory, the file itself absent or regular.
  void check_writable(const std::string& relative) const {
    fs::path prefix;
    const fs::path path(relative);
    for (auto it = path.begin(); it != path.end(); ++it) {
      prefix /= *it;
      const bool last = std::next(it) == path.end();
      const auto st = stat_or_refuse(prefix);
      if (!st) return;  // absent: created as a directory or file, beneath the root
      if (S_ISLNK(st->st_mode)) refuse_link(prefix);
      if (!last && !S_ISDIR(st->st_mode))
        refuse(prefix.string() + " is not a directory, so " + relative + " cannot be written below it");
      if (last && !S_ISREG(st->st_mode))
        refuse(relative + " is not a regular file (a directory or special file), so it cannot be written");
    }
  }

  std::optional<std::string> read(const std::string& relative, std::size_t limit = kMaxGeneratedBytes) const {
    try {
      return beneath::read_file(fd(), relative, limit);
    } catch (const Error& e) {
      refuse(e.what());
    }
  }

  // True when `relative` holds exactly what the manifest says we wrote there.
  bool unchanged_since_written(const ManifestEntry& entry) const {
    auto content = read(entry.path);
    return content && sha256_hex(*content) == entry.sha256;
  }

  bool exists(const std::string& relative) const { return stat_or_refuse(relative).has_value(); }

  void write(const std::string& relative, const std::string& content, mode_t mode) const {
    beneath::write_file(fd(), relative, content, mode);
  }

  // Keeps the file's permission bits as we want them even when the content was already right.
  void ensure_mode(const std::string& relative, mode_t mode) const {
    UniqueFd file = beneath::open_at(fd(), relative, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    struct stat st {};
    if (!file || ::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) return;
    if ((st.st_mode & 07777) != mode) ::fchmod(file.get(), mode);
  }

  void remove(const std::string& relative) const { beneath::remove_file(fd(), relative); }

  // Removes `relative_dir` and its parents (never the root) while they are empty.
  void remove_empty_dirs(fs::path relative_dir) const {
    while (!relative_dir.empty() && beneath::is_clean_relative(relative_dir)) {
      if (!beneath::remove_empty_directory(fd(), relative_dir)) return;
      relative_dir = relative_dir.parent_path();
    }
  }

  [[noreturn]] void refuse(const std::string& why) const {
    throw usage_error(command_ + " refused: " + why + ". Nothing was written or removed in " + dir_.string() + ".");
  }

 private:
  std::optional<struct stat> stat_or_refuse(const fs::path& relative) const {
    try {
      return beneath::stat_at(fd(), relative);
    } catch (const Error& e) {
      // A link further up the path ("link/known.txt" with link -> /root).
      fs::path prefix;
      for (const auto& part : relative) {
        prefix /= part;
        if (prefix == relative) break;
        auto st = beneath::stat_at(fd(), prefix);
        if (st && S_ISLNK(st->st_mode)) refuse_link(prefix);
      }
      refuse(e.what());
    }
  }

  [[noreturn]] void refuse_link(const fs::path& link) const {
    std::string target;
    char buffer[4096];
    const ssize_t n = ::readlinkat(fd(), link.c_str(), buffer, sizeof buffer - 1);
    if (n > 0) target = " -> " + std::string(buffer, static_cast<std::size_t>(n));
    throw usage_error(command_ + " refused: " + link.string() + " in " + dir_.string() + " is a symbolic link" + target +
                      ", and claude-container never writes or deletes through a link in a project; nothing was "
                      "written or removed. Remove the link (rm " + link.string() + ") and run the command again.");
  }

  fs::path dir_;
  std::string command_;
  UniqueFd fd_;
};

struct GitignoreResult {
  bool added = false;
  bool updated = false;
  bool damaged = false;
};

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

GitignoreResult write_gitignore_block(const ProjectRoot& root, Manifest& manifest) {
  GitignoreResult result;
  const auto existing = root.read(kGitignore, config::kMaxGitignoreBytes);
  const std::string text = existing.value_or("");
  const auto block_before = find_gitignore_block(text);
  const auto updated = gitignore_with_block(text, render_gitignore_block());
  if (!updated) {
    result.damaged = true;
    return result;
  }
  if (*updated != text) {
    root.write(kGitignore, *updated, 0644);
    result.added = block_before == GitignoreBlock::absent;
    result.updated = !result.added;
    if (!existing) manifest.gitignore_created_file = true;
  }
  manifest.gitignore_block = true;
  return result;
}

bool remove_gitignore_block(const ProjectRoot& root, const Manifest* manifest) {
  const auto existing = root.read(kGitignore, config::kMaxGitignoreBytes);
  if (!existing || find_gitignore_block(*existing) != GitignoreBlock::present) return false;
  const std::string remaining = gitignore_without_block(*existing);
  const bool we_created_it = manifest && manifest->gitignore_created_file;
  if (remaining.empty() && we_created_it) {
    root.remove(kGitignore);
  } else {
    root.write(kGitignore, remaining, 0644);
  }
  return true;
}

// Everything a purge would touch, checked before anything is removed.
void check_purge(const ProjectRoot& root, const std::optional<Manifest>& manifest) {
  if (manifest)
    for (const auto& entry : manifest->files) root.check_writable(entry.path);
  root.check_writable(kGitignore);
  root.check_writable(kManifestFile);
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
  const ProjectRoot root(project_dir, "init");

  const std::string time = iso8601_utc(now_or(options.now));
  const auto previous = load_manifest(project_dir);
  Manifest manifest = previous.value_or(Manifest{});
  if (!previous) manifest.created_at = time;
  const std::string previous_text = previous ? serialize_manifest(*previous) : "";
  const auto files = render_project_files(config);

  // Check every path first: a refused init writes nothing.
  for (const auto& file : files) root.check_writable(file.path);
  for (const auto& entry : manifest.files) root.check_writable(entry.path);
  root.check_writable(kGitignore);
  root.check_writable(kManifestFile);

  WriteReport report;
  for (const auto& file : files) {
    const auto existing = root.read(file.path);
    const ManifestEntry* entry = manifest.find(file.path);

    if (existing && *existing == file.content) {
      root.ensure_mode(file.path, file.mode);
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
    root.write(file.path, file.content, file.mode);
    record(manifest, file, time);
    report.written.push_back(file.path);
  }

  // Files an earlier configuration generated and this one does not (a Containerfile replaced
  // by the user's own): remove them while unchanged, keep them otherwise.
  std::set<std::string> wanted;
  for (const auto& file : files) wanted.insert(file.path);
  for (const auto& entry : std::vector<ManifestEntry>(manifest.files)) {
    if (wanted.count(entry.path)) continue;
    if (!root.exists(entry.path)) {
      manifest.remove(entry.path);
    } else if (root.unchanged_since_written(entry)) {
      root.remove(entry.path);
      manifest.remove(entry.path);
      report.removed.push_back(entry.path);
      root.remove_empty_dirs(fs::path(entry.path).parent_path());
    } else {
      report.kept_modified.push_back(entry.path);
    }
  }

  const GitignoreResult gitignore = write_gitignore_block(root, manifest);
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

void check_purge_project_files(const fs::path& project_dir) {
  const ProjectRoot root(project_dir, "destroy --purge");
  check_purge(root, load_manifest(project_dir));
}

PurgeReport purge_project_files(const fs::path& project_dir) {
  PurgeReport report;
  const ProjectRoot root(project_dir, "destroy --purge");
  const auto manifest = load_manifest(project_dir);
  check_purge(root, manifest);  // every entry beneath the root, before any delete
  std::set<fs::path> parents;
  if (manifest) {
    for (const auto& entry : manifest->files) {
      if (!root.exists(entry.path)) continue;
      if (root.unchanged_since_written(entry)) {
        root.remove(entry.path);
        report.removed.push_back(entry.path);
        parents.insert(fs::path(entry.path).parent_path());
      } else {
        report.kept_modified.push_back(entry.path);
      }
    }
  }
  report.gitignore_block_removed = remove_gitignore_block(root, manifest ? &*manifest : nullptr);
  if (manifest) {
    root.remove(kManifestFile);
    report.removed.push_back(kManifestFile);
    parents.insert(fs::path(kManifestFile).parent_path());
  }
  for (const auto& dir : parents) root.remove_empty_dirs(dir);
  return report;
}

void save_config_tracked(const fs::path& project_dir, const config::Config& config,
                         std::optional<std::chrono::system_clock::time_point> now) {
  config::parse_config(config::serialize_config(config), config::kConfigFile);
  auto manifest = load_manifest(project_dir);  // a manifest we cannot read stops us before any write
  config::save_config(project_dir, config);
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
