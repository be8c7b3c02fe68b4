#include "util/file_io.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace cc {

std::optional<std::string> read_file_if_exists(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return std::nullopt;
    throw Error(errno_message("cannot read " + path.string(), errno));
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string read_file(const std::filesystem::path& path) {
  auto content = read_file_if_exists(path);
  if (!content) throw Error("cannot read " + path.string() + ": file does not exist");
  return *content;
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content, mode_t mode) {
  auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  std::string tmpl = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  UniqueFd fd(::mkstemp(tmpl.data()));
  if (!fd) throw_errno("cannot create a temporary file in " + dir.string());
  auto fail = [&](const std::string& what) {
    int err = errno;
    ::unlink(tmpl.c_str());
    throw Error(errno_message(what + " " + path.string(), err));
  };
  if (!write_all(fd.get(), content)) fail("cannot write");
  if (::fchmod(fd.get(), mode) != 0) fail("cannot set permissions of");
  if (::fsync(fd.get()) != 0) fail("cannot flush");
  fd.reset();
  if (::rename(tmpl.c_str(), path.c_str()) != 0) fail("cannot replace");
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool read_all_bounded(int fd, std::size_t max_bytes, std::string& out) {
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) return true;
    if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
      errno = EFBIG;
      return false;
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 0xf]);
  }
  return out;
}

bool path_exists(const std::filesystem::path& path) noexcept {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

}  // namespace cc
