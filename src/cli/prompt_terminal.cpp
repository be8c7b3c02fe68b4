#include "cli/prompt_terminal.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "cli/cli_context.hpp"
#include "util/error.hpp"

namespace cc::cli {

namespace {

// What a fatal signal handler needs to put the terminal back; set while raw mode is on.
struct RawModeState {
  std::atomic<bool> active{false};
  int fd = -1;
  termios saved{};
};
RawModeState g_raw_mode;

const int kFatalSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
struct sigaction g_previous_actions[sizeof kFatalSignals / sizeof kFatalSignals[0]];

void restore_and_reraise(int sig) {
  if (g_raw_mode.active.exchange(false)) {
    ::tcsetattr(g_raw_mode.fd, TCSANOW, &g_raw_mode.saved);
    static const char show_cursor[] = "\x1b[?25h\r\n";
    [[maybe_unused]] auto ignored = ::write(g_raw_mode.fd, show_cursor, sizeof show_cursor - 1);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// SIGWINCH writes a byte here; read_key() watches it next to the terminal and redraws. A pipe
// rather than EINTR: a signal that lands between drawing and read() is not lost.
int g_resize_pipe[2] = {-1, -1};

void on_window_change(int) {
  int saved_errno = errno;
  char byte = 1;
  [[maybe_unused]] auto ignored = ::write(g_resize_pipe[1], &byte, 1);
  errno = saved_errno;
}

// Display width of UTF-8 text without escape sequences: one column per code point.
std::size_t display_width(const std::string& text) {
  std::size_t columns = 0;
  for (unsigned char c : text) columns += (c & 0xC0) != 0x80;
  return columns;
}

std::string fit(const std::string& text, std::size_t columns) {
  if (display_width(text) <= columns) return text;
  std::string out;
  std::size_t used = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) {
      if (used + 1 >= columns) break;
      ++used;
    }
    out += text[i];
  }
  return out + "…";
}

void erase_last_utf8_char(std::string& text) {
  while (!text.empty()) {
    unsigned char c = static_cast<unsigned char>(text.back());
    text.pop_back();
    if ((c & 0xC0) != 0x80) break;
  }
}

}  // namespace

bool PromptTerminal::available() { return is_terminal(STDIN_FILENO) && is_terminal(STDOUT_FILENO); }

PromptTerminal::PromptTerminal() : in_fd_(STDIN_FILENO), out_fd_(STDOUT_FILENO), colour_(colour_allowed(STDOUT_FILENO)) {
  if (!available()) throw usage_error("interactive setup needs a terminal on stdin and stdout.");
  if (::tcgetattr(in_fd_, &saved_) != 0) throw_errno("reading the terminal settings");
  termios raw = saved_;
  // No line editing, no echo, no signals from keys (Ctrl-C arrives as a byte we handle);
  // output processing stays on so "\n" still starts a new line.
  raw.c_lflag &= ~(ICANON | ECHO | ISIG | IEXTEN);
  raw.c_iflag &= ~(IXON | ICRNL | INLCR | IGNCR);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;

  g_raw_mode.fd = in_fd_;
  g_raw_mode.saved = saved_;
  struct sigaction action {};
  action.sa_handler = restore_and_reraise;
  sigemptyset(&action.sa_mask);
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) ::sigaction(kFatalSignals[i], &action, &g_previous_actions[i]);
  if (::pipe2(g_resize_pipe, O_CLOEXEC | O_NONBLOCK) != 0) throw_errno("creating a pipe for window size changes");
  struct sigaction winch {};
  winch.sa_handler = on_window_change;
  winch.sa_flags = SA_RESTART;
  sigemptyset(&winch.sa_mask);
  ::sigaction(SIGWINCH, &winch, nullptr);

  if (::tcsetattr(in_fd_, TCSAFLUSH, &raw) != 0) throw_errno("switching the terminal to raw mode");
  g_raw_mode.active = true;
}

PromptTerminal::~PromptTerminal() {
  if (g_raw_mode.active.exchange(false)) ::tcsetattr(in_fd_, TCSAFLUSH, &saved_);
  write("\x1b[?25h");
  ::signal(SIGWINCH, SIG_DFL);
  for (int& fd : g_resize_pipe) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  for (std::size_t i = 0; i < std::size(kFatalSignals); ++i) ::sigaction(kFatalSignals[i], &g_previous_actions[i], nullptr);
}

void PromptTerminal::write(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(out_fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("writing to the terminal");
    done += static_cast<std::size_t>(n);
  }
}

int PromptTerminal::width() const {
  winsize size{};
  if (::ioctl(out_fd_, TIOCGWINSZ, &size) == 0 && size.ws_col > 10) return size.ws_col;
  return 80;
}

