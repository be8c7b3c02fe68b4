#pragma once
// Runs a program (normally the claude-container binary) with exact argv and environment,
// feeds stdin, and captures stdout, stderr and the exit status. No shell is involved.
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cc::test {

struct CommandResult {
  int exit_code = -1;       // 128+N when killed by signal N
  std::string out;
  std::string err;
};

struct CommandOptions {
  std::optional<std::filesystem::path> cwd;
  std::map<std::string, std::string> env;  // the whole environment when replace_env
  bool replace_env = false;                 // false: inherit ours and add/override env
  std::string input;                        // written to stdin, then closed
  std::optional<uid_t> uid;                 // run as this user (root only)
  std::optional<gid_t> gid;
  int timeout_seconds = 120;                // killed (SIGKILL) after this; exit_code 137
};

CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options = {});

// run_command({CC_BINARY, args...}).
CommandResult run_cli(const std::vector<std::string>& args, const CommandOptions& options = {});

}  // namespace cc::test
