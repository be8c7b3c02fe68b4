#pragma once
// How the child side of a fork/clone reports failure: one fixed-size record (errno and what
// was being done) written to a pipe or socket; the parent turns it into a cc::Error. Nothing
// here allocates or throws, so it is safe between fork and exec.
#include <unistd.h>

#include <cstring>

namespace cc::engine::native {

struct ChildReport {
  char tag = 'E';      // 'E' error, 'R' ready
  int err = 0;         // errno
  char what[240] = {};
  char detail[240] = {};  // usually a path
  int first_group = 0;    // 'R' with descriptors: how many of them belong to the first group
};

inline void copy_text(char* dst, std::size_t size, const char* src) noexcept {
  if (src == nullptr) src = "";
  std::size_t n = std::strlen(src);
  if (n >= size) n = size - 1;
  std::memcpy(dst, src, n);
  dst[n] = '\0';
}

inline void send_report(int fd, char tag, int err, const char* what, const char* detail = nullptr) noexcept {
  ChildReport report;
  report.tag = tag;
  report.err = err;
  copy_text(report.what, sizeof(report.what), what);
  copy_text(report.detail, sizeof(report.detail), detail);
  ssize_t ignored = ::write(fd, &report, sizeof(report));
  (void)ignored;
}

}  // namespace cc::engine::native