std::string PromptTerminal::style(const std::string& text, const char* code) const {
  if (!colour_ || text.empty()) return text;
  return std::string("\x1b[") + code + "m" + text + "\x1b[0m";
}

void PromptTerminal::print(const std::string& text) { write(text + "\n"); }

void PromptTerminal::redraw(const std::vector<std::string>& lines) {
  std::string out = "\r";
  if (drawn_lines_ > 0) out += "\x1b[" + std::to_string(drawn_lines_) + "A";
  out += "\x1b[J";
  for (const auto& line : lines) out += line + "\n";
  write(out);
  drawn_lines_ = lines.size();
}

void PromptTerminal::finish(const std::string& question, const std::string& answer) {
  redraw({style("?", "32") + " " + style(question, "1") + " " + style(answer, "36")});
  drawn_lines_ = 0;
}

PromptTerminal::KeyPress PromptTerminal::read_key() {
  auto read_byte = [this](char& c) -> bool {
    for (;;) {
      ssize_t n = ::read(in_fd_, &c, 1);
      if (n == 1) return true;
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) throw PromptCancelled();         // the terminal went away
      throw_errno("reading from the terminal");
    }
  };
  // Wait for a key or a window size change, whichever comes first.
  for (;;) {
    pollfd fds[2] = {{in_fd_, POLLIN, 0}, {g_resize_pipe[0], POLLIN, 0}};
    int ready = ::poll(fds, 2, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw_errno("waiting for the terminal");
    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (::read(g_resize_pipe[0], drain, sizeof drain) > 0) {
      }
      return {Key::other, 0};  // the caller draws the question again at the new width
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) break;
  }
  char c = 0;
  if (!read_byte(c)) return {Key::other, 0};
  switch (c) {
    case 3:  // Ctrl-C
    case 4:  // Ctrl-D
      return {Key::cancel, c};
    case '\r':
    case '\n':
      return {Key::enter, c};
    case ' ':
      return {Key::space, c};
    case 127:
    case 8:
      return {Key::backspace, c};
    case 21:  // Ctrl-U
      return {Key::kill_line, c};
    case 27: {
      // An escape sequence arrives in one burst; a lone Esc is ignored.
      pollfd pfd{in_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0) return {Key::other, c};
      char second = 0, third = 0;
      if (!read_byte(second)) return {Key::other, 0};
      if (second != '[' && second != 'O') return {Key::other, second};
      if (!read_byte(third)) return {Key::other, 0};
      if (third == 'A') return {Key::up, 0};
      if (third == 'B') return {Key::down, 0};
      // Swallow the rest of longer sequences (e.g. "\x1b[3~").
      while (third >= '0' && third <= '9') {
        if (!read_byte(third)) break;
      }
      return {Key::other, 0};
    }
    default:
      return {Key::character, c};
  }
}

std::string PromptTerminal::question_line(const std::string& question, std::size_t columns) const {
  return style("?", "32") + " " + style(fit(question, columns - 2), "1");
}

bool PromptTerminal::move_cursor(const KeyPress& press, std::size_t& current, std::size_t count) {
  bool up = press.key == Key::up || (press.key == Key::character && press.ch == 'k');
  bool down = press.key == Key::down || (press.key == Key::character && press.ch == 'j');
  if (up) current = current == 0 ? count - 1 : current - 1;
  if (down) current = (current + 1) % count;
  return up || down;
}

// One row of a choice list: cursor, optional check box, number, label, then as much of the
// description as fits the terminal width.
std::string PromptTerminal::choice_line(const Choice& choice, std::size_t index, bool here, const std::string& marker,
                                        std::size_t columns) const {
  std::string head = fit(std::string(here ? "> " : "  ") + marker + std::to_string(index + 1) + ". " + choice.label,
                         columns);
  std::string tail;
  std::size_t room = columns > display_width(head) ? columns - display_width(head) : 0;
  if (!choice.description.empty() && room > 12) tail = fit("  " + choice.description, room);
  return (here ? style(head, "36;1") : head) + style(tail, "2");
}

std::size_t PromptTerminal::select(const std::string& question, const std::vector<Choice>& choices,
                                   std::size_t default_index) {
  std::size_t current = default_index < choices.size() ? default_index : 0;
  write("\x1b[?25l");
  for (;;) {
    std::vector<std::string> lines;
    std::size_t columns = static_cast<std::size_t>(width()) - 1;
    lines.push_back(question_line(question, columns));
    for (std::size_t i = 0; i < choices.size(); ++i) {
      lines.push_back(choice_line(choices[i], i, i == current, "", columns));
    }
    lines.push_back(style(fit("  (up/down or 1-" + std::to_string(choices.size()) + ", Enter to accept)", columns), "2"));
    redraw(lines);

    KeyPress press = read_key();
    if (move_cursor(press, current, choices.size())) continue;
    switch (press.key) {
      case Key::cancel:
        write("\x1b[?25h");
        throw PromptCancelled();
      case Key::enter:
        write("\x1b[?25h");
        finish(question, choices[current].label);
        return current;
      case Key::character:
        if (press.ch >= '1' && press.ch <= '9') {
          std::size_t picked = static_cast<std::size_t>(press.ch - '1');
          if (picked < choices.size()) {
            write("\x1b[?25h");
            finish(question, choices[picked].label);
            return picked;
          }
        }
        break;
      default:
        break;
    }
  }
}

