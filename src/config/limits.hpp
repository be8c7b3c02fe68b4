#pragma once
// Size limits for everything read from a project. The config is hostile input (a cloned
// repository, or a container writing into a bind-mounted project): no value may be large
// enough to slow, exhaust or crash the tool, and `stop` / `destroy` must always work.
#include <cstddef>

namespace cc::config {

inline constexpr std::size_t kMaxConfigBytes = 4 * 1024 * 1024;  // config.json as a whole
inline constexpr std::size_t kMaxJsonDepth = 8;               // the schema nests 3 deep
inline constexpr std::size_t kMaxKeyBytes = 128;              // any object key, env names too
inline constexpr std::size_t kMaxStringBytes = 4096;          // paths, URLs, names, commands
inline constexpr std::size_t kMaxEnvValueBytes = 32 * 1024;   // one env value
inline constexpr std::size_t kMaxEnvEntries = 256;            // env entries
inline constexpr std::size_t kMaxDomainBytes = 300;           // one network.allow/deny rule
inline constexpr std::size_t kMaxDomainEntries = 1024;        // network.allow, network.deny each
inline constexpr std::size_t kMaxEnvFileBytes = 1024 * 1024;  // the env_file
inline constexpr std::size_t kMaxEnvFileEntries = 4096;
inline constexpr std::size_t kMaxCaFileBytes = 1024 * 1024;   // credentials.ca_file
inline constexpr std::size_t kMaxContainerfileBytes = 1024 * 1024;  // image.containerfile
inline constexpr std::size_t kMaxManifestBytes = 1024 * 1024; // .claude-container/manifest.json
inline constexpr std::size_t kMaxManifestEntries = 256;
inline constexpr std::size_t kMaxGitignoreBytes = 1024 * 1024;

}  // namespace cc::config
