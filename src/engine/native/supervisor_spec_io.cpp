#include "engine/native/supervisor_spec_io.hpp"

#include <nlohmann/json.hpp>

#include "config/config_io.hpp"
#include "util/error.hpp"

namespace cc::engine::native {

namespace {

using nlohmann::json;

constexpr int kLastMountKind = static_cast<int>(MountStep::Kind::mask_proc);

// A step's `fd` does not travel: a descriptor number means nothing in another process, and the
// supervisor opens the idmapped mounts itself.
json mount_step_json(const MountStep& s) {
  return {{"kind", static_cast<int>(s.kind)}, {"source", s.source},     {"target", s.target},
          {"upper", s.upper},                 {"work", s.work},         {"mode", s.mode},
          {"relative", s.relative},           {"idmapped", s.idmapped}, {"read_only", s.read_only},
          {"host_ids", s.host_ids}};
}

MountStep mount_step_from(const json& j) {
  int kind = j.at("kind").get<int>();
  if (kind < 0 || kind > kLastMountKind) throw Error("the supervisor's spec names an unknown mount step kind");
  MountStep s{static_cast<MountStep::Kind>(kind), j.at("source").get<std::string>(), j.at("target").get<std::string>()};
  s.upper = j.at("upper").get<std::string>();
  s.work = j.at("work").get<std::string>();
  s.mode = j.at("mode").get<mode_t>();
  s.relative = j.at("relative").get<std::string>();
  s.idmapped = j.at("idmapped").get<bool>();
  s.read_only = j.at("read_only").get<bool>();
  s.host_ids = j.at("host_ids").get<bool>();
  return s;
}

json rootfs_json(const RootfsPlan& r) {
  json open_first = json::array();
  for (const auto& o : r.open_first) open_first.push_back({{"path", o.path}, {"fd", o.fd}, {"directory", o.directory}});
  json steps = json::array();
  for (const auto& s : r.steps) steps.push_back(mount_step_json(s));
  json described = json::array();
  for (const auto& m : r.described) {
    described.push_back({{"destination", m.destination}, {"source", m.source}, {"read_only", m.read_only}});
  }
  return {{"new_root", r.new_root}, {"root_fd", r.root_fd}, {"open_first", open_first}, {"steps", steps},
          {"described", described}};
}

RootfsPlan rootfs_from(const json& j) {
  RootfsPlan r;
  r.new_root = j.at("new_root").get<std::string>();
  r.root_fd = j.at("root_fd").get<int>();
  for (const auto& o : j.at("open_first")) {
    r.open_first.push_back({o.at("path").get<std::string>(), o.at("fd").get<int>(), o.at("directory").get<bool>()});
  }
  for (const auto& s : j.at("steps")) r.steps.push_back(mount_step_from(s));
  for (const auto& m : j.at("described")) {
    r.described.push_back({m.at("destination").get<std::string>(), m.at("source").get<std::string>(),
                           m.at("read_only").get<bool>()});
  }
  return r;
}

json hardening_json(const HardeningPlan& h) {
  json seccomp = json::array();
  for (const auto& f : h.seccomp) seccomp.push_back({f.code, f.jt, f.jf, f.k});
  return {{"seccomp", seccomp},
          {"keep_caps", h.keep_caps},
          {"last_cap", h.last_cap},
          {"landlock_abi", h.landlock_abi},
          {"landlock_writable", h.landlock_writable},
          {"rlimits", {h.rlimits.nproc, h.rlimits.nofile, h.rlimits.fsize}}};
}

HardeningPlan hardening_from(const json& j) {
  HardeningPlan h;
  for (const auto& f : j.at("seccomp")) {
    h.seccomp.push_back(sock_filter{f.at(0).get<std::uint16_t>(), f.at(1).get<std::uint8_t>(),
                                    f.at(2).get<std::uint8_t>(), f.at(3).get<std::uint32_t>()});
  }
  h.keep_caps = j.at("keep_caps").get<unsigned long long>();
  h.last_cap = j.at("last_cap").get<int>();
  h.landlock_abi = j.at("landlock_abi").get<int>();
  h.landlock_writable = j.at("landlock_writable").get<std::vector<std::string>>();
  const auto& rl = j.at("rlimits");
  h.rlimits = RlimitPlan{rl.at(0).get<rlim_t>(), rl.at(1).get<rlim_t>(), rl.at(2).get<rlim_t>()};
  return h;
}

}  // namespace

std::string serialize_supervisor_spec(const SupervisorSpec& spec) {
  const auto& p = spec.paths;
  const auto& sb = spec.sandbox;
  json j = {
      {"paths",
       {{"key", p.key},
        {"state_base", p.state_base.string()},
        {"data_base", p.data_base.string()},
        {"state_dir", p.state_dir.string()},
        {"data_dir", p.data_dir.string()}}},
      {"project_dir", spec.project_dir.string()},
      {"launcher_pid", spec.launcher_pid},
      {"config", config::serialize_config(spec.config)},
      {"sandbox",
       {{"rootfs", rootfs_json(sb.rootfs)},
        {"hardening", hardening_json(sb.hardening)},
        {"hostname", sb.hostname},
        {"own_netns", sb.own_netns},
        {"proxy_listeners", sb.proxy_listeners},
        {"gateway_listeners", sb.gateway_listeners},
        {"uid_map", sb.uid_map},
        {"gid_map", sb.gid_map},
        {"deny_setgroups", sb.deny_setgroups},
        {"cgroup_dirs", sb.cgroup_dirs}}},
      {"notes", spec.notes},
      {"launched_ns", spec.launched_ns},
      {"range", {{"uid_start", spec.range.uid_start}, {"gid_start", spec.range.gid_start}, {"count", spec.range.count}}},
      {"gateway_origin", spec.gateway_origin},
      {"gateway_ca_pem", spec.gateway_ca_pem},
      {"git",
       {{"token", spec.git.token}, {"token_variable", spec.git.token_variable}, {"agent_socket", spec.git.agent_socket}}},
  };
  if (spec.gateway_credential) {
    j["gateway_credential"] = {
        {"kind", spec.gateway_credential->kind == net::CredentialKind::api_key ? "api_key" : "oauth_token"},
        {"value", spec.gateway_credential->value}};
  }
  return j.dump();
}

SupervisorSpec parse_supervisor_spec(const std::string& text) {
  if (text.size() > kMaxSupervisorSpecBytes) throw Error("the supervisor's spec is larger than its bound");
  SupervisorSpec spec;
  try {
    json j = json::parse(text);
    const auto& p = j.at("paths");
    spec.paths.key = p.at("key").get<std::string>();
    spec.paths.state_base = p.at("state_base").get<std::string>();
    spec.paths.data_base = p.at("data_base").get<std::string>();
    spec.paths.state_dir = p.at("state_dir").get<std::string>();
    spec.paths.data_dir = p.at("data_dir").get<std::string>();
    spec.project_dir = j.at("project_dir").get<std::string>();
    spec.launcher_pid = j.at("launcher_pid").get<pid_t>();
    spec.config = config::parse_config(j.at("config").get<std::string>(), "the supervisor's spec");
    const auto& sb = j.at("sandbox");
    spec.sandbox.rootfs = rootfs_from(sb.at("rootfs"));
    spec.sandbox.hardening = hardening_from(sb.at("hardening"));
    spec.sandbox.hostname = sb.at("hostname").get<std::string>();
    spec.sandbox.own_netns = sb.at("own_netns").get<bool>();
    spec.sandbox.proxy_listeners = sb.at("proxy_listeners").get<bool>();
    spec.sandbox.gateway_listeners = sb.at("gateway_listeners").get<bool>();
    spec.sandbox.uid_map = sb.at("uid_map").get<std::string>();
    spec.sandbox.gid_map = sb.at("gid_map").get<std::string>();
    spec.sandbox.deny_setgroups = sb.at("deny_setgroups").get<bool>();
    spec.sandbox.cgroup_dirs = sb.at("cgroup_dirs").get<std::vector<std::string>>();
    spec.notes = j.at("notes").get<std::vector<std::string>>();
    spec.launched_ns = j.at("launched_ns").get<std::int64_t>();
    const auto& r = j.at("range");
    spec.range.uid_start = r.at("uid_start").get<uid_t>();
    spec.range.gid_start = r.at("gid_start").get<gid_t>();
    spec.range.count = r.at("count").get<unsigned>();
    spec.gateway_origin = j.at("gateway_origin").get<std::string>();
    spec.gateway_ca_pem = j.at("gateway_ca_pem").get<std::string>();
    const auto& g = j.at("git");
    spec.git.token = g.at("token").get<std::string>();
    spec.git.token_variable = g.at("token_variable").get<std::string>();
    spec.git.agent_socket = g.at("agent_socket").get<std::string>();
    if (j.contains("gateway_credential")) {
      const auto& c = j.at("gateway_credential");
      const std::string kind = c.at("kind").get<std::string>();
      if (kind != "api_key" && kind != "oauth_token") throw Error("the supervisor's spec names an unknown credential kind");
      spec.gateway_credential = net::UpstreamCredential{
          kind == "api_key" ? net::CredentialKind::api_key : net::CredentialKind::oauth_token,
          c.at("value").get<std::string>()};
    }
  } catch (const json::exception& e) {
    throw Error(std::string("the supervisor's spec is malformed (") + e.what() + ")");
  }
  return spec;
}

}  // namespace cc::engine::native
