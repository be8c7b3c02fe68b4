#pragma once
// A base image for the Podman (and Docker-through-Podman) engine tests, with no registry: a
// Debian root filesystem made by mmdebstrap from this host's own apt sources (the archive this
// machine reaches), `podman import`ed, and cached across runs under
// /var/cache/claude-container-tests (CC_TEST_CACHE_DIR overrides), outside /tmp.
//
// The image holds what the engines' lifecycle needs from an image (sh, socat for the relay,
// curl for the tests, useradd for the image's user). The generated Containerfile cannot be
// built here (its FROM names node:22 from a registry, and Debian has no Node.js 22), so tests
// build test_containerfile(): the generated file's shape (ARG USER_UID, the user "claude" who
// owns /workspace, socat) on this base.
#include <string>

namespace cc::test {

inline constexpr const char* kPodmanBaseImage = "localhost/claude-container-test/debian:base-v1";

// Why podman tests cannot run here ("" when they can): podman and mmdebstrap installed, root.
std::string podman_unavailable_reason();

// Builds (first time: mmdebstrap + import, measured in bench/README.md) or finds the image.
// Returns "" on success, else what failed.
std::string ensure_podman_base_image();

// The Containerfile the engine tests build (see above).
std::string test_containerfile();

}  // namespace cc::test
