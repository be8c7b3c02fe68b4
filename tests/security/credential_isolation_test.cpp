// The three credentials.api modes from inside a running native sandbox, as root and as an
// unprivileged user. gateway: a request to ANTHROPIC_BASE_URL reaches a TLS upstream on the
// host's loopback (a test CA copied into the project as credentials.ca_file) carrying the real
// key, while nothing the sandbox can read holds it: not the environment, not any process's
// environ or cmdline, not pid 1's memory, not a file; nor status --json, the logs or the state
// directory on the host. shared: the value is inside. separate: nothing of the host's is.
#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <nlohmann/json.hpp>

#include "integrations/api_credential.hpp"
#include "net/pasta.hpp"
#include "support/engine_env.hpp"
#include "support/messages_stand_in.hpp"
#include "support/secret_search.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::size_t line_count_of(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

// A credential nobody else could hold: a random marker inside the real shape.
struct RealCredential {
  std::string marker;
  std::string value;
};
RealCredential make_credential(const std::string& prefix) {
  unsigned char random[12];
  RAND_bytes(random, sizeof random);
  std::string marker = "ccLeakMarker";
  for (unsigned char c : random) marker += "0123456789abcdef"[c >> 4], marker += "0123456789abcdef"[c & 15];
  std::string value = prefix + marker;
  while (value.size() < 108) value += 'A';
  return {marker, value};
}


class CredentialIsolationTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  const std::time_t started_ = std::time(nullptr) - 2;  // before any credential of the test exists
  std::unique_ptr<EngineEnv> make(const std::string& policy) {
    auto env = std::make_unique<EngineEnv>(GetParam(), "volume", policy);
    return env;
  }
  // The gateway's config: the Messages API stand-in on our loopback, its CA inside the project.
  void use_gateway(EngineEnv& env, const std::string& policy, const MessagesStandIn& api) {
    env.write_project_file(".claude-container/test-ca.pem", api.ca_pem());
    env.write_config("volume", policy,
                     R"("credentials": {"api": "gateway", "upstream": "https://127.0.0.1:)" + std::to_string(api.port()) +
                         R"(", "ca_file": ".claude-container/test-ca.pem"})");
  }
  // Everything on the host the user can look at for this container, besides the inside.
  void expect_nothing_outside_holds(EngineEnv& env, const std::string& marker) {
    auto status = env.cli({"status", "--json"});
    EXPECT_EQ(status.out.find(marker), std::string::npos) << status.out;
    auto logs = env.cli({"logs"});
    EXPECT_EQ(logs.out.find(marker), std::string::npos) << logs.out;
    auto audit = env.cli({"logs", "--network"});
    EXPECT_EQ(audit.out.find(marker), std::string::npos) << audit.out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(env.state_dir(), ec); it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      std::ifstream in(it->path(), std::ios::binary);
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      EXPECT_EQ(content.find(marker), std::string::npos) << it->path();
    }
  }
  std::vector<std::string> leaks_inside(EngineEnv& env, const std::string& marker, bool* mem_readable) {
    auto search = search_container_for_secret(env, marker, started_);
    EXPECT_TRUE(search.completed) << search.output;
    *mem_readable = search.pid1_memory_readable;
    return search.leaks;
  }
};

