// The supervisor's spec survives its trip over the socketpair unchanged, and a malformed or
// oversized message is refused with a sentence rather than parsed into something else.
#include <gtest/gtest.h>

#include <string>

#include "config/config.hpp"
#include "config/config_io.hpp"
#include "engine/native/supervisor_spec_io.hpp"
#include "util/error.hpp"

namespace cc::engine::native {
namespace {

SupervisorSpec sample() {
  SupervisorSpec spec;
  spec.paths.key = "demo-0123456789ab";
  spec.paths.state_base = "/run/user/1000/claude-container";
  spec.paths.data_base = "/home/u/.local/share/claude-container";
  spec.paths.state_dir = spec.paths.state_base / spec.paths.key;
  spec.paths.data_dir = spec.paths.data_base / spec.paths.key;
  spec.project_dir = "/home/u/project with space";
  spec.config = config::preset(config::Mode::development, "demo");
  spec.sandbox.rootfs.new_root = "/run/x/root";
  spec.sandbox.rootfs.root_fd = 7;
  spec.sandbox.rootfs.open_first.push_back({"/home/u/.local/share/claude-container/home", 9, true});
  MountStep step{MountStep::Kind::attach, "/src", "./workspace"};
  step.idmapped = true;
  step.read_only = true;
  step.mode = 0700;
  step.fd = 42;  // a descriptor of the CLI: meaningless in the supervisor, so it does not travel
  spec.sandbox.rootfs.steps.push_back(step);
  spec.sandbox.rootfs.steps.push_back(MountStep{MountStep::Kind::overlay, "/lower", "./w", "/up", "/work"});
  spec.sandbox.rootfs.described.push_back({"/workspace", "/home/u/project", false});
  spec.sandbox.hardening.keep_caps = 0x1234;
  spec.sandbox.hardening.landlock_abi = 3;
  spec.sandbox.hardening.landlock_writable = {"/tmp", "/workspace"};
  spec.sandbox.hardening.seccomp = {sock_filter{0x20, 1, 2, 0xdeadbeef}};
  spec.sandbox.hostname = "demo";
  spec.sandbox.own_netns = false;
  spec.sandbox.proxy_listeners = true;
  spec.sandbox.uid_map = "0 1000 1\n";
  spec.sandbox.gid_map = "0 1000 1\n";
  spec.notes = {"a note"};
  spec.range = {100000, 200000, 65536};
  spec.gateway_credential = net::UpstreamCredential{net::CredentialKind::oauth_token, "sk-ant-oat01-secret"};
  spec.gateway_origin = "the host's CLAUDE_CODE_OAUTH_TOKEN";
  spec.gateway_ca_pem = "-----BEGIN CERTIFICATE-----\n";
  spec.git.token = "ghp_token";
  spec.git.token_variable = "GH_TOKEN";
  spec.launched_ns = 123456789012345;
  return spec;
}

TEST(SupervisorSpec, RoundTrips) {
  SupervisorSpec in = sample();
  SupervisorSpec out = parse_supervisor_spec(serialize_supervisor_spec(in));
  EXPECT_EQ(out.paths.state_dir, in.paths.state_dir);
  EXPECT_EQ(out.paths.data_dir, in.paths.data_dir);
  EXPECT_EQ(out.paths.key, in.paths.key);
  EXPECT_EQ(out.project_dir, in.project_dir);
  EXPECT_EQ(config::serialize_config(out.config), config::serialize_config(in.config));
  EXPECT_EQ(out.sandbox.rootfs.new_root, in.sandbox.rootfs.new_root);
  EXPECT_EQ(out.sandbox.rootfs.root_fd, 7);
  ASSERT_EQ(out.sandbox.rootfs.open_first.size(), 1u);
  EXPECT_EQ(out.sandbox.rootfs.open_first[0].fd, 9);
  ASSERT_EQ(out.sandbox.rootfs.steps.size(), 2u);
  EXPECT_EQ(out.sandbox.rootfs.steps[0].kind, MountStep::Kind::attach);
  EXPECT_TRUE(out.sandbox.rootfs.steps[0].idmapped);
  EXPECT_TRUE(out.sandbox.rootfs.steps[0].read_only);
  EXPECT_EQ(out.sandbox.rootfs.steps[0].mode, 0700u);
  EXPECT_EQ(out.sandbox.rootfs.steps[0].fd, -1);
  EXPECT_EQ(out.sandbox.rootfs.steps[1].upper, "/up");
  EXPECT_EQ(out.sandbox.rootfs.steps[1].work, "/work");
  ASSERT_EQ(out.sandbox.rootfs.described.size(), 1u);
  EXPECT_EQ(out.sandbox.hardening.keep_caps, 0x1234u);
  EXPECT_EQ(out.sandbox.hardening.landlock_abi, 3);
  EXPECT_EQ(out.sandbox.hardening.landlock_writable, in.sandbox.hardening.landlock_writable);
  ASSERT_EQ(out.sandbox.hardening.seccomp.size(), 1u);
  EXPECT_EQ(out.sandbox.hardening.seccomp[0].k, 0xdeadbeefu);
  EXPECT_EQ(out.sandbox.hardening.seccomp[0].jf, 2);
  EXPECT_FALSE(out.sandbox.own_netns);
  EXPECT_TRUE(out.sandbox.proxy_listeners);
  EXPECT_EQ(out.sandbox.uid_map, in.sandbox.uid_map);
  EXPECT_EQ(out.notes, in.notes);
  EXPECT_EQ(out.range.gid_start, 200000u);
  ASSERT_TRUE(out.gateway_credential);
  EXPECT_EQ(out.gateway_credential->kind, net::CredentialKind::oauth_token);
  EXPECT_EQ(out.gateway_credential->value, "sk-ant-oat01-secret");
  EXPECT_EQ(out.gateway_origin, in.gateway_origin);
  EXPECT_EQ(out.gateway_ca_pem, in.gateway_ca_pem);
  EXPECT_EQ(out.git.token, "ghp_token");
  EXPECT_EQ(out.git.token_variable, "GH_TOKEN");
  EXPECT_EQ(out.launched_ns, 123456789012345);
}

TEST(SupervisorSpec, MalformedMessagesAreRefused) {
  std::string good = serialize_supervisor_spec(sample());
  EXPECT_THROW(parse_supervisor_spec(""), Error);
  EXPECT_THROW(parse_supervisor_spec(good.substr(0, good.size() / 2)), Error);
  EXPECT_THROW(parse_supervisor_spec("[]"), Error);
  std::string bad_kind = good;
  const std::string attach = "\"kind\":" + std::to_string(static_cast<int>(MountStep::Kind::attach)) + ",";
  auto at = bad_kind.find(attach);
  ASSERT_NE(at, std::string::npos) << good;
  bad_kind.replace(at, attach.size(), "\"kind\":99,");
  EXPECT_THROW(parse_supervisor_spec(bad_kind), Error);
  EXPECT_THROW(parse_supervisor_spec(std::string(kMaxSupervisorSpecBytes + 1, ' ')), Error);
}

}  // namespace
}  // namespace cc::engine::native
