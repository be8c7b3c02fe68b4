#pragma once
// What one directory entry of a hostile tree is, read without trusting it: never through a
// symbolic link, never opening anything but a regular file (so a FIFO cannot block us and a
// device is never touched), and with the content hashed from the same descriptor that was
// checked. Both the change layer and the project are read this way.
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/unique_fd.hpp"

namespace cc::workspace {

enum class FileType { none, regular, directory, symlink, fifo, socket, char_device, block_device, whiteout };

// "file", "directory", "symlink", "fifo", ... as shown in a review.
const char* type_name(FileType type);
// FIFOs, sockets and devices: never project content, never applied.
bool is_special(FileType type);

struct FileState {
  FileType type = FileType::none;
  mode_t mode = 0;             // permission bits with setuid/setgid/sticky (07777)
  std::uint64_t size = 0;
  std::string sha256;          // regular files: of exactly the bytes read
  std::string link_target;     // symlinks: the link itself, never what it points to
  bool binary = false;         // a NUL byte in the first 8000 bytes, as git decides
  bool capabilities = false;   // carries a security.capability xattr
  std::optional<std::string> content;  // regular files up to kShownContentLimit, when asked
  // Identity and change stamp (inode, size, mtime, ctime; directories: inode and mode):
  // what the hybrid base records to notice that the project's copy moved.
  std::string stamp;
};

// Same type, permission bits and content (sha256, or link target); capabilities not compared.
bool same_state(const FileState& a, const FileState& b);

// The stamp of an lstat result (see FileState::stamp).
std::string stamp_of(const struct stat& st);

// Files larger than this are shown by size and hash only.
inline constexpr std::uint64_t kShownContentLimit = 1024 * 1024;

// Reads `name` (one component) in `dir_fd`. `overlay_upper`: the tree is an overlay upper
// layer, so whiteouts are recognised. `keep_content`: keep text for display.
FileState read_state(int dir_fd, const std::string& name, bool overlay_upper, bool keep_content);

// Opens `name` in `dir_fd` for reading only when it is a regular file, as checked on the
// opened descriptor (an O_PATH open, then a reopen of that very inode: no second lookup).
// Returns an invalid fd otherwise; `st` gets the descriptor's metadata.
UniqueFd open_regular(int dir_fd, const std::string& name, struct stat* st);

// Opens the directory `name` in `dir_fd` (O_NOFOLLOW): invalid fd when it is anything else.
UniqueFd open_directory(int dir_fd, const std::string& name);

// The names in a directory, sorted, without "." and "..".
std::vector<std::string> list_directory(int dir_fd);

// An overlay upper-layer directory that hides everything the lower layer has below it.
bool is_opaque_directory(int dir_fd);

// Streaming sha256 of an fd's remaining content (used to check what apply copies).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t size);
  std::string hex();  // finishes
 private:
  void* ctx_;
};

}  // namespace cc::workspace