// An API key from the host's environment, policy isolated (the Playground's): Claude Code's
// own path, through NO_PROXY to the gateway.
TEST_P(CredentialIsolationTest, GatewayAddsTheHostsApiKeyOutsideAndNothingInsideHoldsIt) {
  auto env = make("isolated");
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  MessagesStandIn api;
  api.start();
  use_gateway(*env, "isolated", api);
  const auto real = make_credential("sk-ant-api03-");
  env->set_env("ANTHROPIC_API_KEY", real.value);
  auto started = env->cli({"start"});
  ASSERT_EQ(started.exit_code, 0) << describe(started);
  CC_SKIP_UNLESS_FEATURE(env->exec({"/bin/sh", "-c", "command -v curl"}).exit_code == 0, "container-curl")
      << "curl is not installed in the container";
  CC_SKIP_UNLESS_FEATURE(env->exec({"/bin/sh", "-c", "command -v python3"}).exit_code == 0, "container-python3")
      << "python3 is not installed in the container";

  // As Claude Code does: the base URL and the key from its environment, the proxy variables set.
  auto curl = env->exec({"/bin/sh", "-c",
                         "curl -sS --max-time 30 -H \"x-api-key: $ANTHROPIC_API_KEY\" -H 'anthropic-version: "
                         "2023-06-01' -H 'content-type: application/json' -d '{\"model\":\"m\",\"max_tokens\":8}' "
                         "\"$ANTHROPIC_BASE_URL/v1/messages?beta=true\""});
  EXPECT_EQ(curl.exit_code, 0) << describe(curl);
  EXPECT_NE(curl.out.find("Hello from the stand-in."), std::string::npos) << describe(curl);
  {
    auto requests = api.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "POST");
    EXPECT_EQ(requests[0].path, "/v1/messages");
    EXPECT_EQ(requests[0].header("x-api-key"), real.value);
    EXPECT_EQ(requests[0].header_count("x-api-key"), 1u) << "the placeholder went upstream too";
  }

  auto env_inside = env->exec({"/usr/bin/env"});
  EXPECT_NE(env_inside.out.find("ANTHROPIC_BASE_URL=http://127.0.0.1:3129\n"), std::string::npos) << env_inside.out;
  EXPECT_NE(env_inside.out.find("ANTHROPIC_API_KEY=" + integrations::placeholder_credential(net::CredentialKind::api_key)),
            std::string::npos)
      << env_inside.out;
  bool mem_readable = false;
  auto leaks = leaks_inside(*env, real.marker, &mem_readable);
  EXPECT_TRUE(leaks.empty()) << ::testing::PrintToString(leaks);
  std::cout << "[ info ] pid 1's memory readable from inside: " << (mem_readable ? "yes (searched)" : "no") << "\n";

  expect_nothing_outside_holds(*env, real.marker);
  auto status = nlohmann::json::parse(env->cli({"status", "--json"}).out);
  EXPECT_EQ(status["credentials"]["mode"], "gateway");
  EXPECT_EQ(status["credentials"]["kind"], "api_key");
  EXPECT_EQ(status["credentials"]["source"], "the host's ANTHROPIC_API_KEY");
  EXPECT_EQ(status["credentials"]["key_inside"], false);
  // The audit log has the request: method and path, without the query.
  auto audit = env->cli({"logs", "--network"});
  EXPECT_NE(audit.out.find("/v1/messages"), std::string::npos) << audit.out;
  EXPECT_EQ(audit.out.find("beta=true"), std::string::npos) << audit.out;
  EXPECT_EQ(env->cli({"stop"}).exit_code, 0);
}

