// The docker engine for real: the docker CLI against Podman's Docker-compatible API
// (`podman system service`, support/podman_docker_service.hpp), through the claude-container
// binary: lifecycle, the proxy behind the relay, and hybrid refused with its reason.
//
// On this host the daemon cannot build: podman's API builds RUN steps with OCI isolation, which
// needs a memlock rlimit this machine does not grant (the podman engine builds with chroot
// isolation instead). So the image is built by the podman engine first (image names are the
// same for both engines: they derive from the project), and the docker engine must find it by
// its Containerfile label and not build again.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/image/image_engine.hpp"
#include "support/engine_env.hpp"
#include "support/net_upstream.hpp"
#include "support/podman_base_image.hpp"
#include "support/podman_docker_service.hpp"
#include "support/required_feature.hpp"
#include "support/run_command.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

class DockerEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = podman_unavailable_reason();
    if (why.empty() && docker_cli_path().empty()) why = "the docker CLI is not installed (apt install docker.io)";
    CC_SKIP_UNLESS_FEATURE(why.empty(), "docker") << why;
    ASSERT_EQ(ensure_podman_base_image(), "");
    service_ = std::make_unique<PodmanDockerService>();
    ASSERT_EQ(service_->error(), "");
  }

  void TearDown() override {
    if (env_) {
      const auto names = engine::image::image_names(env_->name(), env_->project());
      env_.reset();
      CommandOptions options;
      options.timeout_seconds = 60;
      run_command({"/usr/bin/podman", "image", "rm", "--force", names.image}, options);
    }
    service_.reset();
  }

  void make_project(const std::string& storage, const std::string& policy) {
    env_ = std::make_unique<EngineEnv>(EngineUser::root, storage, policy);
    ASSERT_TRUE(env_->usable()) << env_->why_unusable();
    env_->set_env("DOCKER_HOST", service_->docker_host());
    env_->write_project_file(".claude-container/Containerfile", test_containerfile());
    // The image, by the podman engine (see above).
    env_->write_config(storage, policy, R"("engine": "podman")");
    auto built = cli({"start"});
    ASSERT_EQ(built.exit_code, 0) << describe(built);
    ASSERT_EQ(cli({"destroy", "--yes"}).exit_code, 0);
    env_->write_config(storage, policy, R"("engine": "docker")");
  }

  CommandResult cli(const std::vector<std::string>& args, int timeout = 180) const {
    return env_->cli(args, "", timeout);
  }
  CommandResult sh(const std::string& script) const { return cli({"exec", "--", "/bin/sh", "-c", script}, 60); }
  std::string state() const {
    auto r = cli({"--json", "status"}, 60);
    try {
      return nlohmann::json::parse(r.out).value("state", "");
    } catch (const nlohmann::json::exception&) {
      return "unreadable: " + describe(r);
    }
  }

  std::unique_ptr<PodmanDockerService> service_;
  std::unique_ptr<EngineEnv> env_;
};

TEST_F(DockerEngineTest, LifecycleAndProxyThroughTheDockerCli) {
  auto recorder = std::make_shared<HttpRecorder>();
  LoopbackServer upstream(http_handler("hello via docker\n", recorder));
  const std::string target = "127.0.0.1:" + std::to_string(upstream.port());
  make_project("volume", "isolated");
  auto start = cli({"start"});
  ASSERT_EQ(start.exit_code, 0) << describe(start);
  EXPECT_EQ(start.err.find("built the image"), std::string::npos) << "found by its label: " << describe(start);
  auto who = sh("id -un; cat README.md; tail -n +2 /proc/net/route | wc -l");
  EXPECT_EQ(who.out, "claude\nhello from the project\n0\n") << describe(who);
  const std::string fetch = "curl -sS --noproxy '' -m 20 -o /dev/null -w '%{http_code}' http://" + target + "/";
  EXPECT_EQ(sh(fetch).out, "403");
  ASSERT_EQ(cli({"allow", target}).exit_code, 0);
  EXPECT_EQ(sh(fetch).out, "200");
  ASSERT_EQ(cli({"stop"}).exit_code, 0);
  EXPECT_EQ(state(), "stopped");
  ASSERT_EQ(cli({"start"}).exit_code, 0);
  EXPECT_EQ(state(), "running");
  auto destroy = cli({"destroy", "--yes"});
  ASSERT_EQ(destroy.exit_code, 0) << describe(destroy);
  EXPECT_EQ(state(), "not-created");
}

TEST_F(DockerEngineTest, HybridIsRefusedWithTheReason) {
  make_project("hybrid", "none");
  auto start = cli({"start"});
  EXPECT_EQ(start.exit_code, 2) << describe(start);
  EXPECT_NE(start.err.find("no overlay mounts"), std::string::npos) << describe(start);
  EXPECT_EQ(state(), "not-created");
}

}  // namespace
}  // namespace cc::test
