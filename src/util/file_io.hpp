#pragma once
// Whole-file reads and crash-safe writes (temp file in the same directory + fsync + rename),
// so a reader never sees a half-written file.
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>

namespace cc {

std::string read_file(const std::filesystem::path& path);
std::optional<std::string> read_file_if_exists(const std::filesystem::path& path);
void write_file_atomic(const std::filesystem::path& path, const std::string& content,
                       mode_t mode = 0644);
std::string sha256_hex(const std::string& data);

}  // namespace cc
