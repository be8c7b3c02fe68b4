// Writing, re-writing and purging the project files: the manifest, keep-modified and force,
// the .gitignore block, and purge removing exactly what is ours and unchanged.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "config/config_io.hpp"
#include "project/container_layout.hpp"
#include "project/gitignore.hpp"
#include "project/manifest.hpp"
#include "project/project_files.hpp"
#include "project/templates/templates.hpp"
#include "project_test_support.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::project {
namespace {

namespace fs = std::filesystem;
using config::Config;
using config::Mode;

const std::vector<std::string> kAllFiles = {".claude-container/config.json", ".claude-container/CONTAINER-SPEC.md",
                                            ".claude-container/Containerfile", ".claude-container/mcp-config.json",
                                            "scripts/container", "scripts/setup-mcp.sh", "scripts/sync-skills.sh"};

Config playground() { return config::preset(Mode::playground, "demo-playground"); }

WriteReport write(const test::TempDir& dir, const Config& config, bool force = false, int clock = 0) {
  return write_project_files(dir.path(), config, {.force = force, .now = test::fixed_time(clock)});
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(ProjectFiles, FirstWriteCreatesEveryFileWithItsMode) {
  test::TempDir dir;
  const WriteReport report = write(dir, playground());
  EXPECT_EQ(report.written, kAllFiles);
  EXPECT_TRUE(report.unchanged.empty());
  EXPECT_TRUE(report.kept_modified.empty());
  EXPECT_TRUE(report.gitignore_block_added);
  for (const auto& file : kAllFiles) {
    ASSERT_TRUE(fs::is_regular_file(dir / file)) << file;
    const bool script = file.rfind("scripts/", 0) == 0;
    EXPECT_EQ(mode_of(dir / file), script ? 0755u : 0644u) << file;
  }
  EXPECT_TRUE(fs::is_regular_file(dir / kManifestFile));
  EXPECT_EQ(config::load_config(dir.path()).name, "demo-playground");
}

TEST(ProjectFiles, InvalidConfigWritesNothing) {
  test::TempDir dir;
  Config bad = playground();
  bad.name = "Not Valid";
  try {
    write(dir, bad);
    FAIL() << "an invalid name was written";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::usage);
    EXPECT_NE(std::string(e.what()).find("name: found \"Not Valid\""), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
  write(dir, playground());
  Config secret = playground();
  secret.env["API_TOKEN"] = "literal";
  EXPECT_THROW(save_config_tracked(dir.path(), secret), Error);
  EXPECT_EQ(config::load_config(dir.path()).env.size(), 0u);
}

TEST(ProjectFiles, RenderMatchesWhatIsWritten) {
  test::TempDir dir;
  write(dir, playground());
  for (const auto& file : render_project_files(playground())) EXPECT_EQ(read_file(dir / file.path), file.content);
}

TEST(ManifestFile, ListsEveryFileWithSha256VersionAndTimes) {
  test::TempDir dir;
  write(dir, playground());
  const auto manifest = load_manifest(dir.path());
  ASSERT_TRUE(manifest);
  EXPECT_EQ(manifest->tool_version, CC_VERSION);
  EXPECT_EQ(manifest->created_at, "2026-01-02T03:04:05Z");
  EXPECT_EQ(manifest->updated_at, "2026-01-02T03:04:05Z");
  EXPECT_TRUE(manifest->gitignore_block);
  EXPECT_TRUE(manifest->gitignore_created_file);
  std::vector<std::string> paths;
  for (const auto& entry : manifest->files) {
    paths.push_back(entry.path);
    EXPECT_EQ(entry.sha256, sha256_hex(read_file(dir / entry.path))) << entry.path;
    EXPECT_EQ(entry.mode, mode_of(dir / entry.path)) << entry.path;
    EXPECT_EQ(entry.created_at, "2026-01-02T03:04:05Z");
  }
  EXPECT_EQ(paths, kAllFiles);

  // The JSON itself, as other tools would read it.
  const auto json = nlohmann::json::parse(read_file(dir / kManifestFile));
  EXPECT_EQ(json.at("tool"), "claude-container");
  EXPECT_EQ(json.at("files").at(4).at("mode"), "0755");
  EXPECT_EQ(json.at("files").at(0).at("path"), ".claude-container/config.json");
}

TEST(ManifestFile, IdenticalRerunChangesNoByte) {
  test::TempDir dir;
  write(dir, playground());
  const std::string manifest_before = read_file(dir / kManifestFile);
  const std::string gitignore_before = read_file(dir / ".gitignore");
  const WriteReport again = write(dir, playground(), false, 3600);
  EXPECT_TRUE(again.written.empty());
  EXPECT_EQ(again.unchanged, kAllFiles);
  EXPECT_FALSE(again.gitignore_block_added);
  EXPECT_EQ(read_file(dir / kManifestFile), manifest_before);
  EXPECT_EQ(read_file(dir / ".gitignore"), gitignore_before);
}

TEST(ManifestFile, ChangedConfigUpdatesEntriesAndKeepsCreationTime) {
  test::TempDir dir;
  write(dir, playground());
  Config changed = playground();
  changed.mcp.servers = {config::McpServer::brave};
  const WriteReport report = write(dir, changed, false, 60);
  EXPECT_EQ(sorted(report.written), sorted({".claude-container/config.json", ".claude-container/CONTAINER-SPEC.md",
                                            ".claude-container/Containerfile", ".claude-container/mcp-config.json",
                                            "scripts/setup-mcp.sh"}));
  EXPECT_EQ(sorted(report.unchanged), sorted({"scripts/container", "scripts/sync-skills.sh"}));
  const auto manifest = load_manifest(dir.path());
  EXPECT_EQ(manifest->created_at, "2026-01-02T03:04:05Z");
  EXPECT_EQ(manifest->updated_at, "2026-01-02T03:05:05Z");
  const auto* spec = manifest->find(kMcpConfigFile);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->created_at, "2026-01-02T03:04:05Z");
  EXPECT_EQ(spec->updated_at, "2026-01-02T03:05:05Z");
  EXPECT_EQ(spec->sha256, sha256_hex(read_file(dir / kMcpConfigFile)));
  EXPECT_EQ(manifest->find(kContainerScript)->updated_at, "2026-01-02T03:04:05Z");
}

TEST(ManifestFile, MalformedManifestIsAUsageErrorNamingIt) {
  test::TempDir dir;
  write(dir, playground());
  write_file_atomic(dir / kManifestFile, "{\"schema_version\": 1}");
  try {
    write(dir, playground());
    FAIL() << "a broken manifest was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::usage);
    EXPECT_NE(std::string(e.what()).find("manifest.json"), std::string::npos) << e.what();
  }
  write_file_atomic(dir / kManifestFile, "not json");
  EXPECT_THROW(purge_project_files(dir.path()), Error);
}

TEST(ManifestFile, PathsOutsideTheProjectAreRefused) {
  Manifest m;
  m.files.push_back({"../outside", std::string(64, 'a'), 0644, "t", "t"});
  EXPECT_THROW(parse_manifest(serialize_manifest(m), "manifest.json"), Error);
  m.files[0].path = "/etc/passwd";
  EXPECT_THROW(parse_manifest(serialize_manifest(m), "manifest.json"), Error);
  m.files[0].path = "scripts/ok";
  EXPECT_EQ(parse_manifest(serialize_manifest(m), "manifest.json").files.at(0).path, "scripts/ok");
}

// A cloned repository ships a manifest claiming .git/HEAD, with the sha256 of the content
// every clone has there. init (a file "an earlier configuration generated") and destroy
// --purge then deleted it, breaking the user's repository.
TEST(ManifestFile, AManifestListingFilesTheToolNeverWritesIsRefusedAndNothingIsDeleted) {
  test::TempDir dir;
  write(dir, playground());
  const std::string head = "ref: refs/heads/main\n";
  fs::create_directories(dir / ".git");
  write_file_atomic(dir / ".git/HEAD", head);
  auto manifest = load_manifest(dir.path());
  ASSERT_TRUE(manifest);
  manifest->files.push_back({".git/HEAD", sha256_hex(head), 0644, "t", "t"});
  write_file_atomic(dir / kManifestFile, serialize_manifest(*manifest));
  try {
    write(dir, playground());
    FAIL() << "init accepted a manifest that lists .git/HEAD";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("never writes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(purge_project_files(dir.path()), Error);
  EXPECT_EQ(read_file(dir / ".git/HEAD"), head);
}

TEST(ProjectFiles, FileChangedByAPersonIsKeptAndReported) {
  test::TempDir dir;
  write(dir, playground());
  write_file_atomic(dir / kContainerScript, "#!/bin/sh\necho mine\n", 0755);
  Config changed = playground();
  changed.network.policy = config::NetworkPolicy::none;  // changes the spec, not the script
  const WriteReport report = write(dir, changed);
  EXPECT_EQ(report.kept_modified, std::vector<std::string>{kContainerScript});
  EXPECT_EQ(read_file(dir / kContainerScript), "#!/bin/sh\necho mine\n");
  // The manifest still records what we wrote, so the file stays "changed by a person".
  EXPECT_NE(load_manifest(dir.path())->find(kContainerScript)->sha256, sha256_hex("#!/bin/sh\necho mine\n"));
  EXPECT_EQ(write(dir, changed).kept_modified, std::vector<std::string>{kContainerScript});
}

TEST(ProjectFiles, ForceOverwritesWhatAPersonChanged) {
  test::TempDir dir;
  write(dir, playground());
  write_file_atomic(dir / kSpecFile, "my notes\n");
  const WriteReport report = write(dir, playground(), /*force=*/true);
  EXPECT_EQ(report.written, std::vector<std::string>{kSpecFile});
  EXPECT_TRUE(report.kept_modified.empty());
  EXPECT_NE(read_file(dir / kSpecFile), "my notes\n");
}

TEST(ProjectFiles, PreexistingFilesOfTheUserAreNotClaimed) {
  test::TempDir dir;
  fs::create_directories(dir / "scripts");
  write_file_atomic(dir / kContainerScript, "#!/bin/sh\n# the user's own\n", 0700);
  const WriteReport report = write(dir, playground());
  EXPECT_EQ(report.kept_modified, std::vector<std::string>{kContainerScript});
  EXPECT_EQ(load_manifest(dir.path())->find(kContainerScript), nullptr);
  EXPECT_EQ(mode_of(dir / kContainerScript), 0700u);
  // A purge therefore leaves it alone.
  const PurgeReport purge = purge_project_files(dir.path());
  EXPECT_TRUE(fs::exists(dir / kContainerScript));
  EXPECT_EQ(std::count(purge.removed.begin(), purge.removed.end(), kContainerScript), 0);
}

TEST(ProjectFiles, AFileIdenticalToOursIsClaimed) {
  test::TempDir dir;
  write(dir, playground());
  fs::remove(dir / kManifestFile);  // e.g. a fresh clone: the manifest is not committed
  const WriteReport report = write(dir, playground());
  EXPECT_EQ(report.unchanged, kAllFiles);
  EXPECT_EQ(load_manifest(dir.path())->files.size(), kAllFiles.size());
}

TEST(ProjectFiles, ConfigJsonIsAlwaysWrittenBecauseItIsTheChosenSettings) {
  test::TempDir dir;
  write(dir, playground());
  write_file_atomic(dir / config::kConfigFile, "{\"hand\": \"edited\"}\n");
  const WriteReport report = write(dir, playground());
  EXPECT_EQ(report.written, std::vector<std::string>{config::kConfigFile});
  EXPECT_EQ(config::load_config(dir.path()).name, "demo-playground");
}

TEST(ProjectFiles, ScriptModeIsRestoredWhenContentIsRight) {
  test::TempDir dir;
  write(dir, playground());
  fs::permissions(dir / kSetupMcpScript, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  write(dir, playground());
  EXPECT_EQ(mode_of(dir / kSetupMcpScript), 0755u);
}

TEST(ProjectFiles, OwnContainerfileReplacesTheGeneratedOne) {
  test::TempDir dir;
  write(dir, playground());
  Config own = playground();
  own.image.containerfile = "docker/Containerfile";
  WriteReport report = write(dir, own);
  EXPECT_EQ(report.removed, std::vector<std::string>{kDefaultContainerfile});
  EXPECT_FALSE(fs::exists(dir / kDefaultContainerfile));
  EXPECT_FALSE(fs::exists(dir / "docker"));  // we never write the user's own file
  EXPECT_EQ(load_manifest(dir.path())->find(kDefaultContainerfile), nullptr);

  // Changed by a person: kept, and still reported.
  write(dir, playground());
  write_file_atomic(dir / kDefaultContainerfile, "FROM scratch\n");
  report = write(dir, own);
  EXPECT_TRUE(report.removed.empty());
  EXPECT_EQ(report.kept_modified, std::vector<std::string>{kDefaultContainerfile});
  EXPECT_TRUE(fs::exists(dir / kDefaultContainerfile));
}

TEST(ProjectFiles, SaveConfigTrackedKeepsTheManifestInStep) {
  test::TempDir dir;
  write(dir, playground());
  Config changed = playground();
  changed.network.allow = {"example.com"};
  save_config_tracked(dir.path(), changed, test::fixed_time(10));
  EXPECT_EQ(config::load_config(dir.path()).network.allow, std::vector<std::string>{"example.com"});
  const auto manifest = load_manifest(dir.path());
  EXPECT_EQ(manifest->find(config::kConfigFile)->sha256, sha256_hex(read_file(dir / config::kConfigFile)));
  EXPECT_EQ(manifest->updated_at, "2026-01-02T03:04:15Z");
  const PurgeReport purge = purge_project_files(dir.path());
  EXPECT_FALSE(fs::exists(dir / config::kConfigFile));
  EXPECT_TRUE(purge.kept_modified.empty());
}

// ---- .gitignore --------------------------------------------------------------------------

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (std::size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

TEST(GitignoreBlock, AddedOnceHoweverOftenInitRuns) {
  test::TempDir dir;
  write_file_atomic(dir / ".gitignore", "node_modules/\n*.log\n");
  EXPECT_TRUE(write(dir, playground()).gitignore_block_added);
  EXPECT_FALSE(write(dir, playground()).gitignore_block_added);
  Config other = playground();
  other.mode = Mode::custom;
  EXPECT_FALSE(write(dir, other, true).gitignore_block_added);
  const std::string text = read_file(dir / ".gitignore");
  EXPECT_EQ(count_of(text, kGitignoreBegin), 1);
  EXPECT_EQ(count_of(text, kGitignoreEnd), 1);
  EXPECT_EQ(text.rfind("node_modules/\n*.log\n", 0), 0u) << "the user's lines come first, untouched";
  EXPECT_FALSE(load_manifest(dir.path())->gitignore_created_file);
}

TEST(GitignoreBlock, IgnoresOnlyMachineStateNeverLogsOrUserFiles) {
  const std::string block = render_gitignore_block();
  EXPECT_NE(block.find("/.claude-container/manifest.json\n"), std::string::npos);
  EXPECT_EQ(block.find("*.log"), std::string::npos);
  EXPECT_EQ(block.find("config.json\n"), std::string::npos);
  EXPECT_EQ(block.find("Containerfile\n"), std::string::npos);
  EXPECT_EQ(block.find("\nscripts"), std::string::npos);
  EXPECT_EQ(block.find("\n/.claude-container/\n"), std::string::npos);
}

TEST(GitignoreBlock, AppendsAfterAFileWithoutFinalNewline) {
  const auto text = gitignore_with_block("build", render_gitignore_block());
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "build\n" + render_gitignore_block());
  EXPECT_EQ(gitignore_without_block(*text), "build\n");
}

TEST(GitignoreBlock, OldBlockIsReplacedInPlace) {
  const std::string old_block = std::string(kGitignoreBegin) + "\n/old-entry\n" + kGitignoreEnd + "\n";
  const std::string text = "a\n" + old_block + "b\n";
  const auto updated = gitignore_with_block(text, render_gitignore_block());
  ASSERT_TRUE(updated);
  EXPECT_EQ(*updated, "a\n" + render_gitignore_block() + "b\n");
}

TEST(GitignoreBlock, CrlfMarkersAreRecognised) {
  const std::string text = "a\r\n" + std::string(kGitignoreBegin) + "\r\n/x\r\n" + kGitignoreEnd + "\r\nb\r\n";
  EXPECT_EQ(find_gitignore_block(text), GitignoreBlock::present);
  EXPECT_EQ(gitignore_without_block(text), "a\r\nb\r\n");
}

TEST(GitignoreBlock, DamagedBlockIsLeftForAPersonAndReported) {
  test::TempDir dir;
  const std::string damaged = std::string("a\n") + kGitignoreBegin + "\n/x\n";
  write_file_atomic(dir / ".gitignore", damaged);
  const WriteReport report = write(dir, playground());
  EXPECT_EQ(report.kept_modified, std::vector<std::string>{".gitignore"});
  EXPECT_EQ(read_file(dir / ".gitignore"), damaged);
  EXPECT_EQ(find_gitignore_block(damaged), GitignoreBlock::damaged);
  EXPECT_EQ(gitignore_without_block(damaged), damaged);
}

// ---- purge -------------------------------------------------------------------------------

TEST(ProjectPurge, RemovesExactlyTheUnchangedFilesOfTheManifest) {
  test::TempDir dir;
  write_file_atomic(dir / ".gitignore", "node_modules/\n");
  write_file_atomic(dir / "main.c", "int main(){}\n");
  write(dir, playground());
  write_file_atomic(dir / kSpecFile, "edited by hand\n");                          // ours, changed
  write_file_atomic(dir / ".claude-container/notes.txt", "the user's own\n");       // not ours
  write_file_atomic(dir / "scripts/build.sh", "#!/bin/sh\n", 0755);                  // not ours

  const PurgeReport report = purge_project_files(dir.path());
  std::vector<std::string> expected_removed;
  for (const auto& f : kAllFiles)
    if (f != kSpecFile) expected_removed.push_back(f);
  expected_removed.push_back(kManifestFile);
  EXPECT_EQ(report.removed, expected_removed);
  EXPECT_EQ(report.kept_modified, std::vector<std::string>{kSpecFile});
  EXPECT_TRUE(report.gitignore_block_removed);

  EXPECT_EQ(test::files_under(dir.path()),
            sorted({".claude-container/CONTAINER-SPEC.md", ".claude-container/notes.txt", ".gitignore", "main.c",
                    "scripts/build.sh"}));
  EXPECT_EQ(read_file(dir / ".gitignore"), "node_modules/\n");
}

TEST(ProjectPurge, RemovesDirectoriesLeftEmptyAndTheGitignoreItCreated) {
  test::TempDir dir;
  write(dir, playground());
  const PurgeReport report = purge_project_files(dir.path());
  EXPECT_TRUE(report.gitignore_block_removed);
  EXPECT_TRUE(report.kept_modified.empty());
  EXPECT_TRUE(fs::is_empty(dir.path())) << "left: " << ::testing::PrintToString(test::files_under(dir.path()));
}

TEST(ProjectPurge, KeepsAGitignoreItCreatedWhenThePersonAddedLines) {
  test::TempDir dir;
  write(dir, playground());
  write_file_atomic(dir / ".gitignore", read_file(dir / ".gitignore") + "dist/\n");
  purge_project_files(dir.path());
  EXPECT_EQ(read_file(dir / ".gitignore"), "dist/\n");
}

TEST(ProjectPurge, WithoutManifestRemovesOnlyTheGitignoreBlock) {
  test::TempDir dir;
  write(dir, playground());
  fs::remove(dir / kManifestFile);
  write_file_atomic(dir / ".gitignore", "x\n" + render_gitignore_block());
  const PurgeReport report = purge_project_files(dir.path());
  EXPECT_TRUE(report.removed.empty());
  EXPECT_TRUE(report.gitignore_block_removed);
  EXPECT_EQ(read_file(dir / ".gitignore"), "x\n");
  for (const auto& f : kAllFiles) EXPECT_TRUE(fs::exists(dir / f)) << f;
}

TEST(ProjectPurge, FilesAlreadyGoneAreSkipped) {
  test::TempDir dir;
  write(dir, playground());
  fs::remove(dir / kSyncSkillsScript);
  const PurgeReport report = purge_project_files(dir.path());
  EXPECT_EQ(std::count(report.removed.begin(), report.removed.end(), kSyncSkillsScript), 0);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

}  // namespace
}  // namespace cc::project
