#include "engine/image/host_network_files.hpp"

#include "util/error.hpp"

namespace cc::engine::image {

using nlohmann::json;

json network_to_json(const config::Network& network) {
  return {{"policy", config::to_string(network.policy)}, {"allow", network.allow}, {"deny", network.deny}};
}

config::Network network_from_json(const json& j) {
  config::Network network;
  try {
    auto policy = config::parse_network_policy(j.at("policy").get<std::string>());
    if (!policy) throw usage_error("the network policy sent to the network host side is not one of none, isolated, development, full.");
    network.policy = *policy;
    network.allow = j.at("allow").get<std::vector<std::string>>();
    network.deny = j.at("deny").get<std::vector<std::string>>();
  } catch (const json::exception& e) {
    throw usage_error(std::string("the network settings sent to the network host side are malformed (") + e.what() + ").");
  }
  return network;
}

json record_to_json(const HostNetworkRecord& r) {
  return {{"pid", r.pid},     {"start_time", r.start_time}, {"service_pid", r.service_pid}, {"service_start_time", r.service_start_time},
          {"boot_id", r.boot_id}, {"proxy", r.proxy},       {"gateway", r.gateway}};
}

HostNetworkRecord record_from_json(const json& j) {
  HostNetworkRecord r;
  r.pid = j.at("pid").get<pid_t>();
  r.start_time = j.at("start_time").get<std::uint64_t>();
  r.service_pid = j.at("service_pid").get<pid_t>();
  r.service_start_time = j.at("service_start_time").get<std::uint64_t>();
  r.boot_id = j.at("boot_id").get<std::string>();
  r.proxy = j.at("proxy").get<bool>();
  r.gateway = j.at("gateway").get<bool>();
  return r;
}

}  // namespace cc::engine::image
