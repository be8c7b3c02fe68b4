#pragma once
// One line typed on a terminal without echo (a key or token): the terminal's settings come
// back on every way out, including Ctrl-C and the other fatal signals.
#include <optional>
#include <string>

namespace cc::cli {

// Writes `prompt` to the terminal, reads one line from it with echo off. nullopt on end of
// input (Ctrl-D on an empty line). Throws cc::Error when fd is no terminal.
std::optional<std::string> read_hidden_line(int fd, const std::string& prompt, std::size_t max_bytes);

}  // namespace cc::cli
