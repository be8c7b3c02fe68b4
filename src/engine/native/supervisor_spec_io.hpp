#pragma once
// The SupervisorSpec as the one JSON message the CLI sends the re-executed supervisor over a
// private socketpair (never argv, the environment or a file: it holds the gateway credential
// and the git token). Descriptors do not travel: the supervisor makes those itself.
#include <cstddef>
#include <string>

#include "engine/native/supervisor.hpp"

namespace cc::engine::native {

// Larger than any real spec (mount plans of a few hundred steps are tens of kilobytes).
inline constexpr std::size_t kMaxSupervisorSpecBytes = 8u << 20;

std::string serialize_supervisor_spec(const SupervisorSpec& spec);
// Throws cc::Error naming what is malformed.
SupervisorSpec parse_supervisor_spec(const std::string& text);

}  // namespace cc::engine::native
