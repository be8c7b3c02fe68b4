// The real Claude Code (from npm, as .ci/run installs it) inside the container, against a
// stand-in of the Messages API on the host's loopback (TLS with a test CA), through the
// credential gateway: `claude -p` prints the stand-in's reply, the stand-in saw the real key
// and the sandbox only the placeholder (environment, every /proc/*/environ and cmdline, every
// file the container has of its own); with the network policy `none` the gateway is the only
// way out; an interactive session opens at its prompt with no first-run dialog and answers.
// As root and as an unprivileged user.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "integrations/agent_install.hpp"
#include "integrations/api_credential.hpp"
#include "support/engine_env.hpp"
#include "support/messages_stand_in.hpp"
#include "support/pty_session.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

// Shaped like a real key (the gateway and `login` check the shape), and found nowhere else.
const std::string kRealKey = "sk-ant-api03-E2eRealKeyOfTheHost" + std::string(60, 'k') + "0123456789ab-_end";
const std::string kReply = "Hello from the stand-in.";

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// Every place inside that is the container's own (the host's read-only system directories
// hold nothing the container or we wrote), and what every process there was started with. The
// key comes in on stdin, so it is in no file, environment or command line of the search itself.
const char* const kSearchInside =
    "grep -rsFl -f /dev/stdin /root /workspace /tmp /run /var /dev/shm /etc /proc/[0-9]*/environ "
    "/proc/[0-9]*/cmdline; echo searched";

class ClaudeCodeTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "volume", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    const auto home = env_->home_dir().string();
    auto installed = integrations::find_claude_code([&home](const std::string& name) -> std::optional<std::string> {
      if (name == "HOME") return home;
      return std::nullopt;
    });
    CC_SKIP_UNLESS_FEATURE(installed.has_value(), "claude-code")
        << "Claude Code is not installed; install it with `npm install -g @anthropic-ai/claude-code@2.1.197`";
    api_.start();
    env_->write_project_file("test-ca.pem", api_.ca_pem());
  }

  void configure(const std::string& policy, bool skip_permissions = false) {
    env_->write_config("volume", policy,
                       R"("credentials": {"api": "gateway", "upstream": "https://127.0.0.1:)" + std::to_string(api_.port()) +
                           R"(", "ca_file": "test-ca.pem"}, "resources": {"cpus": 2, "memory": "2g", "pids": 4096},
  "agent": {"command": "claude", "skip_permissions": )" + (skip_permissions ? "true" : "false") + "}");
  }

  CommandResult cli(const std::vector<std::string>& args, const std::string& input = "", int timeout = 90) const {
    auto options = env_->options(input, timeout);
    options.env["ANTHROPIC_API_KEY"] = kRealKey;
    std::vector<std::string> full = {"--project", env_->project().string()};
    full.insert(full.end(), args.begin(), args.end());
    return run_cli(full, options);
  }

  // The stand-in saw requests, each Messages call with the real key and nothing of the placeholder.
  void expect_stand_in_saw_the_real_key() const {
    auto requests = api_.requests();
    int messages = 0;
    for (const auto& request : requests) {
      if (request.path == "/v1/messages") ++messages;
      if (request.path.rfind("/v1/messages", 0) == 0) {
        EXPECT_EQ(request.header("x-api-key"), kRealKey) << request.target;
      }
      for (const auto& [name, value] : request.headers) {
        EXPECT_EQ(value.find("placeholder"), std::string::npos) << name << ": " << value;
      }
    }
    EXPECT_GE(messages, 1);
  }

  void expect_only_the_placeholder_inside() const {
    auto env = env_->exec({"/usr/bin/env"});
    ASSERT_EQ(env.exit_code, 0) << describe(env);
    EXPECT_NE(env.out.find("ANTHROPIC_API_KEY=" + integrations::placeholder_credential(net::CredentialKind::api_key) + "\n"),
              std::string::npos)
        << env.out;
    EXPECT_EQ(env.out.find(kRealKey), std::string::npos);
    auto search = env_->exec({"/bin/sh", "-c", kSearchInside}, kRealKey + "\n");
    EXPECT_EQ(search.out, "searched\n") << "the real key is inside:\n" << describe(search);
    auto status = cli({"--json", "status"});
    EXPECT_EQ(status.out.find(kRealKey), std::string::npos);
    auto audit = cli({"logs", "--network"});
    EXPECT_EQ(audit.out.find(kRealKey), std::string::npos);
  }

  std::unique_ptr<EngineEnv> env_;
  MessagesStandIn api_;
};

