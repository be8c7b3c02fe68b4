#pragma once
// Interactive questions on a terminal in raw mode: single choice (arrows or numbers), multiple
// choice, yes/no and typed text. The terminal is restored on every way out: return,
// exception, Ctrl-C (which raises PromptCancelled), and fatal signals.
#include <termios.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cc::cli {

// The user pressed Ctrl-C or Ctrl-D: leave without doing anything.
class PromptCancelled : public std::runtime_error {
 public:
  PromptCancelled() : std::runtime_error("cancelled") {}
};

struct Choice {
  std::string label;
  std::string description;  // may be empty
};

// Returns an error sentence for an unacceptable answer, nullopt when it is fine.
using TextValidator = std::function<std::optional<std::string>(const std::string&)>;

class PromptTerminal {
 public:
  // Takes stdin/stdout, which must both be terminals; raw mode starts here.
  PromptTerminal();
  ~PromptTerminal();
  PromptTerminal(const PromptTerminal&) = delete;
  PromptTerminal& operator=(const PromptTerminal&) = delete;

  static bool available();  // stdin and stdout are terminals

  // Arrow keys (or j/k) move, a number picks that entry at once, Enter takes the highlighted one.
  std::size_t select(const std::string& question, const std::vector<Choice>& choices, std::size_t default_index);
  // Space or a number toggles, 'a' toggles all, Enter accepts.
  std::vector<bool> multi_select(const std::string& question, const std::vector<Choice>& choices,
                                 std::vector<bool> selected);
  // y or n, Enter takes the default.
  bool confirm(const std::string& question, bool default_yes);
  // A line of text; Enter on an empty line takes the default.
  std::string text(const std::string& question, const std::string& default_value, const TextValidator& validate = {});

  // Text printed between questions (headings, warnings, summaries).
  void print(const std::string& text);
  bool colour() const { return colour_; }

 private:
  enum class Key { up, down, enter, space, backspace, cancel, other, character, kill_line };
  struct KeyPress {
    Key key = Key::other;
    char ch = 0;
  };
  KeyPress read_key();
  void write(const std::string& bytes);
  // Replaces the lines drawn last time with these (no wrapping: each is cut to the width).
  void redraw(const std::vector<std::string>& lines);
  void finish(const std::string& question, const std::string& answer);
  std::string style(const std::string& text, const char* code) const;
  std::string question_line(const std::string& question, std::size_t columns) const;
  std::string choice_line(const Choice& choice, std::size_t index, bool here, const std::string& marker,
                          std::size_t columns) const;
  // Up/down arrows and j/k move the cursor through a list, wrapping; true when the key did.
  static bool move_cursor(const KeyPress& press, std::size_t& current, std::size_t count);
  int width() const;

  int in_fd_;
  int out_fd_;
  termios saved_{};
  bool colour_ = false;
  std::size_t drawn_lines_ = 0;
};

}  // namespace cc::cli