// An OAuth token stored by `claude-container login`, policy none: the gateway is the only way out.
TEST_P(CredentialIsolationTest, GatewayAddsAStoredOauthTokenUnderPolicyNone) {
  auto env = make("none");
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  MessagesStandIn api;
  api.start();
  use_gateway(*env, "none", api);
  const auto real = make_credential("sk-ant-oat01-");
  auto login = env->cli({"login", "--stdin"}, real.value + "\n");
  ASSERT_EQ(login.exit_code, 0) << describe(login);
  auto started = env->cli({"start"});
  ASSERT_EQ(started.exit_code, 0) << describe(started);
  CC_SKIP_UNLESS_FEATURE(env->exec({"/bin/sh", "-c", "command -v curl"}).exit_code == 0, "container-curl")
      << "curl is not installed in the container";
  CC_SKIP_UNLESS_FEATURE(env->exec({"/bin/sh", "-c", "command -v python3"}).exit_code == 0, "container-python3")
      << "python3 is not installed in the container";

  auto curl = env->exec({"/bin/sh", "-c",
                         "curl -sS --max-time 30 -H \"Authorization: Bearer $CLAUDE_CODE_OAUTH_TOKEN\" "
                         "-d '{}' \"$ANTHROPIC_BASE_URL/v1/messages\""});
  EXPECT_EQ(curl.exit_code, 0) << describe(curl);
  EXPECT_NE(curl.out.find("Hello from the stand-in."), std::string::npos) << describe(curl);
  {
    auto requests = api.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].header("authorization"), "Bearer " + real.value);
    EXPECT_EQ(requests[0].header_count("authorization"), 1u);
  }
  // Nothing else gets out under `none`.
  auto direct = env->exec({"/bin/sh", "-c", "curl -sS --max-time 5 -o /dev/null https://127.0.0.1:" +
                                                std::to_string(api.port()) + "/"});
  EXPECT_NE(direct.exit_code, 0) << describe(direct);

  auto env_inside = env->exec({"/usr/bin/env"});
  EXPECT_NE(env_inside.out.find("CLAUDE_CODE_OAUTH_TOKEN=" +
                                integrations::placeholder_credential(net::CredentialKind::oauth_token)),
            std::string::npos)
      << env_inside.out;
  EXPECT_EQ(env_inside.out.find("ANTHROPIC_API_KEY="), std::string::npos) << env_inside.out;
  bool mem_readable = false;
  auto leaks = leaks_inside(*env, real.marker, &mem_readable);
  EXPECT_TRUE(leaks.empty()) << ::testing::PrintToString(leaks);
  // The search finds what is there: a copy planted in the home is reported.
  ASSERT_EQ(env->exec({"/bin/sh", "-c", "cat > /root/planted"}, real.value).exit_code, 0);
  EXPECT_EQ(leaks_inside(*env, real.marker, &mem_readable), std::vector<std::string>{"LEAK /root/planted"});
  expect_nothing_outside_holds(*env, real.marker);
  auto status = nlohmann::json::parse(env->cli({"status", "--json"}).out);
  EXPECT_EQ(status["credentials"]["kind"], "oauth_token");
  EXPECT_NE(status["credentials"]["source"].get<std::string>().find("claude-container login"), std::string::npos);
  EXPECT_EQ(env->cli({"stop"}).exit_code, 0);
}

// `full` through pasta is a network namespace of the container's own: the gateway works there too.
TEST_P(CredentialIsolationTest, GatewayWorksUnderTheFullPolicyThroughPasta) {
  // As in network_sandbox_test: rootless pasta also needs /dev/net/tun open to everyone.
  const char* pasta_feature = GetParam() == EngineUser::root ? "pasta" : "rootless-pasta";
  CC_SKIP_UNLESS_FEATURE(net::find_pasta().has_value(), pasta_feature) << "pasta (passt) is not installed";
  if (GetParam() == EngineUser::unprivileged) {
    struct stat st {};
    CC_SKIP_UNLESS_FEATURE(::stat("/dev/net/tun", &st) == 0 && (st.st_mode & 0006) == 0006, pasta_feature)
        << "/dev/net/tun is not open to unprivileged users here, so rootless pasta cannot run";
  }
  auto env = make("full");
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  MessagesStandIn api;
  api.start();
  use_gateway(*env, "full", api);
  const auto real = make_credential("sk-ant-api03-");
  env->set_env("ANTHROPIC_API_KEY", real.value);
  auto started = env->cli({"start"});
  ASSERT_EQ(started.exit_code, 0) << describe(started);
  CC_SKIP_UNLESS_FEATURE(env->exec({"/bin/sh", "-c", "command -v curl"}).exit_code == 0, "container-curl")
      << "curl is not installed in the container";
  auto curl = env->exec({"/bin/sh", "-c",
                         "curl -sS --max-time 30 -H \"x-api-key: $ANTHROPIC_API_KEY\" -d '{}' "
                         "\"$ANTHROPIC_BASE_URL/v1/messages\""});
  EXPECT_EQ(curl.exit_code, 0) << describe(curl);
  EXPECT_NE(curl.out.find("Hello from the stand-in."), std::string::npos) << describe(curl);
  auto requests = api.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("x-api-key"), real.value);
  auto status = env->cli({"status"});
  EXPECT_NE(status.out.find("api key:   gateway: an API key from the host's ANTHROPIC_API_KEY"), std::string::npos)
      << status.out;
  EXPECT_EQ(env->cli({"stop"}).exit_code, 0);
}

