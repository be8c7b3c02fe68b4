#pragma once
// The paths a config names (env_file, credentials.ca_file, image.containerfile) and how they
// are read. A path inside the project is resolved beneath the project root without following
// any link, so a repository or a container writing into a bind-mounted project cannot turn
// `.env` into a link to ~/.ssh/id_ed25519. A path outside the project (absolute, or leaving
// it through "..") is honoured only because the user approved the config naming it (see
// approval.hpp); /proc, /sys and /dev are refused always.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace cc::config {

struct ConfigPath {
  bool inside = true;
  std::filesystem::path relative;  // inside: clean, relative to the project
  std::filesystem::path absolute;  // outside: lexically normal
};

// Where `value` (the config key `key`) points. Throws cc::Error (usage) naming the key for an
// empty path or one in /proc, /sys or /dev.
ConfigPath locate_config_path(const std::filesystem::path& project_dir, const std::string& key,
                              const std::string& value);

// True when `value` lies in /proc, /sys or /dev (lexically), where no config file may come from.
bool is_kernel_path(const std::string& value);

// The file's content (at most max_bytes), or nullopt when it does not exist. Inside: beneath the
// project, no link anywhere on the way. Outside: the last component must not be a link, the
// file must be a regular file on a disk file system. Throws cc::Error (usage) naming the key
// and the reason otherwise.
std::optional<std::string> read_config_path(const std::filesystem::path& project_dir, const std::string& key,
                                            const std::string& value, std::size_t max_bytes);

}  // namespace cc::config