std::vector<bool> PromptTerminal::multi_select(const std::string& question, const std::vector<Choice>& choices,
                                               std::vector<bool> selected) {
  selected.resize(choices.size(), false);
  std::size_t current = 0;
  write("\x1b[?25l");
  for (;;) {
    std::vector<std::string> lines;
    std::size_t columns = static_cast<std::size_t>(width()) - 1;
    lines.push_back(question_line(question, columns));
    for (std::size_t i = 0; i < choices.size(); ++i) {
      lines.push_back(choice_line(choices[i], i, i == current, selected[i] ? "[x] " : "[ ] ", columns));
    }
    lines.push_back(style(fit("  (up/down, space or 1-" + std::to_string(choices.size()) +
                                  " toggles, a toggles all, Enter to accept)",
                              columns),
                          "2"));
    redraw(lines);

    KeyPress press = read_key();
    if (move_cursor(press, current, choices.size())) continue;
    switch (press.key) {
      case Key::cancel:
        write("\x1b[?25h");
        throw PromptCancelled();
      case Key::space:
        selected[current] = !selected[current];
        break;
      case Key::enter: {
        write("\x1b[?25h");
        std::string answer;
        for (std::size_t i = 0; i < choices.size(); ++i) {
          if (selected[i]) answer += (answer.empty() ? "" : ", ") + choices[i].label;
        }
        finish(question, answer.empty() ? "none" : answer);
        return selected;
      }
      case Key::character:
        if (press.ch == 'a') {
          bool all = std::all_of(selected.begin(), selected.end(), [](bool b) { return b; });
          std::fill(selected.begin(), selected.end(), !all);
        }
        if (press.ch >= '1' && press.ch <= '9') {
          std::size_t picked = static_cast<std::size_t>(press.ch - '1');
          if (picked < choices.size()) {
            selected[picked] = !selected[picked];
            current = picked;
          }
        }
        break;
      default:
        break;
    }
  }
}

bool PromptTerminal::confirm(const std::string& question, bool default_yes) {
  const std::string prompt =
      style("?", "32") + " " + style(question, "1") + " " + style(default_yes ? "(Y/n)" : "(y/N)", "2") + " ";
  for (;;) {
    // No newline: the cursor waits after the question, where the answer goes.
    write("\r\x1b[K" + prompt);
    KeyPress press = read_key();
    if (press.key == Key::cancel) {
      write("\n");
      throw PromptCancelled();
    }
    bool answer = default_yes;
    if (press.key == Key::character && (press.ch == 'y' || press.ch == 'Y')) answer = true;
    else if (press.key == Key::character && (press.ch == 'n' || press.ch == 'N')) answer = false;
    else if (press.key != Key::enter) continue;
    finish(question, answer ? "Yes" : "No");
    return answer;
  }
}

std::string PromptTerminal::text(const std::string& question, const std::string& default_value,
                                 const TextValidator& validate) {
  std::string typed;
  std::string error;
  for (;;) {
    std::string hint = default_value.empty() ? "" : "(" + default_value + ") ";
    std::vector<std::string> lines;
    if (!error.empty()) lines.push_back(style("  " + error, "31"));
    // The input line is drawn last and without its newline so the cursor sits after the text.
    std::string prompt = style("?", "32") + " " + style(question, "1") + " " + style(hint, "2") + typed;
    redraw(lines);
    write("\r\x1b[K" + prompt);
    KeyPress press = read_key();
    write("\r\x1b[K");
    switch (press.key) {
      case Key::cancel:
        write("\n");
        throw PromptCancelled();
      case Key::backspace:
        erase_last_utf8_char(typed);
        break;
      case Key::kill_line:
        typed.clear();
        break;
      case Key::space:
        typed += ' ';
        break;
      case Key::character:
        if (static_cast<unsigned char>(press.ch) >= 0x20) typed += press.ch;
        break;
      case Key::enter: {
        std::string answer = typed.empty() ? default_value : typed;
        if (validate) {
          if (auto problem = validate(answer)) {
            error = *problem;
            break;
          }
        }
        finish(question, answer.empty() ? "(none)" : answer);
        return answer;
      }
      default:
        break;
    }
  }
}

}  // namespace cc::cli
