// The container's pid 1 as a program of its own (built as claude-container-init, a small
// static executable, and embedded in claude-container: see init_image.hpp). It is not part of
// cc_core: this file is its entry point. argv[1] is the descriptor of the supervisor's socket.
#include <sys/prctl.h>

#include <cerrno>
#include <cstdlib>

#include "engine/native/init.hpp"

int main(int argc, char** argv) {
  // Executed from a memfd, the kernel names us after it ("memfd:..."); `ps` inside shows this.
  ::prctl(PR_SET_NAME, "claude-container-init");
  if (argc != 2) return 2;
  char* end = nullptr;
  errno = 0;
  long fd = std::strtol(argv[1], &end, 10);
  if (errno != 0 || end == argv[1] || *end != '\0' || fd < 3 || fd > 1024) return 2;
  cc::engine::native::run_init(static_cast<int>(fd));
}
