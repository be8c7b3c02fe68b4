#pragma once
// Showing names and text that a container chose, so that no byte of them can move the
// cursor, erase a line or pass for something else on the reviewer's terminal.
#include <string>

namespace cc::workspace {

// A path as git shows it with core.quotePath: unchanged when every byte is printable ASCII
// other than '"' and '\\'; else in double quotes with C escapes (\t, \n, \", \\, ...) and
// octal (\033, \303\251) for every other byte.
std::string quote_path(const std::string& path);

// Text (a diff) with every control character except newline and tab, DEL and the C1
// controls written as \xNN, so the terminal shows the bytes instead of obeying them.
std::string visible_text(const std::string& text);

// True when `text` is well-formed UTF-8 (JSON strings must be).
bool valid_utf8(const std::string& text);
// `text` with each byte of a malformed sequence replaced by U+FFFD.
std::string utf8_or_replacement(const std::string& text);

}  // namespace cc::workspace
