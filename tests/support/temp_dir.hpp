#pragma once
// A directory under $TMPDIR (else /tmp) removed with everything in it when the test ends.
#include <filesystem>
#include <string>

namespace cc::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "cc-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

}  // namespace cc::test
