#pragma once
// The image the container's pid 1 executes: claude-container-init (init_main.cpp), embedded
// in this binary at build time and handed to the sandbox as a sealed memfd. So /proc/1/exe
// inside is neither the host's claude-container (which a container root that owns it on the
// host could otherwise write through, as in runc's CVE-2019-5736) nor any file on the host:
// a memory file that cannot be written, grown or shrunk, and whose seals cannot be removed.
#include <cstddef>

#include "util/unique_fd.hpp"

namespace cc::engine::native {

// The embedded image's size in bytes.
std::size_t init_image_size();

// A new sealed memfd holding the image (close-on-exec). Throws cc::Error.
UniqueFd sealed_init_image();

}  // namespace cc::engine::native
