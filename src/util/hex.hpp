#pragma once
// Hex for bytes that may hold anything (file names, link targets) in our line-based records.
#include <optional>
#include <string>
#include <string_view>

namespace cc {

// Lower-case hex, two digits a byte.
std::string to_hex(std::string_view bytes);

// The bytes back; nullopt for anything but pairs of hex digits, so a damaged record line is
// skipped by the caller, never thrown on.
std::optional<std::string> from_hex(std::string_view text);

}  // namespace cc