TEST_P(ClaudeCodeTest, PrintModeAnswersThroughTheGatewayWithTheRealKeyOutside) {
  configure("isolated");
  auto run = cli({"claude", "-p", "say hi"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find(kReply), std::string::npos) << describe(run);
  expect_stand_in_saw_the_real_key();
  expect_only_the_placeholder_inside();
}

TEST_P(ClaudeCodeTest, WithNetworkNoneTheGatewayIsTheOnlyWayOut) {
  configure("none", /*skip_permissions=*/true);  // bypass mode as uid 0 inside needs IS_SANDBOX
  auto run = cli({"claude", "-p", "say hi"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find(kReply), std::string::npos) << describe(run);
  expect_stand_in_saw_the_real_key();

  int connections = api_.connections();
  auto direct = env_->exec({"/usr/bin/curl", "-sk", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}",
                            "https://127.0.0.1:" + std::to_string(api_.port()) + "/v1/messages"});
  EXPECT_NE(direct.exit_code, 0) << describe(direct);
  EXPECT_EQ(direct.out, "000") << describe(direct);
  EXPECT_EQ(api_.connections(), connections) << "a direct connection reached the stand-in";
}

TEST_P(ClaudeCodeTest, InteractiveSessionOpensAtThePromptAndAnswers) {
  // As root also in bypass mode: its one-time warning is accepted by agent.skip_permissions.
  const bool bypass = GetParam() == EngineUser::root;
  configure("isolated", bypass);
  ASSERT_EQ(cli({"start"}).exit_code, 0);
  std::vector<std::string> argv;
  if (GetParam() == EngineUser::unprivileged && ::geteuid() == 0) {
    argv = {"/usr/bin/setpriv", "--reuid=" + std::to_string(env_->uid()), "--regid=" + std::to_string(env_->gid()),
            "--clear-groups", "--"};
  }
  for (const auto& word : {std::string(CC_BINARY), std::string("--project"), env_->project().string(), std::string("claude")}) {
    argv.push_back(word);
  }
  PtyOptions options;
  options.cwd = env_->project();
  options.env = env_->environment();
  options.env["ANTHROPIC_API_KEY"] = kRealKey;
  options.env["TERM"] = "xterm-256color";
  PtySession session(argv, options);
  try {
    // The terminal interface moves the cursor instead of writing spaces: match without them.
    session.expect(bypass ? "bypass ?permissions ?on" : "for ?shortcuts", 60);
    // While the agent runs, its environment and files hold only the placeholder.
    auto running = env_->exec({"/bin/sh", "-c", "grep -l claude /proc/[0-9]*/cmdline | wc -l"});
    EXPECT_NE(running.out, "0\n") << describe(running);
    expect_only_the_placeholder_inside();
    session.send("say hi");
    session.expect("say ?hi", 30);
    session.send(PtySession::kEnter);
    session.expect("Hello ?from ?the ?stand-in", 60);
  } catch (const std::exception& error) {
    FAIL() << error.what();
  }
  auto without_spaces = [](std::string text) {
    text.erase(std::remove(text.begin(), text.end(), ' '), text.end());
    return text;
  };
  const std::string seen = without_spaces(session.transcript());
  for (const char* dialog : {"Do you want to use this API key", "trust this folder", "Choose the text style",
                             "Bypass Permissions mode", "Unable to connect"}) {
    EXPECT_EQ(seen.find(without_spaces(dialog)), std::string::npos) << dialog << "\n" << session.transcript();
  }
  expect_stand_in_saw_the_real_key();
  session.send(PtySession::kCtrlC);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  session.send(PtySession::kCtrlC);
  EXPECT_EQ(session.wait_exit(30), 0) << session.transcript();
}

// `shared`: the key is inside (the agent talks to the stand-in itself, through the egress
// proxy, which reaches the host's loopback only because the allow list names it), and the
// interactive session still opens at its prompt: the passed key was approved at start.
TEST_P(ClaudeCodeTest, SharedKeyIsInsideAndApproved) {
  const std::string port = std::to_string(api_.port());
  env_->write_config("volume", "isolated",
                     R"("credentials": {"api": "shared"}, "resources": {"cpus": 2, "memory": "2g", "pids": 4096},
  "env": {"ANTHROPIC_BASE_URL": "https://127.0.0.1:)" + port + R"(", "NODE_EXTRA_CA_CERTS": "/workspace/test-ca.pem",
          "NO_PROXY": "", "no_proxy": ""})");
  auto allow = cli({"allow", "127.0.0.1:" + port});
  ASSERT_EQ(allow.exit_code, 0) << describe(allow);
  auto start = cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  auto inside = cli({"exec", "--", "/usr/bin/env"});
  EXPECT_NE(inside.out.find("ANTHROPIC_API_KEY=" + kRealKey + "\n"), std::string::npos) << describe(inside);
  auto state = cli({"exec", "--", "/bin/cat", "/root/.claude/.claude.json"});
  EXPECT_NE(state.out.find(kRealKey.substr(kRealKey.size() - 20)), std::string::npos) << state.out;
  EXPECT_EQ(state.out.find(kRealKey), std::string::npos) << "only the tail is remembered";

  std::vector<std::string> argv;
  if (GetParam() == EngineUser::unprivileged && ::geteuid() == 0) {
    argv = {"/usr/bin/setpriv", "--reuid=" + std::to_string(env_->uid()), "--regid=" + std::to_string(env_->gid()),
            "--clear-groups", "--"};
  }
  for (const auto& word : {std::string(CC_BINARY), std::string("--project"), env_->project().string(), std::string("claude")}) {
    argv.push_back(word);
  }
  PtyOptions options;
  options.cwd = env_->project();
  options.env = env_->environment();
  options.env["ANTHROPIC_API_KEY"] = kRealKey;
  options.env["TERM"] = "xterm-256color";
  PtySession session(argv, options);
  try {
    session.expect("for ?shortcuts", 60);
    session.send("say hi");
    session.expect("say ?hi", 30);
    session.send(PtySession::kEnter);
    session.expect("Hello ?from ?the ?stand-in", 60);
  } catch (const std::exception& error) {
    FAIL() << error.what();
  }
  expect_stand_in_saw_the_real_key();
}

INSTANTIATE_TEST_SUITE_P(Users, ClaudeCodeTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
