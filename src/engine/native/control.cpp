#include "engine/native/control.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace cc::engine::native {

using nlohmann::json;

namespace {

std::int64_t clamp_grace(std::int64_t seconds) { return std::clamp<std::int64_t>(seconds, 0, kMaxStopGraceSeconds); }

}  // namespace

std::variant<ControlRequest, std::string> parse_control_request(std::string_view line) {
  if (line.size() > kMaxControlLine) return std::string("the request is longer than " + std::to_string(kMaxControlLine) + " bytes");
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::string("the request is not one JSON object");
  auto op = j.find("op");
  if (op == j.end() || !op->is_string()) return std::string("the request names no \"op\" string");
  ControlRequest request;
  const auto& name = op->get_ref<const std::string&>();
  if (name == "status") {
    request.op = ControlRequest::Op::status;
  } else if (name == "reload") {
    request.op = ControlRequest::Op::reload;
  } else if (name == "stop") {
    request.op = ControlRequest::Op::stop;
    if (auto timeout = j.find("timeout"); timeout != j.end()) {
      // Any integer is accepted and clamped; fractions, strings and the like are refused.
      if (timeout->is_number_unsigned()) {
        request.stop_grace_seconds = static_cast<int>(clamp_grace(
            static_cast<std::int64_t>(std::min<std::uint64_t>(timeout->get<std::uint64_t>(), kMaxStopGraceSeconds))));
      } else if (timeout->is_number_integer()) {
        request.stop_grace_seconds = static_cast<int>(clamp_grace(timeout->get<std::int64_t>()));
      } else {
        return std::string("\"timeout\" is not an integer number of seconds");
      }
    }
  } else {
    return "unknown op \"" + name.substr(0, 64) + "\"";
  }
  return request;
}

std::string control_reply(const json& reply) {
  return reply.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string control_error_reply(const std::string& why) { return control_reply({{"ok", false}, {"error", why}}); }

bool reply_flag(const json& reply, const char* key) {
  auto it = reply.find(key);
  return it != reply.end() && it->is_boolean() && it->get<bool>();
}

json stop_request(std::int64_t grace_seconds) { return {{"op", "stop"}, {"timeout", clamp_grace(grace_seconds)}}; }

int stop_reply_timeout_ms(std::int64_t grace_seconds) {
  // The grace period, then the kill and the clean-up.
  return static_cast<int>((clamp_grace(grace_seconds) + 15) * 1000);
}

std::optional<UniqueFd> connect_control(const std::filesystem::path& state_dir) {
  // Through an O_PATH descriptor of the directory, so long state paths never exceed sun_path.
  UniqueFd dir(::open(state_dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return std::nullopt;
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return std::nullopt;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/control.sock", dir.get());
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return std::nullopt;
  return sock;
}

std::optional<json> control_call(const std::filesystem::path& state_dir, const json& request, int timeout_ms,
                                 std::size_t max_reply) {
  auto sock = connect_control(state_dir);
  if (!sock) return std::nullopt;
  std::string line = control_reply(request);
  if (::send(sock->get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) return std::nullopt;
  std::string reply;
  char buf[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (reply.find('\n') == std::string::npos) {
    int wait = -1;
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      wait = static_cast<int>(left.count());
    }
    pollfd p{sock->get(), POLLIN, 0};
    int rc = ::poll(&p, 1, wait);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return std::nullopt;
    ssize_t n = ::read(sock->get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
    if (reply.size() > max_reply) return std::nullopt;
  }
  auto end = reply.find('\n');
  if (end == std::string::npos) return std::nullopt;
  json j = json::parse(reply.begin(), reply.begin() + static_cast<std::ptrdiff_t>(end), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

}  // namespace cc::engine::native
