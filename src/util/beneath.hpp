#pragma once
// Path resolution beneath a trusted directory, for every host-side read, write and delete in
// a tree that hostile code may have shaped (a cloned project, a container's change layer).
// Every lookup goes through openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS), or an O_NOFOLLOW walk one component at a time where the kernel has
// no openat2: no symlink is ever followed, and ".." cannot leave the root.
//
// Relative paths are checked first: empty, absolute, "." or ".." components and NUL bytes are
// refused, so a caller never needs to reason about what the kernel would do with them.
#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "util/unique_fd.hpp"

namespace cc::beneath {

// Size limit for read_file when the caller has no better one.
inline constexpr std::size_t kDefaultReadLimit = 4 * 1024 * 1024;

// Opens a trusted root directory (O_DIRECTORY | O_NOFOLLOW on the last component).
// Throws cc::Error naming `root` when it is missing, a symlink or not a directory.
UniqueFd open_root(const std::filesystem::path& root);

// True when `relative` is a usable relative path: non-empty, not absolute, no "." / ".."
// components, no NUL byte.
bool is_clean_relative(const std::filesystem::path& relative);

// openat2 beneath root_fd. Returns an invalid fd and sets errno on failure: ELOOP for a
// symlink anywhere on the way, EXDEV for an escape, ENOENT, and so on. O_CLOEXEC is always
// added; O_NOFOLLOW is implied for the last component.
UniqueFd open_at(int root_fd, const std::filesystem::path& relative, int flags, mode_t mode = 0);

// Like open_at, but throws cc::Error with a sentence that names `relative` and the reason
// ("is a symbolic link", "leaves the project", ...).
UniqueFd open_or_throw(int root_fd, const std::filesystem::path& relative, int flags,
                       mode_t mode = 0);

// lstat-like: the metadata of `relative` itself (a symlink is reported as one, never
// followed), or nullopt when it does not exist. Parents must not be symlinks (throws).
std::optional<struct stat> stat_at(int root_fd, const std::filesystem::path& relative);

// Creates every missing directory of `relative_dir` (mode `mode`) and returns an fd of the
// last one. Throws when a component exists and is a symlink or not a directory.
UniqueFd make_directories(int root_fd, const std::filesystem::path& relative_dir,
                          mode_t mode = 0755);

// The content of a regular file, or nullopt when it does not exist. Throws when it is a
// symlink, not a regular file, or larger than `max_bytes` (naming the limit).
std::optional<std::string> read_file(int root_fd, const std::filesystem::path& relative,
                                     std::size_t max_bytes = kDefaultReadLimit);

// Crash-safe replace: a temp file created O_EXCL in the same directory, fsync, renameat.
// Creates missing parent directories. Refuses when the destination exists and is not a
// regular file (a symlink is never replaced silently). The temp file never survives an error.
void write_file(int root_fd, const std::filesystem::path& relative, const std::string& content,
                mode_t mode = 0644);

// Removes the file or symlink `relative` itself (never what a symlink points to). Returns
// false when it did not exist. Refuses directories and symlinked parents.
bool remove_file(int root_fd, const std::filesystem::path& relative);

// Removes the directory `relative` when it is empty; returns false when it was not empty or
// did not exist.
bool remove_empty_directory(int root_fd, const std::filesystem::path& relative);

}  // namespace cc::beneath
