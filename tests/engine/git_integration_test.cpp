// Git inside a running native sandbox, as root and as an unprivileged user (DESIGN.md section
// 7): git.name/git.email in git's config; "pat": the credential helper hands the host's token to
// `git credential fill` for git.host only, while no variable, /proc entry or file inside holds
// it; "ssh": `ssh-add -l` inside lists the keys of an ssh-agent started on the host, and no key
// file is inside; a missing token or agent refuses start and creates nothing.
#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <nlohmann/json.hpp>

#include "support/engine_env.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string random_marker() {
  unsigned char random[16];
  RAND_bytes(random, sizeof random);
  std::string marker = "ccGitMarker";
  for (unsigned char c : random) marker += "0123456789abcdef"[c >> 4], marker += "0123456789abcdef"[c & 15];
  return marker;
}

// Inside, with the marker on stdin (so no command line holds it): every process's environ and
// cmdline, our environment and every regular file below the writable and generated places.
// Prints "LEAK <where>" lines, then "scanned".
const char* kLeakSearch = R"PY(
import os, sys
marker = sys.stdin.readline().strip().encode()
assert len(marker) > 16
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for name in ("environ", "cmdline"):
        try:
            if marker in open("/proc/%s/%s" % (pid, name), "rb").read():
                print("LEAK /proc/%s/%s" % (pid, name))
        except OSError:
            pass
if any(marker in v.encode() for v in os.environ.values()):
    print("LEAK environment")
for top in ("/root", "/workspace", "/tmp", "/run", "/var", "/etc", "/home"):
    for d, dirs, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            try:
                if os.path.islink(p) or not os.path.isfile(p) or os.path.getsize(p) > (64 << 20):
                    continue
                if marker in open(p, "rb").read():
                    print("LEAK " + p)
            except OSError:
                pass
print("scanned")
)PY";

class GitIntegrationTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  std::unique_ptr<EngineEnv> make(const std::string& policy = "none") {
    auto env = std::make_unique<EngineEnv>(GetParam(), "volume", policy);
    return env;
  }
  static std::string git_config(const std::string& credentials, const std::string& host = "git.example.test") {
    // Naming "credentials" here replaces the harness's default API credentials: say them too.
    return R"("credentials": {"api": "separate"}, "git": {"name": "Ada \"Q\" Lovelace", "email": "ada@example.com", "credentials": ")" + credentials +
           R"(", "host": ")" + host + R"("})";
  }
  static std::string fill(const EngineEnv& env, const std::string& protocol, const std::string& host) {
    auto r = env.exec({"/bin/sh", "-c", "GIT_TERMINAL_PROMPT=0 git credential fill 2>/dev/null; true"},
                      "protocol=" + protocol + "\nhost=" + host + "\n\n");
    return r.out;
  }
};

TEST_P(GitIntegrationTest, IdentityIsInGitConfigAndTheUsersOwnConfigStillWins) {
  auto env = make();
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  env->write_config("volume", "none", git_config("none"));
  auto start = env->cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  auto name = env->exec({"git", "config", "user.name"});
  EXPECT_EQ(name.out, "Ada \"Q\" Lovelace\n") << describe(name);
  EXPECT_EQ(env->exec({"git", "config", "user.email"}).out, "ada@example.com\n");
  // A commit in the workspace carries it.
  auto commit = env->exec({"/bin/sh", "-c",
                           "cd /workspace && git init -q && git commit -q --allow-empty -m x && git log -1 "
                           "--format='%an <%ae>'"});
  EXPECT_EQ(commit.out, "Ada \"Q\" Lovelace <ada@example.com>\n") << describe(commit);
  // The generated config is read-only; the user's ~/.gitconfig overrides it.
  auto write = env->exec({"/bin/sh", "-c", "echo x >> \"$GIT_CONFIG_SYSTEM\""});
  EXPECT_NE(write.exit_code, 0) << describe(write);
  auto own = env->exec({"/bin/sh", "-c", "git config --global user.name Someone && git config user.name"});
  EXPECT_EQ(own.out, "Someone\n") << describe(own);
  // status names the identity and mode.
  auto status = env->cli({"status"});
  EXPECT_NE(status.out.find("Ada \"Q\" Lovelace <ada@example.com>; credentials none"), std::string::npos) << status.out;
}

