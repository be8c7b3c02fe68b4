#include "net/http_head.hpp"

namespace cc::net {

std::size_t find_head_end(std::string_view b, std::size_t* terminator) {
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (b[i] != '\n') continue;
    if (i + 1 < b.size() && b[i + 1] == '\n') { *terminator = 2; return i; }
    if (i + 2 < b.size() && b[i + 1] == '\r' && b[i + 2] == '\n') { *terminator = 3; return i; }
  }
  return std::string_view::npos;
}

std::optional<std::vector<std::string_view>> head_lines(std::string_view head) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= head.size()) {
    std::size_t nl = head.find('\n', start);
    std::string_view line = head.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (char c : line)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return std::nullopt;
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

}  // namespace cc::net
