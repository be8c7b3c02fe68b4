#pragma once
// Whole-file reads and crash-safe writes (temp file in the same directory + fsync + rename),
// so a reader never sees a half-written file.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace cc {

std::string read_file(const std::filesystem::path& path);
std::optional<std::string> read_file_if_exists(const std::filesystem::path& path);
void write_file_atomic(const std::filesystem::path& path, const std::string& content,
                       mode_t mode = 0644);
std::string sha256_hex(const std::string& data);
// True when anything (a dangling link included) is at `path`; never follows a link, never throws.
bool path_exists(const std::filesystem::path& path) noexcept;

// The whole of `data` to `fd`, retrying short writes; false with errno set on an error.
bool write_all(int fd, std::string_view data);
// `fd` to its end, appended to `out`; false with errno set on a read error, and with EFBIG as
// soon as more than `max_bytes` have arrived (a file may grow after it was checked).
bool read_all_bounded(int fd, std::size_t max_bytes, std::string& out);

}  // namespace cc
