// login and logout from outside: --stdin, hidden input on a real pty (the key never echoed,
// the terminal restored after Enter and after Ctrl-C), bad shapes, --json; and what `start`
// says when credentials.api "gateway" finds no credential at all.
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "cli_test_env.hpp"
#include "support/pty_session.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;
using Keys = PtySession;

const std::string kApiKey = "sk-ant-api03-" + std::string(40, 'Q') + "loginTestValue" + std::string(41, 'z');
const std::string kOauthToken = "sk-ant-oat01-" + std::string(95, 'W');

class CliCredentials : public ::testing::Test {
 protected:
  void SetUp() override {
    // Nothing of the machine's own credentials.
    env.set_env("ANTHROPIC_API_KEY", "");
    env.set_env("CLAUDE_CODE_OAUTH_TOKEN", "");
  }
  fs::path store() const { return env.root() / "config" / "claude-container" / "credentials"; }
  std::string stored() const {
    std::ifstream in(store());
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::unique_ptr<PtySession> on_pty(const std::vector<std::string>& args) const {
    PtyOptions options;
    options.cwd = env.project();
    options.env = env.env();
    std::vector<std::string> argv = {CC_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return std::make_unique<PtySession>(argv, options);
  }

  CliTestEnv env;
};

TEST_F(CliCredentials, LoginFromStdinStoresPrivatelyAndLogoutRemoves) {
  auto login = env.run({"login", "--stdin"}, kApiKey + "\n");
  ASSERT_EQ(login.exit_code, 0) << login.err;
  EXPECT_NE(login.out.find("Stored an API key in " + store().string()), std::string::npos) << login.out;
  EXPECT_EQ(login.out.find(kApiKey), std::string::npos) << "the value is never printed";
  EXPECT_EQ(stored(), kApiKey + "\n");
  struct stat st {};
  ASSERT_EQ(::stat(store().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat(store().parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_FALSE(env.exists(".claude-container")) << "login needs no project and makes none";

  auto logout = env.run({"logout"});
  EXPECT_EQ(logout.exit_code, 0) << logout.err;
  EXPECT_NE(logout.out.find("Removed the stored credential " + store().string()), std::string::npos) << logout.out;
  EXPECT_FALSE(fs::exists(store()));

  auto again = env.run({"logout"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("No credential is stored"), std::string::npos) << again.out;
}

TEST_F(CliCredentials, JsonSaysKindPathAndWhatOverridesIt) {
  env.set_env("ANTHROPIC_API_KEY", kApiKey);
  auto login = env.run({"--json", "login", "--stdin"}, "  " + kOauthToken + "\r\n");
  ASSERT_EQ(login.exit_code, 0) << login.err;
  auto object = nlohmann::json::parse(login.out);
  EXPECT_EQ(object["stored"], true);
  EXPECT_EQ(object["kind"], "oauth_token");
  EXPECT_EQ(object["path"], store().string());
  EXPECT_EQ(object["overridden_by"], "ANTHROPIC_API_KEY");
  EXPECT_EQ(stored(), kOauthToken + "\n");

  auto logout = nlohmann::json::parse(env.run({"--json", "logout"}).out);
  EXPECT_EQ(logout["removed"], true);
  EXPECT_EQ(nlohmann::json::parse(env.run({"--json", "logout"}).out)["removed"], false);
}

TEST_F(CliCredentials, WrongShapeExits2NamingThePrefixesAndStoresNothing) {
  for (const std::string& input : {std::string("sk-proj-") + std::string(90, 'a') + "\n", std::string("\n"),
                                   std::string("sk-ant-api03-short\n")}) {
    auto login = env.run({"login", "--stdin"}, input);
    EXPECT_EQ(login.exit_code, 2) << input;
    EXPECT_EQ(line_count(login.err), 1u) << login.err;
    EXPECT_NE(login.err.find("sk-ant-api"), std::string::npos) << login.err;
    EXPECT_NE(login.err.find("sk-ant-oat"), std::string::npos) << login.err;
    EXPECT_NE(login.err.find("claude setup-token"), std::string::npos) << login.err;
    EXPECT_FALSE(fs::exists(store()));
  }
}

TEST_F(CliCredentials, WithoutATerminalLoginAsksForStdin) {
  auto login = env.run({"login"}, kApiKey + "\n");
  EXPECT_EQ(login.exit_code, 2);
  EXPECT_NE(login.err.find("--stdin"), std::string::npos) << login.err;
  EXPECT_FALSE(fs::exists(store()));
}

TEST_F(CliCredentials, HiddenInputOnATerminalIsNotEchoed) {
  auto pty = on_pty({"login"});
  pty->expect("input is hidden");
  pty->send(kApiKey + Keys::kEnter);
  pty->expect("Stored an API key in");
  EXPECT_EQ(pty->wait_exit(), 0) << pty->transcript();
  EXPECT_EQ(pty->raw_output().find("loginTestValue"), std::string::npos) << "the typed key was echoed:\n"
                                                                          << pty->transcript();
  EXPECT_TRUE(pty->in_cooked_mode()) << "echo must be back on";
  EXPECT_EQ(stored(), kApiKey + "\n");
}

TEST_F(CliCredentials, CtrlCLeavesTheTerminalAsItWasAndStoresNothing) {
  auto pty = on_pty({"login"});
  pty->expect("input is hidden");
  pty->send("sk-ant-api03-half");
  pty->send(Keys::kCtrlC);
  EXPECT_EQ(pty->wait_exit(), 128 + SIGINT) << pty->transcript();
  EXPECT_TRUE(pty->in_cooked_mode()) << "echo must be back on after Ctrl-C";
  EXPECT_EQ(pty->raw_output().find("half"), std::string::npos) << pty->transcript();
  EXPECT_FALSE(fs::exists(store()));
}

TEST_F(CliCredentials, GatewayStartWithoutAnyCredentialNamesTheThreeWaysAndCreatesNothing) {
  ASSERT_EQ(env.run({"init", "--mode", "playground"}).exit_code, 0);
  ASSERT_EQ(env.config_json()["credentials"]["api"], "gateway");
  auto start = env.run({"start"});
  EXPECT_EQ(start.exit_code, 1) << start.err;
  EXPECT_EQ(line_count(start.err), 1u) << start.err;
  for (const char* way : {"export ANTHROPIC_API_KEY", "export CLAUDE_CODE_OAUTH_TOKEN", "claude setup-token",
                          "claude-container login"}) {
    EXPECT_NE(start.err.find(way), std::string::npos) << way << ": " << start.err;
  }
  EXPECT_FALSE(fs::exists(env.root() / "data" / "claude-container")) << "a refused start created the container";
  auto status = nlohmann::json::parse(env.run({"status", "--json"}).out);
  EXPECT_EQ(status["state"], "not-created");
  EXPECT_EQ(status["credentials"]["mode"], "gateway");
  EXPECT_EQ(status["credentials"]["key_inside"], false);
  auto text = env.run({"status"});
  EXPECT_NE(text.out.find("api key:   gateway: the credential gateway adds your key or token outside the container"),
            std::string::npos)
      << text.out;
}

}  // namespace
}  // namespace cc::test
