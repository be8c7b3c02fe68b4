#pragma once
// The supervisor's control socket (control.sock in the state directory): one request, one
// reply, then the connection closes. Both are one JSON object on one line, at most
// kMaxControlLine bytes:
//   {"op":"status"}              -> {"ok":true,"allowed":N,"denied":N}
//   {"op":"reload"}              -> {"ok":true} (the stored config's allow/deny lists)
//   {"op":"stop","timeout":S}    -> {"ok":true,"stopped":true} once the container stopped
//   anything else                -> {"ok":false,"error":"..."}
// `exec` needs no request: the caller joins the namespaces itself through a pidfd, which
// keeps the supervisor small and exec fast.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "util/unique_fd.hpp"

namespace cc::engine::native {

inline constexpr std::size_t kMaxControlLine = 4096;
// A stop's grace period is clamped to this (an hour); longer would only delay the kill.
inline constexpr std::int64_t kMaxStopGraceSeconds = 3600;
inline constexpr int kDefaultStopGraceSeconds = 10;

struct ControlRequest {
  enum class Op { status, reload, stop };
  Op op = Op::status;
  int stop_grace_seconds = kDefaultStopGraceSeconds;  // stop: within [0, kMaxStopGraceSeconds]
};

// Supervisor side: one request line (without its newline). Returns the request, or the
// sentence that goes back as the error reply.
std::variant<ControlRequest, std::string> parse_control_request(std::string_view line);
// One reply line, newline included.
std::string control_reply(const nlohmann::json& reply);
std::string control_error_reply(const std::string& why);

// Client side. Connects to the control socket; nullopt when no supervisor listens.
std::optional<UniqueFd> connect_control(const std::filesystem::path& state_dir);
// Sends `request` and returns the parsed reply object; nullopt when the connection failed,
// `timeout_ms` passed (-1: unbounded), the reply exceeded `max_reply` bytes or was not one JSON
// object. The image engines' network host side answers on the same protocol in its own directory.
std::optional<nlohmann::json> control_call(const std::filesystem::path& state_dir, const nlohmann::json& request,
                                           int timeout_ms, std::size_t max_reply = kMaxControlLine);
// True when the reply holds `key` as the boolean true (a missing or mistyped key is false).
bool reply_flag(const nlohmann::json& reply, const char* key);
// The request for a stop with this grace period (clamped), and how long a caller waits for its reply.
nlohmann::json stop_request(std::int64_t grace_seconds);
int stop_reply_timeout_ms(std::int64_t grace_seconds);

}  // namespace cc::engine::native
