#include "config/text_shapes.hpp"

#include <array>

namespace cc::config::shapes {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }
bool is_lower_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_letter(char c) { return (c >= 'a' && c <= 'z') || is_upper(c); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return is_letter(c) || is_digit(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// At least `minimum` characters of the class start at `pos` (counts no further than needed).
template <typename Class>
bool run_of(std::string_view text, std::size_t pos, std::size_t minimum, Class in_class) {
  std::size_t count = 0;
  while (count < minimum && pos + count < text.size() && in_class(text[pos + count])) ++count;
  return count >= minimum;
}

bool starts_with(std::string_view text, std::size_t pos, std::string_view prefix) {
  return text.substr(pos, prefix.size()) == prefix;
}

bool pem_private_key_at(std::string_view text, std::size_t pos) {
  constexpr std::string_view begin = "-----BEGIN ";
  if (!starts_with(text, pos, begin)) return false;
  std::size_t end = pos + begin.size();
  while (end < text.size() && (is_upper(text[end]) || text[end] == ' ')) ++end;
  // [A-Z ]*PRIVATE KEY----- : the run of [A-Z ] must end in "PRIVATE KEY" and meet "-----".
  const std::string_view run = text.substr(pos + begin.size(), end - pos - begin.size());
  constexpr std::string_view tail = "PRIVATE KEY";
  return run.size() >= tail.size() && run.substr(run.size() - tail.size()) == tail && starts_with(text, end, "-----");
}

}  // namespace

bool is_container_name(std::string_view text) {
  if (text.empty() || text.size() > 63 || !is_lower_digit(text[0])) return false;
  for (char c : text.substr(1))
    if (!is_lower_digit(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

bool is_env_name(std::string_view text) {
  if (text.empty() || !(is_letter(text[0]) || text[0] == '_')) return false;
  for (char c : text)
    if (!is_alnum(c) && c != '_') return false;
  return true;
}

bool is_https_url(std::string_view text) {
  constexpr std::string_view scheme = "https://";
  if (!starts_with(text, 0, scheme)) return false;
  std::size_t pos = scheme.size();
  const std::size_t host_start = pos;
  while (pos < text.size() && text[pos] != '/' && text[pos] != '?' && text[pos] != '#' && text[pos] != '@' &&
         !is_space(text[pos]))
    ++pos;
  if (pos == host_start) return false;
  if (pos == text.size()) return true;
  if (text[pos] != '/') return false;
  for (; pos < text.size(); ++pos)
    if (is_space(text[pos])) return false;
  return true;
}

bool is_email(std::string_view text) {
  const std::size_t at = text.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == text.size()) return false;
  if (text.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : text)
    if (is_space(c)) return false;
  return true;
}

bool is_domain_rule(std::string_view text) {
  std::size_t pos = 0;
  if (starts_with(text, 0, "*.")) pos = 2;
  if (pos < text.size() && text[pos] == '[') {
    const std::size_t start = ++pos;
    while (pos < text.size() && (is_hex(text[pos]) || text[pos] == ':' || text[pos] == '.')) ++pos;
    if (pos == start || pos >= text.size() || text[pos] != ']') return false;
    ++pos;
  } else {
    auto label_char = [](char c) { return is_alnum(c) || c == '_' || c == '-'; };
    bool need_label = true;
    for (;;) {
      const std::size_t start = pos;
      while (pos < text.size() && label_char(text[pos])) ++pos;
      if (pos == start) {
        if (need_label) return false;  // empty label, or nothing after "*."
        break;                         // a trailing "." ended the name
      }
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        need_label = false;  // "example.com." is allowed, "example..com" is not (checked next turn)
        if (pos < text.size() && text[pos] == '.') return false;
        continue;
      }
      break;
    }
  }
  if (pos == text.size()) return true;
  if (text[pos] != ':') return false;
  const std::string_view port = text.substr(pos + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port)
    if (!is_digit(c)) return false;
  return true;
}

bool contains_token_shape(std::string_view text) {
  auto token_char = [](char c) { return is_alnum(c) || c == '_' || c == '-'; };
  auto alnum_underscore = [](char c) { return is_alnum(c) || c == '_'; };
  auto alnum_dash = [](char c) { return is_alnum(c) || c == '-'; };
  auto upper_digit = [](char c) { return is_upper(c) || is_digit(c); };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (starts_with(text, i, "sk-ant-") && run_of(text, i + 7, 8, token_char)) return true;
    if (starts_with(text, i, "gh") && i + 3 < text.size() && std::string_view("pousr").find(text[i + 2]) != std::string_view::npos &&
        text[i + 3] == '_' && run_of(text, i + 4, 20, is_alnum))
      return true;
    if (starts_with(text, i, "github_pat_") && run_of(text, i + 11, 20, alnum_underscore)) return true;
    if (starts_with(text, i, "glpat-") && run_of(text, i + 6, 16, token_char)) return true;
    if (starts_with(text, i, "xox") && i + 4 < text.size() && std::string_view("abpr").find(text[i + 3]) != std::string_view::npos &&
        text[i + 4] == '-' && run_of(text, i + 5, 10, alnum_dash))
      return true;
    if (starts_with(text, i, "AKIA") && run_of(text, i + 4, 16, upper_digit)) return true;
    if (pem_private_key_at(text, i)) return true;
  }
  return false;
}

bool contains_url_password(std::string_view text) {
  auto scheme_char = [](char c) { return is_alnum(c) || c == '+' || c == '.' || c == '-'; };
  for (std::size_t mark = text.find("://"); mark != std::string_view::npos; mark = text.find("://", mark + 1)) {
    // [A-Za-z][A-Za-z0-9+.-]* just before "://": some letter within the scheme run ending there.
    bool scheme = false;
    for (std::size_t k = mark; k > 0 && scheme_char(text[k - 1]); --k)
      if (is_letter(text[k - 1])) {
        scheme = true;
        break;
      }
    if (!scheme) continue;
    // [^/\s:@]+ : [^/\s@]+ @
    std::size_t pos = mark + 3;
    const std::size_t user_start = pos;
    while (pos < text.size() && text[pos] != '/' && text[pos] != ':' && text[pos] != '@' && !is_space(text[pos])) ++pos;
    if (pos == user_start || pos >= text.size() || text[pos] != ':') continue;
    const std::size_t password_start = ++pos;
    while (pos < text.size() && text[pos] != '/' && text[pos] != '@' && !is_space(text[pos])) ++pos;
    if (pos > password_start && pos < text.size() && text[pos] == '@') return true;
  }
  return false;
}

}  // namespace cc::config::shapes
