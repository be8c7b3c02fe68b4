#pragma once
// The parts of reading an HTTP/1.x head that requests (from the sandbox) and responses (from
// the upstream) share: where the head ends and its lines, with the same strictness for both.
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace cc::net {

// Offset of the blank line that ends the head (CRLF or bare LF ends), npos when not yet there;
// *terminator is the length of the line end plus the blank line (2 or 3).
std::size_t find_head_end(std::string_view buffer, std::size_t* terminator);

// The head's lines without their line ends; nothing when any line holds a control character
// other than tab (a bare CR, NUL, ... could make the head mean different things to two parsers).
std::optional<std::vector<std::string_view>> head_lines(std::string_view head);

}  // namespace cc::net
