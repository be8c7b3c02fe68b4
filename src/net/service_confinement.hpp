#pragma once
// The confinement of the network service process (network_service.hpp): what the proxy and the
// gateway may still do once they parse hostile input. Applied once, before any thread starts
// (capabilities and Landlock are per thread), after everything that needs the filesystem has
// been loaded (the TLS trust store, NSS modules).
//
//  - capabilities: every set empty, the bounding set too (as root) and the ambient set;
//  - no_new_privs;
//  - Landlock (every filesystem right its ABI knows is handled): reading only the files name
//    resolution re-reads, and in the audit log's directory only writing, creating and removing
//    regular files (AuditWriter's rotation renames within it); signals and abstract unix
//    sockets scoped to the service (ABI 6);
//  - a seccomp allowlist: event loop, TCP/UDP sockets (no new unix, packet or vsock ones),
//    splice, memory, threads (clone with
//    CLONE_THREAD only), time and randomness. execve, ptrace, fork and everything else kill
//    the process.
#include <filesystem>
#include <string>
#include <vector>

namespace cc::net {

struct ServiceConfinement {
  // Regular files may be written, created and renamed beneath it; empty: none. It must hold
  // nothing but the audit log and its rotated copy.
  std::filesystem::path audit_dir;
  std::vector<std::filesystem::path> readable_files;  // each may be read; missing ones are skipped
};

// The files glibc's resolver reads again after start (it reloads them when they change).
std::vector<std::filesystem::path> name_resolution_files();

// Confines the calling process as above. Call while it has a single thread. Throws cc::Error
// naming the step that failed; Landlock missing from the kernel is not an error (the other
// layers still apply) and is reported by landlock_enforced().
void confine_network_service(const ServiceConfinement& confinement);

// After confine_network_service: whether Landlock was applied (false on kernels without it).
bool landlock_enforced();

}  // namespace cc::net