TEST_P(CredentialIsolationTest, SharedPassesTheValueInAndSeparateNothingOfTheHosts) {
  auto env = make("none");
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  const auto key = make_credential("sk-ant-api03-");
  const auto token = make_credential("sk-ant-oat01-");
  env->set_env("ANTHROPIC_API_KEY", key.value);
  env->set_env("CLAUDE_CODE_OAUTH_TOKEN", token.value);

  env->write_config("volume", "none", R"("credentials": {"api": "shared"})");
  ASSERT_EQ(env->cli({"start"}).exit_code, 0);
  CC_SKIP_UNLESS_FEATURE(env->exec({"/bin/sh", "-c", "command -v python3"}).exit_code == 0, "container-python3")
      << "python3 is not installed in the container";
  auto shared = env->exec({"/usr/bin/env"});
  EXPECT_NE(shared.out.find("ANTHROPIC_API_KEY=" + key.value + "\n"), std::string::npos) << shared.out;
  EXPECT_EQ(shared.out.find("ANTHROPIC_BASE_URL"), std::string::npos) << shared.out;
  auto status = nlohmann::json::parse(env->cli({"status", "--json"}).out);
  EXPECT_EQ(status["credentials"]["mode"], "shared");
  EXPECT_EQ(status["credentials"]["key_inside"], true);
  EXPECT_EQ(status.dump().find(key.marker), std::string::npos);
  ASSERT_EQ(env->cli({"stop"}).exit_code, 0);

  env->write_config("volume", "none", R"("credentials": {"api": "separate"})");
  ASSERT_EQ(env->cli({"start"}).exit_code, 0);
  auto separate = env->exec({"/usr/bin/env"});
  EXPECT_EQ(separate.exit_code, 0) << describe(separate);
  for (const auto* marker : {&key.marker, &token.marker}) {
    EXPECT_EQ(separate.out.find(*marker), std::string::npos) << separate.out;
  }
  EXPECT_EQ(separate.out.find("ANTHROPIC_BASE_URL"), std::string::npos) << separate.out;
  bool mem_readable = false;
  EXPECT_TRUE(leaks_inside(*env, key.marker, &mem_readable).empty());
  EXPECT_EQ(env->cli({"stop"}).exit_code, 0);
}

// credentials.ca_file is read beneath the project, and one that holds no certificate refuses the
// start with the reason instead of a gateway that can never verify its upstream.
TEST_P(CredentialIsolationTest, AMissingOrEmptyCaFileStopsTheStart) {
  auto env = make("none");
  CC_SKIP_UNLESS_FEATURE(env->usable(), env->feature()) << env->why_unusable();
  env->set_env("ANTHROPIC_API_KEY", make_credential("sk-ant-api03-").value);
  env->write_config("volume", "none",
                    R"("credentials": {"api": "gateway", "upstream": "https://127.0.0.1:9", "ca_file": "ca.pem"})");
  auto missing = env->cli({"start"});
  EXPECT_EQ(missing.exit_code, 2) << describe(missing);
  EXPECT_NE(missing.err.find("credentials.ca_file"), std::string::npos) << describe(missing);
  EXPECT_FALSE(fs::exists(env->container_data())) << "a refused start created the container";

  env->write_project_file("ca.pem", "not a certificate\n");
  env->approve_config();  // the approval covers the CA file's content, which just changed
  auto empty = env->cli({"start"});
  EXPECT_EQ(empty.exit_code, 2) << describe(empty);
  EXPECT_EQ(line_count_of(empty.err), 1u) << describe(empty);
  EXPECT_NE(empty.err.find("credentials.ca_file (ca.pem) holds no PEM certificate"), std::string::npos)
      << describe(empty);
  EXPECT_FALSE(fs::exists(env->container_data())) << "a refused start created the container";
  auto status = nlohmann::json::parse(env->cli({"status", "--json"}).out);
  EXPECT_NE(status["state"], "running") << status.dump(2);
}

INSTANTIATE_TEST_SUITE_P(Users, CredentialIsolationTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
