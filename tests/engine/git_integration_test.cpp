// Git inside a running native sandbox, as root and as an unprivileged user (DESIGN.md section
// 7): git.name/git.email in git's config; "pat": the credential helper hands the host's token to
// `git credential fill` for git.host only, while no variable, /proc entry or file inside holds
// it, and a push over HTTPS through the egress proxy to a loopback `git http-backend` server
// (test CA, Basic auth) authenticates with it and only with it; "ssh": `ssh-add -l` inside lists the keys of an ssh-agent started on the host, and no key
// file is inside; a missing token or agent refuses start and creates nothing.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <nlohmann/json.hpp>

#include "support/engine_env.hpp"
#include "support/net_upstream.hpp"
#include "support/secret_search.hpp"

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

std::string base64(const std::string& text) {
  std::string out(4 * ((text.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// A git server over HTTPS on 127.0.0.1 (test CA): each connection's one request goes to `git
// http-backend` as CGI for the bare repositories in `root`, only with Basic auth carrying
// `token`; anything else gets 401 asking for it.
class GitHttpsServer {
 public:
  GitHttpsServer(fs::path root, std::string token)
      : root_(std::move(root)), token_(std::move(token)), ca_({"127.0.0.1"}),
        server_([this](int fd) { serve(fd); }) {}
  std::uint16_t port() const { return server_.port(); }
  const std::string& ca_pem() const { return ca_.ca_pem(); }
  int authorized() const { return authorized_.load(); }
  int refused() const { return refused_.load(); }

 private:
  void serve(int fd) {
    timeval tv{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL* ssl = SSL_new(ca_.server_context());
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      std::string data;
      char buf[16384];
      std::size_t head_end = std::string::npos;
      std::size_t length = 0;
      for (;;) {
        if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
          auto pos = lower(data.substr(0, head_end)).find("\r\ncontent-length:");
          if (pos != std::string::npos) length = std::stoul(data.substr(pos + 17));
        }
        if (head_end != std::string::npos && data.size() >= head_end + 4 + length) break;
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) break;
        data.append(buf, static_cast<std::size_t>(n));
      }
      std::string response = head_end == std::string::npos ? std::string("HTTP/1.1 400 Bad Request\r\n\r\n")
                                                            : answer(data.substr(0, head_end), data.substr(head_end + 4));
      SSL_write(ssl, response.data(), static_cast<int>(response.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
  }

  static std::string lower(std::string text) {
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }
  static std::string header(const std::string& head, const std::string& name) {
    auto pos = lower(head).find("\r\n" + name + ":");
    if (pos == std::string::npos) return "";
    pos += 3 + name.size();
    while (pos < head.size() && head[pos] == ' ') ++pos;
    return head.substr(pos, head.find("\r\n", pos) - pos);
  }

  std::string answer(const std::string& head, const std::string& body) {
    if (header(head, "authorization") != "Basic " + base64("x-access-token:" + token_)) {
      ++refused_;
      return "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\n"
             "Connection: close\r\n\r\n";
    }
    ++authorized_;
    const std::string method = head.substr(0, head.find(' '));
    std::string target = head.substr(method.size() + 1, head.find(' ', method.size() + 1) - method.size() - 1);
    const auto query = target.find('?');
    CommandOptions cgi;
    cgi.replace_env = true;
    cgi.env = {{"PATH", "/usr/bin:/bin"},
               {"GIT_PROJECT_ROOT", root_.string()},
               {"GIT_HTTP_EXPORT_ALL", "1"},
               {"REMOTE_USER", "x-access-token"},
               {"REMOTE_ADDR", "127.0.0.1"},
               {"REQUEST_METHOD", method},
               {"PATH_INFO", target.substr(0, query)},
               {"QUERY_STRING", query == std::string::npos ? "" : target.substr(query + 1)},
               {"CONTENT_TYPE", header(head, "content-type")},
               {"CONTENT_LENGTH", std::to_string(body.size())}};
    cgi.input = body;
    auto r = run_command({"/usr/lib/git-core/git-http-backend"}, cgi);
    auto split = r.out.find("\r\n\r\n");
    std::size_t skip = 4;
    if (split == std::string::npos) {
      split = r.out.find("\n\n");
      skip = 2;
    }
    if (split == std::string::npos) return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
    std::string cgi_head = "\r\n" + r.out.substr(0, split);
    std::string status = header(cgi_head, "status");
    std::string content = r.out.substr(split + skip);
    std::string out = "HTTP/1.1 " + (status.empty() ? std::string("200 OK") : status) + "\r\n";
    std::string lines = r.out.substr(0, split);
    std::size_t start = 0;
    while (start < lines.size()) {
      auto end = lines.find('\n', start);
      if (end == std::string::npos) end = lines.size();
      std::string line = lines.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (lower(line).rfind("status:", 0) != 0 && !line.empty()) out += line + "\r\n";
      start = end + 1;
    }
    return out + "Content-Length: " + std::to_string(content.size()) + "\r\nConnection: close\r\n\r\n" + content;
  }

  fs::path root_;
  std::string token_;
  TestCa ca_;
  std::atomic<int> authorized_{0}, refused_{0};
  LoopbackServer server_;
};

class GitIntegrationTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  const std::time_t started_ = std::time(nullptr) - 2;  // before any secret of the test exists
  std::unique_ptr<EngineEnv> make(const std::string& policy = "none") {
    auto env = std::make_unique<EngineEnv>(GetParam(), "volume", policy);
    return env;
  }
  static std::string git_config(const std::string& credentials, const std::string& host = "git.example.test") {
    // Naming "credentials" here replaces the harness's default API credentials: say them too.
    return R"("credentials": {"api": "separate"}, "git": {"name": "Ada \"Q\" Lovelace", "email": "ada@example.com", "credentials": ")" + credentials +
           R"(", "host": ")" + host + R"("})";
  }
  // The egress proxy's answer to CONNECT host:22 from inside: "403" when the policy refuses it;
  // anything else (502 here: nothing listens) means the policy let it through.
  static std::string connect_status(const EngineEnv& env, const std::string& host) {
    return env
        .exec({"/bin/sh", "-c",
               "curl -s --noproxy '' -p -x http://127.0.0.1:3128 --max-time 10 -o /dev/null -w '%{http_connect}' "
               "telnet://" + host + ":22; true"})
        .out;
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

  auto scan = search_container_for_secret(*env, token, started_);
  EXPECT_TRUE(scan.completed) << scan.output;
  EXPECT_TRUE(scan.leaks.empty()) << scan.output;

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

TEST_P(GitIntegrationTest, PushOverHttpsThroughTheProxyAuthenticatesWithTheHelpersToken) {
  auto env = make("isolated");
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  CC_SKIP_UNLESS_FEATURE(::access("/usr/lib/git-core/git-http-backend", X_OK) == 0, "git-http-backend")
      << "git's http-backend is not installed (apt install git)";
  const std::string token = "ghp_" + random_marker();
  TempDir repos("cc-git-repos");
  auto init = run_command({"/usr/bin/git", "init", "-q", "--bare", (repos.path() / "r.git").string()});
  ASSERT_EQ(init.exit_code, 0) << describe(init);
  GitHttpsServer server(repos.path(), token);
  const std::string host = "127.0.0.1:" + std::to_string(server.port());
  env->write_project_file("test-ca.pem", server.ca_pem());
  env->write_config("volume", "isolated", git_config("pat", host));
  auto allow = env->cli({"allow", host});  // the loopback server is allowed by naming its address
  ASSERT_EQ(allow.exit_code, 0) << describe(allow);
  env->set_env("GH_TOKEN", token);
  auto start = env->cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  // The proxy variables leave 127.0.0.1 out; here it is the git server's address on the host,
  // reached through the proxy like any allowed host.
  auto commit = env->exec({"/bin/sh", "-c", "cd /workspace && git init -q && git commit -q --allow-empty -m pushed"});
  ASSERT_EQ(commit.exit_code, 0) << describe(commit);
  const std::string git = "cd /workspace && NO_PROXY= no_proxy= GIT_TERMINAL_PROMPT=0 git -c "
                          "http.sslCAInfo=/workspace/test-ca.pem ";
  const std::string url = "https://" + host + "/r.git";
  // Without the helper (no system config) the server refuses: the token is not reachable otherwise.
  auto without = env->exec({"/bin/sh", "-c", "export GIT_CONFIG_NOSYSTEM=1; " + git + "push " + url + " HEAD:refs/heads/main"});
  EXPECT_NE(without.exit_code, 0) << describe(without);
  EXPECT_GT(server.refused(), 0);
  EXPECT_EQ(server.authorized(), 0);
  auto pushed = env->exec({"/bin/sh", "-c", git + "push " + url + " HEAD:refs/heads/main"});
  ASSERT_EQ(pushed.exit_code, 0) << describe(pushed);
  EXPECT_GT(server.authorized(), 0);
  auto head = run_command({"/usr/bin/git", "--git-dir", (repos.path() / "r.git").string(), "log", "-1", "--format=%s %an",
                           "refs/heads/main"});
  EXPECT_EQ(head.out, "pushed Ada \"Q\" Lovelace\n") << describe(head);
  // Port 22 of the git host stays closed without "ssh".
  EXPECT_EQ(connect_status(*env, "127.0.0.1"), "403");
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

  env->write_config("volume", "isolated", git_config("ssh", "127.0.0.1"));
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
  auto scan = search_container_for_secret(*env, private_key, started_);
  EXPECT_TRUE(scan.completed) << scan.output;
  EXPECT_TRUE(scan.leaks.empty()) << scan.output;
  EXPECT_NE(env->exec({"/bin/sh", "-c", "test -e /root/.ssh || test -e " + key.string()}).exit_code, 0);

  auto status = env->cli({"status"});
  EXPECT_NE(status.out.find("agent socket found"), std::string::npos) << status.out;
  // "ssh" opens git.host's port 22 in the policy (the "pat" test sees it closed).
  // The proxy, allowed to try, answers 502 (nothing listens on the host's port 22) or 200 (an sshd does).
  const std::string code = connect_status(*env, "127.0.0.1");
  EXPECT_TRUE(code == "502" || code == "200") << code;
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
