#pragma once
// One error type for the whole tool: a sentence for the user plus the exit status the CLI
// returns (DESIGN.md section 2). Never thrown on the child side of a fork.
#include <stdexcept>
#include <string>

namespace cc {

enum class ExitCode : int {
  ok = 0,
  failure = 1,       // the operation failed
  usage = 2,         // bad usage or bad configuration
  not_set_up = 3,    // nothing to act on: no project, no container
};

class Error : public std::runtime_error {
 public:
  // std::runtime_error copies the text whatever we pass, so take it by reference.
  explicit Error(const std::string& message, ExitCode code = ExitCode::failure)
      : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// Bad usage or bad configuration: exit status 2.
inline Error usage_error(const std::string& message) { return Error(message, ExitCode::usage); }
// Nothing set up or created to act on: exit status 3.
inline Error not_set_up_error(const std::string& message) { return Error(message, ExitCode::not_set_up); }

// "what: strerror(errno)" for system call failures.
std::string errno_message(const std::string& what, int err);
[[noreturn]] void throw_errno(const std::string& what);

}  // namespace cc
