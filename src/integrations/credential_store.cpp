// The file `claude-container login` keeps the credential in: one line, mode 0600, in a 0700
// directory, both the user's own; read without following links and bounded, written
// temp+rename. Anything else is an error naming the file and the fix, never silently skipped.
#include "integrations/credential_store.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "integrations/api_credential.hpp"
#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace cc::integrations {

namespace fs = std::filesystem;

namespace {

// The stored file holds one credential (~108 characters) and a newline; anything far larger is
// not ours.
constexpr std::size_t kMaxStoreBytes = 4096;

std::optional<uid_t> owner_of_nearest_existing(fs::path dir) {
  for (;;) {
    struct stat st {};
    if (::lstat(dir.c_str(), &st) == 0) return st.st_uid;
    if (!dir.has_relative_path()) return std::nullopt;
    dir = dir.parent_path();
  }
}

fs::path account_home() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_dir != nullptr && pw->pw_dir[0] == '/')
    return pw->pw_dir;
  throw Error("cannot find your home directory to keep the credential in: uid " + std::to_string(::geteuid()) +
              " has no entry in the password database; set XDG_CONFIG_HOME.");
}

// The user's config directory. As root, `sudo -E` and `su` leave another user's XDG_CONFIG_HOME
// and HOME behind: root's credential must not be read from or written to where that user
// could plant or take it, so as root a directory counts only when root owns it (or, not made
// yet, its nearest existing parent).
fs::path config_home(const config::EnvLookup& lookup) {
  const bool root = ::geteuid() == 0;
  auto usable = [&](const std::optional<std::string>& value) -> std::optional<fs::path> {
    if (!value || value->empty() || (*value)[0] != '/') return std::nullopt;  // XDG: relative values are ignored
    fs::path dir = fs::path(*value).lexically_normal();
    if (root && owner_of_nearest_existing(dir) != 0u) return std::nullopt;
    return dir;
  };
  if (auto xdg = usable(lookup("XDG_CONFIG_HOME"))) return *xdg;
  if (auto home = usable(lookup("HOME"))) return *home / ".config";
  return account_home() / ".config";
}

}  // namespace

fs::path credential_store_path(const config::EnvLookup& lookup) {
  return config_home(lookup) / "claude-container" / "credentials";
}

namespace {

std::string store_fix(const fs::path& file) {
  return "run `claude-container logout` (or remove " + file.string() + ") and `claude-container login` again";
}

// The directory must be the user's own and closed to others, or a credential in it could have
// been planted (read) or could be taken (write).
void check_private_dir(int fd, const fs::path& dir) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno("cannot inspect " + dir.string());
  if (st.st_uid != ::geteuid()) {
    throw Error("refused to use " + dir.string() + ": it belongs to uid " + std::to_string(st.st_uid) +
                ", not to you (uid " + std::to_string(::geteuid()) + "); remove it and run `claude-container login` "
                "again.");
  }
  if ((st.st_mode & 077) != 0) {
    throw Error("refused to use " + dir.string() + ": other users may open it (mode " +
                [&] {
                  char text[8];
                  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(st.st_mode & 07777));
                  return std::string(text);
                }() +
                "); run `chmod 700 " + dir.string() + "` and try again.");
  }
}

UniqueFd open_store_dir(const fs::path& dir, bool create) {
  if (create) {
    // Parents as the user's config dir normally is; the last one ours and private.
    std::error_code ec;
    fs::create_directories(dir.parent_path(), ec);
    if (ec) throw Error("cannot create " + dir.parent_path().string() + " to keep the credential in: " + ec.message() + ".");
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) throw_errno("cannot create " + dir.string());
  }
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT && !create) return fd;
    if (errno == ELOOP || errno == ENOTDIR) {
      throw Error("refused to use " + dir.string() + ": it is a symbolic link or not a directory; remove it and run "
                  "`claude-container login` again.");
    }
    throw_errno("cannot open " + dir.string());
  }
  check_private_dir(fd.get(), dir);
  return fd;
}

void wipe(std::string& text) {
  if (!text.empty()) ::explicit_bzero(text.data(), text.size());
  text.clear();
}

}  // namespace

std::optional<net::UpstreamCredential> read_stored_credential(const fs::path& file) {
  UniqueFd dir = open_store_dir(file.parent_path(), false);
  if (!dir) return std::nullopt;
  UniqueFd fd(::openat(dir.get(), file.filename().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) throw Error("refused to read " + file.string() + ": it is a symbolic link; " + store_fix(file) + ".");
    throw_errno("cannot read " + file.string());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("cannot inspect " + file.string());
  if (!S_ISREG(st.st_mode)) throw Error("refused to read " + file.string() + ": it is not a regular file; " + store_fix(file) + ".");
  if (st.st_uid != ::geteuid()) {
    throw Error("refused to read " + file.string() + ": it belongs to uid " + std::to_string(st.st_uid) +
                ", not to you (uid " + std::to_string(::geteuid()) + "); " + store_fix(file) + ".");
  }
  if ((st.st_mode & 077) != 0) {
    throw Error("refused to read " + file.string() + ": other users may read or change it (it must be mode 0600); "
                "run `chmod 600 " + file.string() + "` if only you could ever read it, else " + store_fix(file) + ".");
  }
  // Read straight into one buffer that is wiped afterwards: no intermediate copy of the value
  // is left in freed memory (the supervisor's memory is copied into the sandbox's pid 1).
  std::string text(kMaxStoreBytes + 1, '\0');
  std::size_t used = 0;
  while (used < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      wipe(text);
      throw Error(errno_message("cannot read " + file.string(), err));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > kMaxStoreBytes) {
    wipe(text);
    throw Error("refused to read " + file.string() + ": it is larger than a credential; " + store_fix(file) + ".");
  }
  text.resize(used);
  std::size_t end = text.find('\n');
  std::string value = text.substr(0, end);
  const bool one_line = end == std::string::npos || text.find_first_not_of('\n', end) == std::string::npos;
  wipe(text);
  auto kind = one_line ? credential_kind_of(value) : std::nullopt;
  if (!kind) {
    wipe(value);
    throw Error(file.string() + " is malformed: it must hold one Anthropic API key (sk-ant-api...) or OAuth token "
                "(sk-ant-oat...) on one line; " + store_fix(file) + ".");
  }
  return net::UpstreamCredential{*kind, std::move(value)};
}

void store_credential(const fs::path& file, const net::UpstreamCredential& credential) {
  UniqueFd dir = open_store_dir(file.parent_path(), true);
  // Temp file and rename inside the directory just checked; a link or a directory in the
  // file's place is refused, never replaced or followed.
  std::string content = credential.value + "\n";
  try {
    beneath::write_file(dir.get(), file.filename(), content, 0600);
  } catch (...) {
    wipe(content);
    throw;
  }
  wipe(content);
}

bool remove_stored_credential(const fs::path& file) {
  UniqueFd dir = open_store_dir(file.parent_path(), false);
  if (!dir) return false;
  if (::unlinkat(dir.get(), file.filename().c_str(), 0) == 0) return true;
  if (errno == ENOENT) return false;
  throw_errno("cannot remove " + file.string());
}

}  // namespace cc::integrations
