// The host-independent parts of git inside (integrations/git_setup, git_broker): the generated
// config quotes what it is given and scopes the helper to https://git.host; the broker gives
// the token only for protocol https and exactly git.host; "ssh" opens git.host:22 in the
// network policy, and nothing else does; git.host is validated.
#include <gtest/gtest.h>

#include "config/config_io.hpp"
#include "integrations/git_broker.hpp"
#include "integrations/git_setup.hpp"
#include "net/domain_policy.hpp"
#include "util/error.hpp"

namespace cc::integrations {
namespace {

using config::GitCredentials;
using config::NetworkPolicy;

config::Config with_git(GitCredentials credentials, NetworkPolicy policy = NetworkPolicy::isolated) {
  config::Config c = config::preset(config::Mode::custom, "g");
  c.network.policy = policy;
  c.git = {R"(Ada "Q" \ Lovelace)", "ada@example.com", credentials, "git.example.com"};
  return c;
}

TEST(GitSetup, ConfigQuotesTheIdentityAndScopesTheHelperToTheHost) {
  const std::string text = git_config_text(with_git(GitCredentials::pat));
  EXPECT_NE(text.find("\tname = \"Ada \\\"Q\\\" \\\\ Lovelace\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\temail = \"ada@example.com\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[credential \"https://git.example.com\"]\n\thelper =\n\thelper = "
                      "/run/claude-container-git/credential-helper\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(git_config_text(with_git(GitCredentials::ssh)).find("[credential"), std::string::npos);
  // A line break can never start a section of its own, whatever reaches the writer.
  config::Config hostile = with_git(GitCredentials::none);
  hostile.git.name = "x\n[credential]\n\thelper = !evil";
  EXPECT_EQ(git_config_text(hostile).find("\n[credential]"), std::string::npos);
}

TEST(GitBroker, AnswersOnlyHttpsForTheConfiguredHost) {
  const std::string token = "ghp_token";
  EXPECT_EQ(GitBroker::answer("protocol=https\nhost=git.example.com\n", "git.example.com", token),
            "username=x-access-token\npassword=ghp_token\n");
  EXPECT_EQ(GitBroker::answer("protocol=https\nhost=GIT.example.com\nusername=me\n", "git.example.com", token),
            "username=me\npassword=ghp_token\n");
  EXPECT_EQ(GitBroker::answer("protocol=http\nhost=git.example.com\n", "git.example.com", token), "");
  EXPECT_EQ(GitBroker::answer("protocol=https\nhost=evil.example.com\n", "git.example.com", token), "");
  EXPECT_EQ(GitBroker::answer("protocol=https\nhost=git.example.com:8443\n", "git.example.com", token), "");
  EXPECT_EQ(GitBroker::answer("protocol=https\nhost=git.example.com.evil.com\n", "git.example.com", token), "");
  EXPECT_EQ(GitBroker::answer("host=git.example.com\n", "git.example.com", token), "");
  EXPECT_EQ(GitBroker::answer("", "git.example.com", token), "");
}

TEST(GitSetup, SshOpensTheGitHostsPort22AndNothingElseDoes) {
  for (auto policy : {NetworkPolicy::isolated, NetworkPolicy::development}) {
    auto ssh = net::DomainPolicy::from_config(network_with_git(with_git(GitCredentials::ssh, policy)));
    EXPECT_TRUE(ssh.decide("git.example.com", 22).allowed);
    EXPECT_FALSE(ssh.decide("other.example.com", 22).allowed);
    for (auto credentials : {GitCredentials::none, GitCredentials::pat}) {
      auto other = net::DomainPolicy::from_config(network_with_git(with_git(credentials, policy)));
      EXPECT_FALSE(other.decide("git.example.com", 22).allowed);
    }
  }
  // A deny entry still wins.
  auto denied = with_git(GitCredentials::ssh);
  denied.network.deny = {"git.example.com"};
  EXPECT_FALSE(net::DomainPolicy::from_config(network_with_git(denied)).decide("git.example.com", 22).allowed);
  // The port of git.host is the HTTPS one; ssh is port 22 of its name.
  auto ported = with_git(GitCredentials::ssh);
  ported.git.host = "git.example.com:8443";
  EXPECT_EQ(git_network_entries(ported), std::vector<std::string>{"git.example.com:22"});
}

TEST(GitSetup, EnvironmentNamesTheGeneratedConfigAndTheRelayedAgent) {
  auto pat = git_environment(with_git(GitCredentials::pat));
  EXPECT_EQ(pat.at("GIT_CONFIG_SYSTEM"), "/run/claude-container-git/gitconfig");
  EXPECT_EQ(pat.count("SSH_AUTH_SOCK"), 0u);
  for (const auto& [k, v] : pat) EXPECT_EQ(v.find("ghp_"), std::string::npos) << k;
  auto ssh = git_environment(with_git(GitCredentials::ssh));
  EXPECT_EQ(ssh.at("SSH_AUTH_SOCK"), "/run/claude-container-git/ssh-agent.sock");
}

TEST(GitSetup, MissingTokenOrAgentSaysWhichAndHow) {
  auto nothing = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  try {
    find_git_credentials(with_git(GitCredentials::pat), nothing);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("export one of them"), std::string::npos) << e.what();
  }
  try {
    find_git_credentials(with_git(GitCredentials::ssh), nothing);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ssh-agent"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(find_git_credentials(with_git(GitCredentials::none), nothing).token.empty());
  auto second = [](const std::string& name) -> std::optional<std::string> {
    if (name == "GITHUB_TOKEN") return std::string("ghp_second");
    return std::nullopt;
  };
  auto found = find_git_credentials(with_git(GitCredentials::pat), second);
  EXPECT_EQ(found.token, "ghp_second");
  EXPECT_EQ(found.token_variable, "GITHUB_TOKEN");
  EXPECT_EQ(git_status(with_git(GitCredentials::pat), second).source, "GITHUB_TOKEN");
}

TEST(GitSetup, GitHostIsValidated) {
  for (const char* bad : {R"("")", R"("*.example.com")", R"("a b")", R"("https://github.com")", R"(5)"}) {
    const std::string text = std::string(R"({"schema_version": 1, "name": "g", "mode": "custom", "git": {"host": )") +
                             bad + "}}";
    try {
      config::parse_config(text, "config.json");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("git.host"), std::string::npos) << e.what();
    }
  }
  auto ok = config::parse_config(R"({"schema_version": 1, "name": "g", "mode": "custom", "git": {"host": "127.0.0.1:8443"}})",
                                 "config.json");
  EXPECT_EQ(ok.git.host, "127.0.0.1:8443");
}

}  // namespace
}  // namespace cc::integrations