TEST_P(GitIntegrationTest, PatHelperAnswersOnlyTheConfiguredHostAndTheTokenIsNowhereInside) {
  auto env = make();
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  const std::string token = "ghp_" + random_marker();
  env->write_config("volume", "none", git_config("pat"));
  env->set_env("GH_TOKEN", token);
  auto start = env->cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);

  auto scan = env->exec({"python3", "-c", kLeakSearch}, token + "\n");
  EXPECT_NE(scan.out.find("scanned"), std::string::npos) << describe(scan);
  EXPECT_EQ(scan.out.find("LEAK"), std::string::npos) << scan.out;

  const std::string given = fill(*env, "https", "git.example.test");
  EXPECT_NE(given.find("password=" + token + "\n"), std::string::npos) << given;
  EXPECT_NE(given.find("username=x-access-token\n"), std::string::npos) << given;
  // Another host, another port, plain http: nothing. Asking the helper directly does not help.
  EXPECT_EQ(fill(*env, "https", "other.example.test").find(token), std::string::npos);
  EXPECT_EQ(fill(*env, "https", "git.example.test:8443").find(token), std::string::npos);
  EXPECT_EQ(fill(*env, "http", "git.example.test").find(token), std::string::npos);
  auto direct = env->exec({"/bin/sh", "-c", "/run/claude-container-git/credential-helper get"},
                          "protocol=https\nhost=evil.example.test\n\n");
  EXPECT_EQ(direct.out.find(token), std::string::npos) << describe(direct);
  auto direct_http = env->exec({"/bin/sh", "-c", "/run/claude-container-git/credential-helper get"},
                               "protocol=http\nhost=git.example.test\n\n");
  EXPECT_EQ(direct_http.out.find(token), std::string::npos) << describe(direct_http);

  // status says where the token comes from, never the token.
  auto status = env->cli({"status", "--json"});
  EXPECT_EQ(status.out.find(token), std::string::npos);
  auto git = nlohmann::json::parse(status.out).at("git");
  EXPECT_EQ(git.at("source"), "GH_TOKEN") << status.out;
  EXPECT_EQ(git.at("secret_found"), true) << status.out;
  auto logs = env->cli({"logs"});
  EXPECT_EQ(logs.out.find(token), std::string::npos);
}

TEST_P(GitIntegrationTest, SshAgentKeysAreListedInsideAndNoKeyFileIs) {
  auto env = make();
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  CC_SKIP_UNLESS_FEATURE(::access("/usr/bin/ssh-agent", X_OK) == 0, "openssh-client")
      << "ssh-agent is not installed (apt install openssh-client)";
  // The agent and key belong to the user the engine runs as, like a real session's.
  CommandOptions as_user;
  if (::geteuid() != env->uid()) {
    as_user.uid = env->uid();
    as_user.gid = env->gid();
  }
  const fs::path key = env->root() / "id_test";
  const fs::path sock = env->root() / "agent.sock";
  const std::string comment = random_marker();
  auto keygen = run_command({"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key.string()},
                            as_user);
  ASSERT_EQ(keygen.exit_code, 0) << describe(keygen);
  auto agent = run_command({"/usr/bin/ssh-agent", "-s", "-a", sock.string()}, as_user);
  ASSERT_EQ(agent.exit_code, 0) << describe(agent);
  auto pos = agent.out.find("SSH_AGENT_PID=");
  ASSERT_NE(pos, std::string::npos) << agent.out;
  const pid_t agent_pid = static_cast<pid_t>(std::stol(agent.out.substr(pos + 14)));
  struct AgentKiller {
    pid_t pid;
    ~AgentKiller() { ::kill(pid, SIGTERM); }
  } killer{agent_pid};
  CommandOptions add = as_user;
  add.env["SSH_AUTH_SOCK"] = sock.string();
  auto added = run_command({"/usr/bin/ssh-add", key.string()}, add);
  ASSERT_EQ(added.exit_code, 0) << describe(added);

  env->write_config("volume", "isolated", git_config("ssh"));
  env->set_env("SSH_AUTH_SOCK", sock.string());
  auto start = env->cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  auto listed = env->exec({"ssh-add", "-l"});
  EXPECT_EQ(listed.exit_code, 0) << describe(listed);
  EXPECT_NE(listed.out.find(comment), std::string::npos) << describe(listed);

  // The private key's body is in no file inside, and ~/.ssh is not there.
  std::string private_key;
  {
    auto text = run_command({"/bin/cat", key.string()}, as_user).out;
    auto begin = text.find('\n');
    private_key = text.substr(begin + 1, 40);
  }
  ASSERT_GE(private_key.size(), 40u);
  auto scan = env->exec({"python3", "-c", kLeakSearch}, private_key + "\n");
  EXPECT_NE(scan.out.find("scanned"), std::string::npos) << describe(scan);
  EXPECT_EQ(scan.out.find("LEAK"), std::string::npos) << scan.out;
  EXPECT_NE(env->exec({"/bin/sh", "-c", "test -e /root/.ssh || test -e " + key.string()}).exit_code, 0);

  auto status = env->cli({"status"});
  EXPECT_NE(status.out.find("agent socket found"), std::string::npos) << status.out;
}

TEST_P(GitIntegrationTest, MissingTokenOrAgentRefusesStartAndCreatesNothing) {
  auto env = make();
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  env->write_config("volume", "none", git_config("pat"));
  auto pat = env->cli({"start"});
  EXPECT_EQ(pat.exit_code, 1) << describe(pat);
  EXPECT_NE(pat.err.find("GH_TOKEN or GITHUB_TOKEN"), std::string::npos) << pat.err;
  EXPECT_FALSE(fs::exists(env->container_data())) << "start created the container";

  env->write_config("volume", "none", git_config("ssh"));
  auto ssh = env->cli({"start"});
  EXPECT_EQ(ssh.exit_code, 1) << describe(ssh);
  EXPECT_NE(ssh.err.find("SSH_AUTH_SOCK is not set"), std::string::npos) << ssh.err;
  env->set_env("SSH_AUTH_SOCK", (env->root() / "no-agent.sock").string());
  auto dead = env->cli({"start"});
  EXPECT_EQ(dead.exit_code, 1) << describe(dead);
  EXPECT_NE(dead.err.find("is not a socket an ssh-agent answers on"), std::string::npos) << dead.err;
  EXPECT_FALSE(fs::exists(env->container_data())) << "start created the container";
}

INSTANTIATE_TEST_SUITE_P(Users, GitIntegrationTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
