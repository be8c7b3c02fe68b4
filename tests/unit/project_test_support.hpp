#pragma once
// Configurations and helpers shared by the project-file tests.
#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "util/file_io.hpp"

namespace cc::test {

// A fixed clock, so manifest times are reproducible: 2026-01-02T03:04:05Z.
inline std::chrono::system_clock::time_point fixed_time(int offset_seconds = 0) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1767323045 + offset_seconds));
}

struct NamedConfig {
  std::string case_name;  // directory under tests/data/golden
  config::Config config;
};

// gtest prints a parameter with this instead of its bytes.
inline void PrintTo(const NamedConfig& named, std::ostream* out) { *out << named.case_name; }

// One configuration per mode and base image, together covering every generated variant:
// each MCP server and placement, each network policy but one, each storage and credential kind.
inline std::vector<NamedConfig> golden_configs() {
  using namespace config;
  std::vector<NamedConfig> out;

  out.push_back({"playground", preset(Mode::playground, "myapp-playground")});

  Config development = preset(Mode::development, "myapp-development");
  development.skills.sync = false;
  development.agent.skip_permissions = true;
  out.push_back({"development", development});

  Config debian = preset(Mode::custom, "myapp-custom");
  debian.image.base = "debian";
  debian.network.policy = NetworkPolicy::development;
  debian.network.allow = {"*.internal.example.com", "db.example.com:5432"};
  debian.network.deny = {"evil.example.com"};
  debian.storage.type = StorageType::hybrid;
  debian.credentials.api = ApiCredentials::separate;
  debian.mcp.servers = {McpServer::filesystem, McpServer::brave, McpServer::github, McpServer::postgres};
  debian.git = {"Ada Lovelace", "ada@example.com", GitCredentials::pat};
  debian.env = {{"GITHUB_TOKEN", "${GITHUB_TOKEN}"}, {"LOG_LEVEL", "debug"}};
  debian.env_file = ".env";
  debian.resources.cpus = 1.5;
  set_memory(debian.resources, "1536m");
  debian.resources.pids = 1024;
  out.push_back({"custom-debian", debian});

  Config ubuntu = preset(Mode::custom, "myapp-ubuntu");
  ubuntu.engine = EngineKind::docker;
  ubuntu.image.base = "ubuntu";
  ubuntu.network.policy = NetworkPolicy::full;
  ubuntu.storage.type = StorageType::bind;
  ubuntu.credentials.api = ApiCredentials::shared;
  ubuntu.mcp.placement = McpPlacement::host;
  ubuntu.mcp.servers = {McpServer::filesystem};
  ubuntu.git = {"Ada Lovelace", "", GitCredentials::ssh};
  set_memory(ubuntu.resources, "8GiB");
  out.push_back({"custom-ubuntu", ubuntu});

  Config alpine = preset(Mode::custom, "myapp-alpine");
  alpine.engine = EngineKind::podman;
  alpine.image.base = "alpine";
  alpine.network.policy = NetworkPolicy::none;
  alpine.mcp.placement = McpPlacement::both;
  alpine.mcp.servers = {McpServer::brave, McpServer::filesystem};
  alpine.skills.sync = false;
  alpine.resources.cpus = 1;
  out.push_back({"custom-alpine", alpine});
  return out;
}

// Every regular file under `root`, as sorted '/'-separated relative paths.
inline std::vector<std::string> files_under(const std::filesystem::path& root) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(root)) return out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root))
    if (entry.is_regular_file()) out.push_back(std::filesystem::relative(entry.path(), root).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace cc::test
