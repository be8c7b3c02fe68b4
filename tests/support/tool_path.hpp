#pragma once
// A PATH made of exactly the system programs a test names (symlinks in a temporary
// directory), so a test never runs whatever else this machine has installed: a system-wide
// `claude`, an `npm` that would write into a home directory, and so on.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace cc::test {

// The program from the distribution's directories (/usr/bin, /bin, /usr/sbin, /sbin), never
// /usr/local or a user's directories.
std::optional<std::filesystem::path> find_system_tool(const std::string& name);

class ToolPath {
 public:
  // Throws std::runtime_error naming the first tool that is not installed.
  explicit ToolPath(const std::vector<std::string>& tools);
  // The directory to put on PATH (after any directory of stand-ins).
  std::string dir() const { return dir_.path().string(); }

 private:
  TempDir dir_;
};

}  // namespace cc::test
