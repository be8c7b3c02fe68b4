// sync-skills: copy the host's Claude skills into the container's ~/.claude/skills.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "cli/cli_context.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

extern char** environ;

namespace cc::cli {

namespace {

namespace fs = std::filesystem;

// Claude Code keeps its files in $CLAUDE_CONFIG_DIR when set, else ~/.claude.
fs::path host_skills_dir() {
  if (const char* dir = std::getenv("CLAUDE_CONFIG_DIR"); dir != nullptr && dir[0] != '\0') {
    return fs::path(dir) / "skills";
  }
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] == '\0') {
    throw Error("sync-skills failed: HOME is not set, so the host's skills cannot be found. Set HOME.");
  }
  return fs::path(home) / ".claude" / "skills";
}

std::vector<std::string> skill_names(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec)) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The skills as a tar archive in an anonymous file (symlinks followed, so linked skills
// arrive as files). A file rather than a pipe: tar's failure is known before anything runs inside.
UniqueFd archive_skills(const fs::path& dir) {
  char name[] = "/tmp/claude-container-skills-XXXXXX";
  int raw = ::mkstemp(name);
  if (raw < 0) throw_errno("sync-skills failed: cannot create a temporary file");
  UniqueFd archive(raw);
  ::unlink(name);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, archive.get(), STDOUT_FILENO);
  std::string dir_text = dir.string();
  std::vector<std::string> args = {"tar", "-c", "-h", "-C", dir_text, "-f", "-", "."};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, "tar", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw Error("sync-skills failed: cannot run tar on the host: " + std::string(std::strerror(rc)) +
                ". Install tar.");
  }
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    throw Error("sync-skills failed: tar could not archive " + dir_text + " (see its message above). "
                "Check that the skills are readable.");
  }
  if (::lseek(archive.get(), 0, SEEK_SET) < 0) throw_errno("sync-skills failed: rewinding the archive");
  return archive;
}

// Points our stdin at a file for the duration of an exec, then puts the terminal back.
class StdinRedirect {
 public:
  explicit StdinRedirect(int fd) : saved_(::dup(STDIN_FILENO)) {
    if (::dup2(fd, STDIN_FILENO) < 0) throw_errno("sync-skills failed: redirecting stdin");
  }
  ~StdinRedirect() {
    if (saved_.get() >= 0) ::dup2(saved_.get(), STDIN_FILENO);
  }
  StdinRedirect(const StdinRedirect&) = delete;
  StdinRedirect& operator=(const StdinRedirect&) = delete;

 private:
  UniqueFd saved_;
};

// Replaces the skills inside in one step, so a failed copy leaves the old skills; in the
// agent's configuration directory (CLAUDE_CONFIG_DIR, /root/.claude unless the config's env moves it).
const char* kUnpackScript =
    "set -e; dir=\"${CLAUDE_CONFIG_DIR:-$HOME/.claude}\"; target=\"$dir/skills\"; incoming=\"$dir/.skills-incoming\"; "
    "mkdir -p \"$dir\"; rm -rf \"$incoming\"; mkdir \"$incoming\"; "
    "tar -x -C \"$incoming\" -f -; rm -rf \"$target\"; mv \"$incoming\" \"$target\"";

int sync_skills_command(const GlobalOptions& options) {
  Console console(options);
  auto session = open_engine_session(options);
  fs::path dir = host_skills_dir();
  auto names = fs::is_directory(dir) ? skill_names(dir) : std::vector<std::string>{};
  if (names.empty()) {
    std::string why = fs::exists(dir) ? dir.string() + " holds no skill directories"
                                      : dir.string() + " does not exist";
    if (console.json()) {
      console.print_json({{"name", session.ctx.config.name}, {"synced", 0}, {"skills", names}, {"source", dir.string()}});
    } else {
      console.say("No skills to sync: " + why + ". Skills are directories under ~/.claude/skills on the host.");
    }
    return 0;
  }
  UniqueFd archive = archive_skills(dir);
  ensure_running(session, console);
  engine::ExecRequest request;
  request.argv = {"sh", "-c", kUnpackScript};
  int status = 0;
  {
    StdinRedirect redirect(archive.get());
    status = session.engine->exec(session.ctx, request);
  }
  if (status != 0) {
    throw Error("sync-skills failed: unpacking the skills inside the container exited with status " +
                std::to_string(status) + ". Check that tar exists inside (`claude-container exec -- tar --version`).");
  }
  if (console.json()) {
    console.print_json(
        {{"name", session.ctx.config.name}, {"synced", names.size()}, {"skills", names}, {"source", dir.string()}});
  } else {
    console.say("Synced " + std::to_string(names.size()) + " skill(s) from " + dir.string() +
                " into ~/.claude/skills of " + session.ctx.config.name + ".");
  }
  return 0;
}

}  // namespace

void add_skills_commands(CLI::App& app, CommandTable& table, const GlobalOptions& options) {
  auto* sync = app.add_subcommand("sync-skills", "copy the host's Claude skills into the container again");
  table[sync] = [&options] { return sync_skills_command(options); };
}

}  // namespace cc::cli
