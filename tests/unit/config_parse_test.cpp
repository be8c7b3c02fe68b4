// config.json reading: a valid file gives the model, and every way a file can be wrong gives
// a usage error naming the file, the key path, what was found and what is allowed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config_io.hpp"
#include "util/error.hpp"

namespace cc::config {
namespace {

using nlohmann::json;

constexpr const char* kSource = "proj/.claude-container/config.json";

json valid_document() { return json::parse(serialize_config(preset(Mode::playground, "myapp-playground"))); }

// The message of the usage error parse_config throws for `text`; fails the test otherwise.
std::string error_for(const std::string& text) {
  try {
    parse_config(text, kSource);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::usage) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for: " << text;
  return "";
}

TEST(ConfigParse, SerializedPresetsReadBackUnchanged) {
  for (Mode mode : {Mode::playground, Mode::development, Mode::custom}) {
    const Config original = preset(mode, "demo");
    const std::string text = serialize_config(original);
    const Config read = parse_config(text, kSource);
    EXPECT_EQ(serialize_config(read), text);
    EXPECT_EQ(read.mode, mode);
  }
}

TEST(ConfigParse, EveryFieldSurvivesARoundTrip) {
  Config c = preset(Mode::custom, "full.example_1");
  c.engine = EngineKind::podman;
  c.image = {"alpine", "build/Containerfile"};
  c.network = {NetworkPolicy::development, {"*.example.com", "db.example.com:5432", "[::1]:8080"}, {"evil.com"}};
  c.storage.type = StorageType::hybrid;
  c.credentials = {ApiCredentials::separate, "https://gateway.example.com/v1", "/etc/ssl/extra.pem"};
  c.skills.sync = false;
  c.mcp = {McpPlacement::both, {McpServer::postgres, McpServer::filesystem}};
  c.git = {"Ada", "ada@example.com", GitCredentials::ssh, "git.example.com:2222"};
  c.env = {{"A", "1"}, {"TOKEN", "${HOST_TOKEN}"}};
  c.env_file = ".env";
  c.resources.cpus = 0.5;
  set_memory(c.resources, "1.5g");
  c.resources.pids = 100;
  c.agent = {"claude --verbose", true};

  const std::string text = serialize_config(c);
  const Config read = parse_config(text, kSource);
  EXPECT_EQ(serialize_config(read), text);
  EXPECT_EQ(read.engine, EngineKind::podman);
  EXPECT_EQ(read.image.base, "alpine");
  EXPECT_EQ(read.network.allow.size(), 3u);
  EXPECT_EQ(read.credentials.ca_file, "/etc/ssl/extra.pem");
  EXPECT_EQ(read.mcp.servers, (std::vector<McpServer>{McpServer::postgres, McpServer::filesystem}));
  EXPECT_EQ(read.git.credentials, GitCredentials::ssh);
  EXPECT_EQ(read.git.host, "git.example.com:2222");
  EXPECT_EQ(read.env.at("TOKEN"), "${HOST_TOKEN}");
  EXPECT_DOUBLE_EQ(read.resources.cpus, 0.5);
  EXPECT_EQ(read.resources.memory, 1610612736u);
  EXPECT_EQ(read.resources.memory_text, "1.5g");
  EXPECT_TRUE(read.agent.skip_permissions);
}

TEST(ConfigParse, OmittedKeysTakeTheModesPreset) {
  const Config dev = parse_config(R"({"schema_version": 1, "name": "d", "mode": "development"})", kSource);
  EXPECT_EQ(dev.network.policy, NetworkPolicy::full);
  EXPECT_EQ(dev.storage.type, StorageType::bind);
  EXPECT_EQ(dev.credentials.api, ApiCredentials::shared);

  const Config play = parse_config(R"({"schema_version": 1, "name": "p", "mode": "playground"})", kSource);
  EXPECT_EQ(play.network.policy, NetworkPolicy::isolated);
  EXPECT_EQ(play.storage.type, StorageType::volume);
  EXPECT_EQ(play.credentials.api, ApiCredentials::gateway);

  // A partial section keeps the preset for the keys it leaves out.
  const Config partial = parse_config(
      R"({"schema_version": 1, "name": "d", "mode": "development", "network": {"allow": ["a.com"]}})", kSource);
  EXPECT_EQ(partial.network.policy, NetworkPolicy::full);
  EXPECT_EQ(partial.network.allow, std::vector<std::string>{"a.com"});
}

TEST(ConfigParse, MalformedJsonNamesFileLineAndColumn) {
  const std::string message = error_for("{\n  \"schema_version\": 1,\n  \"name\": \"x\"\n  \"mode\": \"custom\"\n}\n");
  EXPECT_NE(message.find(kSource), std::string::npos) << message;
  EXPECT_NE(message.find("line 4, column 8"), std::string::npos) << message;
  EXPECT_NE(message.find("malformed JSON"), std::string::npos) << message;
  EXPECT_EQ(message.find("[json.exception"), std::string::npos) << message;
}

TEST(ConfigParse, EmptyAndTruncatedFilesAreMalformed) {
  EXPECT_NE(error_for("").find("line 1, column 1"), std::string::npos);
  EXPECT_NE(error_for("{\"schema_version\": 1,").find("malformed JSON"), std::string::npos);
  EXPECT_NE(error_for("{} trailing").find("malformed JSON"), std::string::npos);
}

TEST(ConfigParse, TopLevelMustBeAnObject) {
  EXPECT_EQ(error_for("[1, 2]"),
            std::string(kSource) + ": (top level): found an array; allowed: an object with the keys of schema_version 1");
}

TEST(ConfigParse, DuplicateKeysAreRefusedWithTheirPath) {
  const std::string message =
      error_for(R"({"schema_version": 1, "name": "x", "mode": "custom", "network": {"policy": "none", "policy": "full"}})");
  EXPECT_EQ(message, std::string(kSource) + ": network.policy: found the key twice; allowed: each key once");
}

// One broken document per row: the change made to a valid document, and the exact message.
struct BadValue {
  std::string what;       // test label
  std::function<void(json&)> change;
  std::string message;    // expected, after "<file>: "
};

class ConfigParseRejects : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigParseRejects, WithFileKeyPathFoundAndAllowed) {
  json document = valid_document();
  GetParam().change(document);
  EXPECT_EQ(error_for(document.dump(2)), std::string(kSource) + ": " + GetParam().message);
}

const std::string kNameAllowed =
    "a name matching ^[a-z0-9][a-z0-9_.-]{0,62}$ (lowercase letters, digits, '_', '.', '-'; at most 63 characters, "
    "starting with a letter or digit)";
const std::string kDomainAllowed = "a domain such as \"example.com\", \"*.example.com\" or \"example.com:443\"";
const std::string kMemoryAllowed =
    "a size such as \"512m\", \"4g\", \"4GiB\", \"1.5g\" or a number of bytes, at least 64m";

const std::vector<BadValue> kBadValues = {
    {"missing_schema_version", [](json& d) { d.erase("schema_version"); },
     "schema_version: found nothing (the key is missing); allowed: 1"},
    {"missing_name", [](json& d) { d.erase("name"); }, "name: found nothing (the key is missing); allowed: " + kNameAllowed},
    {"missing_mode", [](json& d) { d.erase("mode"); },
     "mode: found nothing (the key is missing); allowed: playground | development | custom"},
    {"unknown_top_key", [](json& d) { d["netwrok"] = json::object(); },
     "netwrok: found an unknown key; allowed: the keys schema_version, name, mode, engine, image, network, storage, "
     "credentials, skills, mcp, git, env, env_file, resources, agent"},
    {"unknown_nested_key", [](json& d) { d["network"]["polcy"] = "none"; },
     "network.polcy: found an unknown key; allowed: the keys policy, allow, deny, host_network"},
    {"schema_version_string", [](json& d) { d["schema_version"] = "1"; }, "schema_version: found \"1\"; allowed: 1"},
    {"schema_version_zero", [](json& d) { d["schema_version"] = 0; }, "schema_version: found the number 0; allowed: 1"},
    {"schema_version_float", [](json& d) { d["schema_version"] = 1.0; }, "schema_version: found the number 1.0; allowed: 1"},
    {"schema_version_newer", [](json& d) { d["schema_version"] = 2; },
     "schema_version: found the number 2; allowed: 1 (this file was written by a newer claude-container; upgrade "
     "claude-container to read it)"},
    {"name_uppercase", [](json& d) { d["name"] = "MyApp"; }, "name: found \"MyApp\"; allowed: " + kNameAllowed},
    {"name_too_long", [](json& d) { d["name"] = std::string(64, 'a'); },
     "name: found \"" + std::string(64, 'a') + "\"; allowed: " + kNameAllowed},
    {"name_leading_dash", [](json& d) { d["name"] = "-x"; }, "name: found \"-x\"; allowed: " + kNameAllowed},
    {"name_number", [](json& d) { d["name"] = 5; }, "name: found the number 5; allowed: " + kNameAllowed},
    {"mode_unknown", [](json& d) { d["mode"] = "Playground"; },
     "mode: found \"Playground\"; allowed: playground | development | custom"},
    {"engine_unknown", [](json& d) { d["engine"] = "lxc"; },
     "engine: found \"lxc\"; allowed: auto | native | apple | docker | podman"},
    {"image_not_object", [](json& d) { d["image"] = "debian"; }, "image: found \"debian\"; allowed: an object"},
    {"image_base_unknown", [](json& d) { d["image"]["base"] = "fedora"; },
     "image.base: found \"fedora\"; allowed: host | debian | ubuntu | alpine"},
    {"containerfile_absolute", [](json& d) { d["image"]["containerfile"] = "/etc/Containerfile"; },
     "image.containerfile: found \"/etc/Containerfile\"; allowed: a path inside the project, relative to it, e.g. "
     "\".claude-container/Containerfile\""},
    {"containerfile_escapes", [](json& d) { d["image"]["containerfile"] = "../Containerfile"; },
     "image.containerfile: found \"../Containerfile\"; allowed: a path inside the project, relative to it, e.g. "
     "\".claude-container/Containerfile\""},
    {"policy_unknown", [](json& d) { d["network"]["policy"] = "open"; },
     "network.policy: found \"open\"; allowed: none | isolated | development | full"},
    {"policy_null", [](json& d) { d["network"]["policy"] = nullptr; },
     "network.policy: found null; allowed: none | isolated | development | full"},
    {"allow_not_array", [](json& d) { d["network"]["allow"] = "example.com"; },
     "network.allow: found \"example.com\"; allowed: an array of strings, each " + kDomainAllowed},
    {"allow_url", [](json& d) { d["network"]["allow"] = {"ok.com", "https://example.com/"}; },
     "network.allow[1]: found \"https://example.com/\"; allowed: " + kDomainAllowed},
    {"deny_number", [](json& d) { d["network"]["deny"] = {42}; },
     "network.deny[0]: found the number 42; allowed: " + kDomainAllowed},
    {"storage_unknown", [](json& d) { d["storage"]["type"] = "tmpfs"; },
     "storage.type: found \"tmpfs\"; allowed: volume | bind | hybrid"},
    {"storage_unknown_key", [](json& d) { d["storage"]["source"] = "x"; },
     "storage.source: found an unknown key; allowed: the keys type"},
    {"credentials_unknown", [](json& d) { d["credentials"]["api"] = "none"; },
     "credentials.api: found \"none\"; allowed: gateway | separate | shared"},
    {"upstream_http", [](json& d) { d["credentials"]["upstream"] = "http://api.anthropic.com"; },
     "credentials.upstream: found \"http://api.anthropic.com\"; allowed: an https:// URL, e.g. "
     "\"https://api.anthropic.com\""},
    {"ca_file_bool", [](json& d) { d["credentials"]["ca_file"] = false; },
     "credentials.ca_file: found false; allowed: a path to a PEM file, or \"\" for none"},
    {"skills_sync_string", [](json& d) { d["skills"]["sync"] = "yes"; }, "skills.sync: found \"yes\"; allowed: true | false"},
    {"mcp_placement_unknown", [](json& d) { d["mcp"]["placement"] = "remote"; },
     "mcp.placement: found \"remote\"; allowed: container | host | both"},
    {"mcp_servers_not_array", [](json& d) { d["mcp"]["servers"] = "github"; },
     "mcp.servers: found \"github\"; allowed: an array of distinct names from: filesystem | brave | github | postgres"},
    {"mcp_server_unknown", [](json& d) { d["mcp"]["servers"] = {"github", "slack"}; },
     "mcp.servers[1]: found \"slack\"; allowed: filesystem | brave | github | postgres"},
    {"mcp_server_twice", [](json& d) { d["mcp"]["servers"] = {"github", "github"}; },
     "mcp.servers[1]: found \"github\" a second time; allowed: an array of distinct names from: filesystem | brave | "
     "github | postgres"},
    {"git_email_invalid", [](json& d) { d["git"]["email"] = "ada at example"; },
     "git.email: found \"ada at example\"; allowed: an e-mail address such as \"ada@example.com\", or \"\""},
    {"git_name_newline", [](json& d) { d["git"]["name"] = "Ada\nEvil"; },
     "git.name: found \"Ada\\nEvil\"; allowed: a string without line breaks"},
    {"git_credentials_unknown", [](json& d) { d["git"]["credentials"] = "password"; },
     "git.credentials: found \"password\"; allowed: none | pat | ssh"},
    {"env_not_object", [](json& d) { d["env"] = json::array(); }, "env: found an array; allowed: an object"},
    {"env_bad_name", [](json& d) { d["env"]["1ABC"] = "x"; },
     "env.1ABC: found a variable name that is not valid; allowed: names made of letters, digits and '_', not starting "
     "with a digit"},
    {"env_value_number", [](json& d) { d["env"]["PORT"] = 8080; },
     "env.PORT: found the number 8080; allowed: a string, which may contain ${NAME} references"},
    {"env_unclosed_reference", [](json& d) { d["env"]["URL"] = "http://${HOST"; },
     "env.URL: found \"http://${HOST\" (\"http://${HOST\" has a \"${\" without a closing \"}\"; write ${NAME}); "
     "allowed: a string whose ${NAME} references are well formed"},
    {"env_literal_token", [](json& d) { d["env"]["GH"] = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"; },
     "env.GH: found a written-out secret (its value looks like an API token or private key); allowed: a ${NAME} "
     "reference to a host environment variable, e.g. \"${GH}\", so that the secret never lands in the project"},
    {"env_secret_name", [](json& d) { d["env"]["DB_PASSWORD"] = "hunter2"; },
     "env.DB_PASSWORD: found a written-out secret (the name DB_PASSWORD suggests a secret but the value is written "
     "out); allowed: a ${NAME} reference to a host environment variable, e.g. \"${DB_PASSWORD}\", so that the secret "
     "never lands in the project"},
    {"env_url_password", [](json& d) { d["env"]["DATABASE_URL"] = "postgres://app:s3cret@db:5432/app"; },
     "env.DATABASE_URL: found a written-out secret (its value is a URL with a password in it); allowed: a ${NAME} "
     "reference to a host environment variable, e.g. \"${DATABASE_URL}\", so that the secret never lands in the "
     "project"},
    {"env_api_key_with_gateway", [](json& d) { d["env"]["ANTHROPIC_API_KEY"] = "${ANTHROPIC_API_KEY}"; },
     "env.ANTHROPIC_API_KEY: found a variable that credentials.api controls; allowed: other variables; "
     "credentials.api is \"gateway\", which decides how the API key reaches the container (\"shared\" passes it in)"},
    {"env_file_number", [](json& d) { d["env_file"] = 1; }, "env_file: found the number 1; allowed: a path to a KEY=VALUE file, relative to the project, or \"\""},
    {"cpus_zero", [](json& d) { d["resources"]["cpus"] = 0; },
     "resources.cpus: found the number 0; allowed: a number of CPUs greater than 0 and at most 1024, e.g. 2 or 0.5"},
    {"cpus_string", [](json& d) { d["resources"]["cpus"] = "2"; },
     "resources.cpus: found \"2\"; allowed: a number of CPUs greater than 0 and at most 1024, e.g. 2 or 0.5"},
    {"cpus_too_many", [](json& d) { d["resources"]["cpus"] = 2048; },
     "resources.cpus: found the number 2048; allowed: a number of CPUs greater than 0 and at most 1024, e.g. 2 or 0.5"},
    {"memory_words", [](json& d) { d["resources"]["memory"] = "lots"; },
     "resources.memory: found \"lots\"; allowed: " + kMemoryAllowed},
    {"memory_too_small", [](json& d) { d["resources"]["memory"] = "1k"; },
     "resources.memory: found \"1k\"; allowed: " + kMemoryAllowed},
    {"memory_negative", [](json& d) { d["resources"]["memory"] = -5; },
     "resources.memory: found the number -5; allowed: " + kMemoryAllowed},
    {"memory_bool", [](json& d) { d["resources"]["memory"] = true; },
     "resources.memory: found true; allowed: " + kMemoryAllowed},
    {"pids_fraction", [](json& d) { d["resources"]["pids"] = 1.5; },
     "resources.pids: found the number 1.5; allowed: a whole number from 32 to 4194304"},
    {"pids_too_few", [](json& d) { d["resources"]["pids"] = 8; },
     "resources.pids: found the number 8; allowed: a whole number from 32 to 4194304"},
    {"pids_too_many", [](json& d) { d["resources"]["pids"] = 5000000; },
     "resources.pids: found the number 5000000; allowed: a whole number from 32 to 4194304"},
    {"agent_command_blank", [](json& d) { d["agent"]["command"] = "  "; },
     "agent.command: found \"  \"; allowed: a non-empty command, e.g. \"claude\""},
    {"skip_permissions_string", [](json& d) { d["agent"]["skip_permissions"] = "no"; },
     "agent.skip_permissions: found \"no\"; allowed: true | false"},
};

INSTANTIATE_TEST_SUITE_P(ConfigEachKey, ConfigParseRejects, ::testing::ValuesIn(kBadValues),
                         [](const auto& info) { return info.param.what; });

TEST(ConfigParse, ApiKeyInEnvIsAllowedWithSharedCredentials) {
  json d = valid_document();
  d["credentials"]["api"] = "shared";
  d["env"]["ANTHROPIC_API_KEY"] = "${ANTHROPIC_API_KEY}";
  EXPECT_EQ(parse_config(d.dump(), kSource).env.at("ANTHROPIC_API_KEY"), "${ANTHROPIC_API_KEY}");
}

TEST(ConfigParse, SecretNamesWithReferencesAndHarmlessNamesPass) {
  json d = valid_document();
  d["env"]["GITHUB_TOKEN"] = "${GITHUB_TOKEN}";
  d["env"]["DATABASE_URL"] = "postgres://app:${DB_PASSWORD}@db:5432/app";
  d["env"]["PATH_EXTRA"] = "/opt/bin";
  d["env"]["KEYBOARD"] = "us";
  d["env"]["EMPTY_TOKEN"] = "";
  const Config c = parse_config(d.dump(), kSource);
  EXPECT_EQ(c.env.size(), 5u);
}

}  // namespace
}  // namespace cc::config
