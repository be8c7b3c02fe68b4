// The control socket's messages: JSON lines parsed with checks, never numbers read off text;
// a stop's grace period is clamped so no arithmetic on it can overflow.
#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <variant>

#include "engine/native/control.hpp"

namespace cc::engine::native {
namespace {

ControlRequest parsed(const std::string& line) {
  auto result = parse_control_request(line);
  EXPECT_TRUE(std::holds_alternative<ControlRequest>(result)) << line;
  return std::holds_alternative<ControlRequest>(result) ? std::get<ControlRequest>(result) : ControlRequest{};
}

std::string refused(const std::string& line) {
  auto result = parse_control_request(line);
  EXPECT_TRUE(std::holds_alternative<std::string>(result)) << line;
  return std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "";
}

TEST(ControlProtocol, TheThreeRequests) {
  EXPECT_EQ(parsed(R"({"op":"status"})").op, ControlRequest::Op::status);
  EXPECT_EQ(parsed(R"({"op":"reload"})").op, ControlRequest::Op::reload);
  auto stop = parsed(R"({"op":"stop","timeout":3})");
  EXPECT_EQ(stop.op, ControlRequest::Op::stop);
  EXPECT_EQ(stop.stop_grace_seconds, 3);
  EXPECT_EQ(parsed(R"({"op":"stop"})").stop_grace_seconds, kDefaultStopGraceSeconds);
}

TEST(ControlProtocol, HugeAndNegativeStopTimeoutsAreClamped) {
  EXPECT_EQ(parsed(R"({"op":"stop","timeout":18446744073709551615})").stop_grace_seconds, kMaxStopGraceSeconds);
  EXPECT_EQ(parsed(R"({"op":"stop","timeout":9223372036854775807})").stop_grace_seconds, kMaxStopGraceSeconds);
  EXPECT_EQ(parsed(R"({"op":"stop","timeout":4294967296})").stop_grace_seconds, kMaxStopGraceSeconds);
  EXPECT_EQ(parsed(R"({"op":"stop","timeout":-9223372036854775808})").stop_grace_seconds, 0);
  EXPECT_EQ(parsed(R"({"op":"stop","timeout":-5})").stop_grace_seconds, 0);
  // The caller's side: the request and its wait are clamped the same way.
  EXPECT_EQ(stop_request(LLONG_MAX)["timeout"].get<std::int64_t>(), kMaxStopGraceSeconds);
  EXPECT_EQ(stop_request(LLONG_MIN)["timeout"].get<std::int64_t>(), 0);
  EXPECT_EQ(stop_reply_timeout_ms(LLONG_MAX), (kMaxStopGraceSeconds + 15) * 1000);
  EXPECT_GT(stop_reply_timeout_ms(LLONG_MIN), 0);
}

TEST(ControlProtocol, MalformedRequestsGetASentence) {
  for (const std::string line : {"stop 10", "status", "", "{", "[]", "42", R"({"op":7})", R"({"cmd":"stop"})",
                                 R"({"op":"stop","timeout":"10"})", R"({"op":"stop","timeout":1.5})",
                                 R"({"op":"stop","timeout":true})", R"({"op":"shutdown"})", "{\"op\":\"status\"}\x01"}) {
    EXPECT_FALSE(refused(line).empty()) << line;
  }
  EXPECT_NE(refused(std::string(kMaxControlLine + 1, ' ')).find("longer than"), std::string::npos);
}

TEST(ControlProtocol, RepliesAreOneLineOfJson) {
  std::string reply = control_error_reply("bad \"thing\"\nwith a newline");
  ASSERT_FALSE(reply.empty());
  EXPECT_EQ(reply.back(), '\n');
  EXPECT_EQ(reply.find('\n'), reply.size() - 1) << reply;
  auto j = nlohmann::json::parse(reply);
  EXPECT_FALSE(reply_flag(j, "ok"));
  EXPECT_EQ(j["error"], "bad \"thing\"\nwith a newline");
  EXPECT_TRUE(reply_flag(nlohmann::json{{"stopped", true}}, "stopped"));
  EXPECT_FALSE(reply_flag(nlohmann::json{{"stopped", "true"}}, "stopped"));
  EXPECT_FALSE(reply_flag(nlohmann::json{{"stopped", 1}}, "stopped"));
}

}  // namespace
}  // namespace cc::engine::native
