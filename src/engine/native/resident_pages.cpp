#include "engine/native/resident_pages.hpp"

#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "util/unique_fd.hpp"

namespace cc::engine::native {

namespace {

// The paths of the program and its start-up libraries, as /proc/self/smaps names them (the
// canonical path: on overlayfs a mapping's device and inode differ from what stat reports).
std::vector<std::string>& startup_paths() {
  static std::vector<std::string> paths;
  return paths;
}

void remember(const char* path) noexcept {
  if (path == nullptr || path[0] != '/') return;
  char resolved[PATH_MAX];
  if (::realpath(path, resolved) == nullptr) return;
  try {
    startup_paths().emplace_back(resolved);
  } catch (...) {
    // Not remembered: that object's pages stay mapped.
  }
}

bool startup_object(std::string_view path) {
  for (const auto& known : startup_paths()) {
    if (known == path) return true;
  }
  return false;
}

struct Mapping {
  unsigned long start = 0, end = 0;
  bool candidate = false;  // file-backed, not writable, not shared
  bool has_private = false;
};

void release(const Mapping& m) {
  // MADV_DONTNEED on a private file mapping that holds no private page only drops our page
  // table entries: its content comes back from the (unchanged) file when touched again.
  if (m.candidate && !m.has_private && m.end > m.start) {
    // The address is one the kernel listed for this process, not one computed here.
    void* start = reinterpret_cast<void*>(m.start);  // NOLINT(performance-no-int-to-ptr)
    ::madvise(start, m.end - m.start, MADV_DONTNEED);
  }
}

}  // namespace

void remember_startup_objects() noexcept {
  remember("/proc/self/exe");
  ::dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void*) noexcept {
        remember(info->dlpi_name);
        return 0;
      },
      nullptr);
}

void unmap_clean_file_pages() noexcept {
  try {
    UniqueFd fd(::open("/proc/self/smaps", O_RDONLY | O_CLOEXEC));
    if (!fd) return;
    std::string text;
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
      if (text.size() > (8u << 20)) return;  // far more mappings than this process has
    }
    Mapping current;
    std::string_view rest(text);
    while (!rest.empty()) {
      auto eol = rest.find('\n');
      std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
      // A mapping's first line: "start-end perms offset dev inode path".
      auto dash = line.find('-');
      auto space = line.find(' ');
      if (dash != std::string_view::npos && space != std::string_view::npos && dash < space &&
          line.find_first_not_of("0123456789abcdef") == dash) {
        release(current);
        current = Mapping{};
        std::string range(line.substr(0, space));
        current.start = std::strtoul(range.c_str(), nullptr, 16);
        current.end = std::strtoul(range.c_str() + (dash + 1), nullptr, 16);
        // "perms offset major:minor inode path": a private read-only mapping of a start-up object.
        std::string_view perms = line.substr(space + 1, 4);
        auto slash = line.find(" /");
        current.candidate = perms.size() == 4 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' &&
                            slash != std::string_view::npos && startup_object(line.substr(slash + 1));
        continue;
      }
      // Any copied-on-write page (relocated read-only data) must stay: dropping it would lose it.
      // (A file page that is merely dirty in the page cache, say a binary just built, is not ours.)
      constexpr std::string_view key = "Anonymous:";
      if (line.substr(0, key.size()) == key) {
        auto digits = line.find_first_of("123456789", key.size());
        if (digits != std::string_view::npos && digits < line.find(" kB")) current.has_private = true;
      }
    }
    release(current);
  } catch (...) {
    // Best effort: an allocation failure leaves the mappings as they are.
  }
}

}  // namespace cc::engine::native
