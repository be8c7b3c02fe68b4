#include "config/config_paths.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>

#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"
#include "util/unique_fd.hpp"

namespace cc::config {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void refuse(const std::string& key, const std::string& value, const std::string& why) {
  throw usage_error(key + " \"" + value.substr(0, 200) + "\" is refused: " + why +
                    ". Point it at a regular file in the project and run `claude-container trust`");
}

std::string read_bounded(int fd, const std::string& key, const std::string& value, std::size_t max_bytes) {
  std::string content;
  if (read_all_bounded(fd, max_bytes, content)) return content;
  if (errno == EFBIG) refuse(key, value, "it is larger than the limit of " + std::to_string(max_bytes) + " bytes");
  refuse(key, value, errno_message("it cannot be read", errno));
}

}  // namespace

bool is_kernel_path(const std::string& value) {
  const fs::path path = fs::path(value).lexically_normal();
  if (!path.is_absolute()) return false;
  auto part = ++path.begin();  // past "/"
  if (part == path.end()) return false;
  return *part == "proc" || *part == "sys" || *part == "dev";
}

ConfigPath locate_config_path(const fs::path& project_dir, const std::string& key, const std::string& value) {
  if (value.empty()) refuse(key, value, "it is empty");
  if (value.find('\0') != std::string::npos) refuse(key, value, "it contains a NUL byte");
  if (is_kernel_path(value)) refuse(key, value, "files under /proc, /sys and /dev are never read");
  ConfigPath where;
  const fs::path given(value);
  if (!given.is_absolute() && beneath::is_clean_relative(given)) {
    where.relative = given;
    return where;
  }
  const fs::path absolute = (given.is_absolute() ? given : project_dir / given).lexically_normal();
  if (is_kernel_path(absolute.string())) refuse(key, value, "files under /proc, /sys and /dev are never read");
  const fs::path relative = absolute.lexically_relative(project_dir);
  if (!relative.empty() && beneath::is_clean_relative(relative)) {
    where.relative = relative;  // "./x" or "sub/../x": still inside
    return where;
  }
  where.inside = false;
  where.absolute = absolute;
  return where;
}

std::optional<std::string> read_config_path(const fs::path& project_dir, const std::string& key,
                                            const std::string& value, std::size_t max_bytes) {
  const ConfigPath where = locate_config_path(project_dir, key, value);
  if (where.inside) {
    try {
      UniqueFd root = beneath::open_root(project_dir);
      return beneath::read_file(root.get(), where.relative, max_bytes);
    } catch (const Error& e) {
      refuse(key, value, e.what());
    }
  }
  UniqueFd fd(::open(where.absolute.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) refuse(key, value, "it is a symbolic link");
    refuse(key, value, errno_message("it cannot be opened", errno));
  }
  struct stat st {};
  struct statfs fs_info {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) refuse(key, value, "it is not a regular file");
  // A link higher up may still lead into a kernel file system; those files are never config.
  if (::fstatfs(fd.get(), &fs_info) == 0 &&
      (fs_info.f_type == PROC_SUPER_MAGIC || fs_info.f_type == SYSFS_MAGIC || fs_info.f_type == DEBUGFS_MAGIC))
    refuse(key, value, "files under /proc, /sys and /dev are never read");
  if (static_cast<std::size_t>(st.st_size) > max_bytes)
    refuse(key, value, "it is larger than the limit of " + std::to_string(max_bytes) + " bytes");
  return read_bounded(fd.get(), key, value, max_bytes);
}

}  // namespace cc::config
