#pragma once
// The supervisor's control socket (control.sock in the state directory): one request line,
// one reply, then the connection closes. Requests: "status", "reload", "stop <seconds>".
// `exec` needs no request: the caller joins the namespaces itself through a pidfd, which
// keeps the supervisor small and exec fast.
#include <filesystem>
#include <optional>
#include <string>

#include "util/unique_fd.hpp"

namespace cc::engine::native {

// Connects to the control socket; nullopt when no supervisor listens.
std::optional<UniqueFd> connect_control(const std::filesystem::path& state_dir);
// Sends `request` and returns the whole reply; nullopt when the connection failed. `timeout_ms`
// bounds the wait for the reply (-1 = unbounded).
std::optional<std::string> control_request(const std::filesystem::path& state_dir, const std::string& request,
                                           int timeout_ms);

}  // namespace cc::engine::native
