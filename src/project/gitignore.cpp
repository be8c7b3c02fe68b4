#include "project/gitignore.hpp"

namespace cc::project {
namespace {

struct BlockSpan {
  std::size_t begin = std::string::npos;  // offset of the begin marker line
  std::size_t end = std::string::npos;    // offset just past the end marker line (and its newline)
};

// Finds a line equal to `marker` (ignoring a trailing \r) at or after `from`.
std::size_t find_line(const std::string& text, const std::string& marker, std::size_t from) {
  std::size_t pos = from;
  while (pos <= text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == marker) return pos;
    if (eol == text.size()) break;
    pos = eol + 1;
  }
  return std::string::npos;
}

BlockSpan locate(const std::string& text) {
  BlockSpan span;
  span.begin = find_line(text, kGitignoreBegin, 0);
  if (span.begin == std::string::npos) return span;
  const std::size_t end_line = find_line(text, kGitignoreEnd, span.begin);
  if (end_line == std::string::npos) return span;
  const std::size_t eol = text.find('\n', end_line);
  span.end = eol == std::string::npos ? text.size() : eol + 1;
  return span;
}

}  // namespace

GitignoreBlock find_gitignore_block(const std::string& text) {
  const BlockSpan span = locate(text);
  if (span.begin == std::string::npos) return GitignoreBlock::absent;
  return span.end == std::string::npos ? GitignoreBlock::damaged : GitignoreBlock::present;
}

std::optional<std::string> gitignore_with_block(const std::string& text, const std::string& block) {
  const BlockSpan span = locate(text);
  if (span.begin == std::string::npos) {
    std::string out = text;
    if (!out.empty() && out.back() != '\n') out += '\n';
    return out + block;
  }
  if (span.end == std::string::npos) return std::nullopt;
  return text.substr(0, span.begin) + block + text.substr(span.end);
}

std::string gitignore_without_block(const std::string& text) {
  const BlockSpan span = locate(text);
  if (span.begin == std::string::npos || span.end == std::string::npos) return text;
  return text.substr(0, span.begin) + text.substr(span.end);
}

}  // namespace cc::project
