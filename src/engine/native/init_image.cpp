#include "engine/native/init_image.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "util/error.hpp"

// Defined by init_image_blob.cpp (.incbin of the built claude-container-init).
extern "C" const unsigned char cc_init_image_start[];
extern "C" const unsigned char cc_init_image_end[];

namespace cc::engine::native {

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

std::size_t init_image_size() { return static_cast<std::size_t>(cc_init_image_end - cc_init_image_start); }

UniqueFd sealed_init_image() {
  // MFD_EXEC: where vm.memfd_noexec makes memfds non-executable by default; older kernels
  // do not know the flag (EINVAL) and make every memfd executable.
  UniqueFd fd(::memfd_create("claude-container-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
  if (!fd && errno == EINVAL) fd.reset(::memfd_create("claude-container-init", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) throw_errno("cannot create the memory file for the container's pid 1");
  const std::size_t size = init_image_size();
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd.get(), cc_init_image_start + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("cannot write the container's pid 1 image");
    done += static_cast<std::size_t>(n);
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    throw_errno("cannot seal the container's pid 1 image");
  }
  return fd;
}

}  // namespace cc::engine::native
