// The supervisor's control socket from a client's side: requests are JSON lines, a client
// that says nothing (or dribbles) cannot hold up a stop, malformed requests get an error reply
// and change nothing, and a stop's grace period is clamped.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "engine/native/control.hpp"
#include "support/engine_env.hpp"

namespace cc::test {
namespace {

using nlohmann::json;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

class NativeControlTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "volume", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    auto r = env_->cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  UniqueFd connect() {
    auto sock = engine::native::connect_control(env_->state_dir());
    EXPECT_TRUE(sock.has_value()) << "cannot connect to " << env_->state_dir() / "control.sock";
    return sock ? std::move(*sock) : UniqueFd();
  }
  // Sends `bytes` and reads the reply up to its newline (bounded by a receive timeout).
  std::string ask(const std::string& bytes) {
    UniqueFd sock = connect();
    if (!sock) return "";
    timeval tv{30, 0};
    ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    EXPECT_EQ(::send(sock.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
    std::string reply;
    char buf[4096];
    ssize_t n;
    while (reply.find('\n') == std::string::npos && (n = ::read(sock.get(), buf, sizeof(buf))) > 0) reply.append(buf, n);
    return reply;
  }
  std::string state() {
    auto r = env_->cli({"--json", "status"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return json::parse(r.out).value("state", "");
  }
  std::unique_ptr<EngineEnv> env_;
};

TEST_P(NativeControlTest, SilentAndDribblingClientsDoNotHoldUpStop) {
  UniqueFd silent = connect();
  ASSERT_TRUE(silent);
  // A client that sends a byte now and then and never a newline: a supervisor that reads its
  // clients one at a time, blocking, would serve nobody else until this one gives up.
  std::atomic<bool> stop_returned{false}, dribbler_gave_up{false};
  UniqueFd dribbling = connect();
  ASSERT_TRUE(dribbling);
  std::thread dribbler([&] {
    for (int i = 0; i < 300 && !stop_returned; ++i) {  // at most 60 s
      if (::send(dribbling.get(), "{", 1, MSG_NOSIGNAL) != 1) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    dribbler_gave_up = !stop_returned;
  });
  auto r = env_->cli({"stop"});
  stop_returned = true;
  dribbler.join();
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_FALSE(dribbler_gave_up) << "stop completed only after the dribbling client ran out";
  EXPECT_EQ(state(), "stopped");
}

TEST_P(NativeControlTest, MalformedRequestsGetAnErrorAndChangeNothing) {
  for (const std::string& request : std::vector<std::string>
       {"stop 10\n", "status\n", "\n", "{\n", "[1,2]\n", "{\"op\":\"shutdown\"}\n", "{\"op\":\"stop\",\"timeout\":\"1\"}\n",
        "{\"op\":\"stop\",\"timeout\":1.5}\n", "{\"op\":7}\n", std::string(3 * engine::native::kMaxControlLine, 'x')}) {
    std::string reply = ask(request);
    ASSERT_FALSE(reply.empty()) << "no reply to " << request.substr(0, 40);
    json j = json::parse(reply, nullptr, false);
    ASSERT_TRUE(j.is_object()) << reply;
    EXPECT_EQ(j.value("ok", true), false) << request.substr(0, 40) << " -> " << reply;
    EXPECT_TRUE(j.contains("error") && j["error"].is_string() && !j["error"].get<std::string>().empty()) << reply;
  }
  EXPECT_EQ(state(), "running");
  auto r = env_->exec({"true"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  json status = json::parse(ask("{\"op\":\"status\"}\n"));
  EXPECT_EQ(status.value("ok", false), true) << status.dump();
  EXPECT_TRUE(status["denied"].is_number_unsigned()) << status.dump();
}

TEST_P(NativeControlTest, AHugeStopTimeoutIsClamped) {
  json reply = json::parse(ask("{\"op\":\"stop\",\"timeout\":18446744073709551615}\n"), nullptr, false);
  ASSERT_TRUE(reply.is_object());
  EXPECT_EQ(reply.value("stopped", false), true) << reply.dump();
  std::ifstream log(env_->state_dir() / "container.log");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("SIGKILL after " + std::to_string(engine::native::kMaxStopGraceSeconds) + "s"),
            std::string::npos)
      << text.str();
  EXPECT_EQ(state(), "stopped");
}

INSTANTIATE_TEST_SUITE_P(Users, NativeControlTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
