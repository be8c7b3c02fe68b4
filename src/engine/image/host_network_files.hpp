#pragma once
// Where the image engines' network host side keeps its files, and the JSON both ends of its
// launch channel and control socket speak. Shared by the CLI side (host_network.cpp) and the
// detached process (host_network_process.cpp) only.
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "engine/image/host_socket_dir.hpp"
#include "net/network_service.hpp"

namespace cc::engine::image {

struct HostNetworkFiles {
  explicit HostNetworkFiles(const std::filesystem::path& state_dir) : dir(state_dir / "host-network") {}
  std::filesystem::path dir;  // 0700
  std::filesystem::path lock() const { return dir / "lock"; }  // flock'd while the host side lives
  std::filesystem::path control() const { return dir / "control.sock"; }
  std::filesystem::path record() const { return dir / "host.json"; }
  std::filesystem::path log() const { return dir / "host.log"; }
  // 0755, bind-mounted; under the state directory or its short alias (host_socket_dir.hpp)
  std::filesystem::path sockets() const { return host_network_socket_dir(dir.parent_path()); }
};

// What host.json records (pids with start times, so a reused pid is never killed).
struct HostNetworkRecord {
  pid_t pid = 0;
  std::uint64_t start_time = 0;
  pid_t service_pid = 0;
  std::uint64_t service_start_time = 0;
  std::string boot_id;
  bool proxy = false;
  bool gateway = false;
};

nlohmann::json network_to_json(const config::Network& network);
config::Network network_from_json(const nlohmann::json& j);  // throws cc::Error (usage)
nlohmann::json record_to_json(const HostNetworkRecord& record);
HostNetworkRecord record_from_json(const nlohmann::json& j);  // throws nlohmann::json::exception

// Longest control request or launch message accepted (allow/deny lists and a CA bundle).
inline constexpr std::size_t kMaxHostNetworkMessage = 8u << 20;

}  // namespace cc::engine::image
