#pragma once
// Runs a program on a real pseudo-terminal so interactive code (raw mode, arrow keys, Ctrl-C,
// window size) is tested the way a person uses it. The timeouts are a safety net against a
// hung test, never a measurement.
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cc::test {

struct PtyOptions {
  std::optional<std::filesystem::path> cwd;
  std::map<std::string, std::string> env;  // added to (or overriding) our environment
  unsigned short rows = 40;
  unsigned short cols = 120;
};

class PtySession {
 public:
  PtySession(const std::vector<std::string>& argv, const PtyOptions& options = {});
  ~PtySession();  // kills the program if it still runs
  PtySession(const PtySession&) = delete;
  PtySession& operator=(const PtySession&) = delete;

  // Keys as a terminal sends them.
  static constexpr const char* kUp = "\x1b[A";
  static constexpr const char* kDown = "\x1b[B";
  static constexpr const char* kEnter = "\r";
  static constexpr const char* kCtrlC = "\x03";

  void send(const std::string& bytes);
  // Waits until the output received since the last match (escape sequences removed)
  // matches `pattern`; returns that text up to the end of the match and consumes it.
  // Throws std::runtime_error with the unread output when the program ends or the timeout passes.
  std::string expect(const std::string& pattern, int timeout_seconds = 30);
  void resize(unsigned short rows, unsigned short cols);
  // Sends a signal to the program, as `kill` from another terminal would.
  void signal(int signal_number);
  // Reads until the program closes the terminal and returns its exit status (128+N for signal N).
  int wait_exit(int timeout_seconds = 30);
  // True when the terminal is in the normal (cooked) mode: line editing and echo on. A
  // program that used raw mode must have put this back when it ends.
  bool in_cooked_mode() const;
  // Everything the program wrote, escape sequences removed.
  std::string transcript() const;
  // Everything the program wrote, byte for byte (escape sequences kept).
  const std::string& raw_output() const { return raw_; }

 private:
  // Reads what is available within the deadline; false at end of output.
  bool read_some(int timeout_ms);

  int master_fd_ = -1;
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::string raw_;          // every byte received
  std::size_t consumed_ = 0;  // index into the cleaned text already matched
};

// Removes terminal escape sequences (CSI, OSC and two-byte ESC sequences) and carriage returns.
std::string strip_terminal_escapes(const std::string& text);

}  // namespace cc::test
