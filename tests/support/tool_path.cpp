#include "support/tool_path.hpp"

#include <unistd.h>

#include <stdexcept>

namespace cc::test {

namespace fs = std::filesystem;

std::optional<fs::path> find_system_tool(const std::string& name) {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/sbin", "/sbin"}) {
    fs::path candidate = fs::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

ToolPath::ToolPath(const std::vector<std::string>& tools) : dir_("cc-tools") {
  for (const auto& tool : tools) {
    auto found = find_system_tool(tool);
    if (!found) throw std::runtime_error("the test needs '" + tool + "', which is not installed in /usr/bin or /bin");
    fs::create_symlink(*found, dir_.path() / tool);
  }
  // Readable by the unprivileged test user, to whom engine tests hand this PATH.
  fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                   fs::perms::others_read | fs::perms::others_exec);
}

}  // namespace cc::test
