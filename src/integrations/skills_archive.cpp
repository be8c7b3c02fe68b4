#include "integrations/skills_archive.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "util/error.hpp"

extern char** environ;

namespace cc::integrations {

namespace fs = std::filesystem;

const char* const kSkillsUnpackScript =
    "set -e; dir=\"${CLAUDE_CONFIG_DIR:-$HOME/.claude}\"; incoming=\"$dir/.skills-incoming\"; "
    "mkdir -p \"$dir\"; rm -rf \"$incoming\"; mkdir \"$incoming\"; tar -x --no-same-owner -C \"$incoming\" -f -; "
    "for name in skills commands agents CLAUDE.md; do "
    "if [ -e \"$incoming/$name\" ]; then rm -rf \"$dir/$name\"; mv \"$incoming/$name\" \"$dir/$name\"; fi; done; "
    "rm -rf \"$incoming\"";

namespace {

// A directory only we can enter, removed with everything in it (nothing but directories and
// regular files we made; remove_all never follows a link).
class PrivateTempDir {
 public:
  PrivateTempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && base[0] == '/' ? base : "/tmp") + "/claude-container-skills-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw_errno("Copying the skills failed: cannot create a temporary directory");
    path_ = pattern;
  }
  ~PrivateTempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  PrivateTempDir(const PrivateTempDir&) = delete;
  PrivateTempDir& operator=(const PrivateTempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

SkillArchive archive_skill_items(const std::vector<SkillItem>& items, const CopyLimits& limits) {
  PrivateTempDir staging;
  SkillArchive result;
  result.report = copy_skill_items(items, staging.path(), limits);

  std::string file = (staging.path() / ".archive").string();
  UniqueFd archive(::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!archive) throw_errno("Copying the skills failed: cannot create the archive");
  ::unlink(file.c_str());

  std::vector<std::string> args = {"tar", "-c", "-C", staging.path().string(), "-f", "-"};
  for (const auto& item : items) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(staging.path() / item.name, ec))) args.push_back(item.name);
  }
  if (args.size() == 6) {
    result.fd = std::move(archive);
    return result;  // nothing to copy: an empty file, which the caller does not send
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, archive.get(), STDOUT_FILENO);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, "tar", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw Error("Copying the skills failed: cannot run tar on the host: " + std::string(std::strerror(rc)) + ". Install tar.");
  }
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    throw Error("Copying the skills failed: tar could not archive the copy (see its message above). Check free space in " +
                staging.path().parent_path().string() + ".");
  }
  if (::lseek(archive.get(), 0, SEEK_SET) < 0) throw_errno("Copying the skills failed: rewinding the archive");
  result.fd = std::move(archive);
  return result;
}

}  // namespace cc::integrations
