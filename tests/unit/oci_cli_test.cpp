// The docker and podman dialects (engine/image/oci_cli.hpp): the exact argument lists the
// image engine runs, and the parsing of their `inspect` output, from real samples (podman
// 4.3.1 on Debian 12; docker's shape is the same array of Docker's object).
#include <gtest/gtest.h>

#include "engine/image/cli_runner.hpp"
#include "engine/image/docker_cli.hpp"
#include "engine/image/podman_cli.hpp"
#include "util/error.hpp"

namespace cc::engine::image {
namespace {

using Args = std::vector<std::string>;

OciHostSettings hybrid_host() {
  OciHostSettings s;
  s.cgroups_disabled = true;
  s.cgroups_reason = "hybrid";
  s.ulimits = {"nofile=20000:20000", "nproc=32768:32768"};
  s.build_ulimits = s.ulimits;
  s.build_isolation = "chroot";
  return s;
}

RunSpec sample_run() {
  RunSpec spec;
  spec.name = "cc-app-0123456789ab";
  spec.image = "localhost/claude-container-app-0123456789ab";
  spec.hostname = "app";
  spec.labels = {{"dev.claude-container.project", "/home/ada/app"}};
  spec.env = {{"ANTHROPIC_API_KEY", "sk-secret"}};
  spec.workdir = "/workspace";
  spec.user = "claude";
  spec.mounts = {{MountSpec::Kind::overlay, "/home/ada/app", "/workspace", false, "/var/lib/cc/upper", "/var/lib/cc/work"},
                 {MountSpec::Kind::volume, "cc-app-home", "/home/claude", false, "", ""},
                 {MountSpec::Kind::bind, "/run/cc/git", "/run/claude-container-git", true, "", ""}};
  spec.sockets = {{"/run/user/1000/agent.sock", "/run/claude-container-git/ssh-agent.sock"}};
  spec.no_network = true;
  spec.cpus = 1.5;
  spec.memory = 512ull << 20;
  spec.pids = 256;
  spec.cap_drop = {"ALL"};
  spec.command = {"/bin/sh", "-c", "sleep 1"};
  return spec;
}

TEST(OciCli, PodmanRunOnAHybridHostDisablesCgroupsAndKeepsLimitsWithinTheHost) {
  PodmanCli podman(hybrid_host(), CgroupLayout::hybrid);
  const Args expected = {"run", "--detach", "--name", "cc-app-0123456789ab", "--hostname=app",
                         "--label", "dev.claude-container.project=/home/ada/app",
                         "--env", "ANTHROPIC_API_KEY", "--workdir=/workspace", "--user=claude",
                         "--volume=/home/ada/app:/workspace:O,upperdir=/var/lib/cc/upper,workdir=/var/lib/cc/work",
                         "--mount=type=volume,source=cc-app-home,destination=/home/claude",
                         "--mount=type=bind,source=/run/cc/git,destination=/run/claude-container-git,readonly=true",
                         "--mount=type=bind,source=/run/user/1000/agent.sock,destination=/run/claude-container-git/ssh-agent.sock",
                         "--network=none", "--cgroups=disabled", "--ulimit=nofile=20000:20000",
                         "--ulimit=nproc=32768:32768", "--cap-drop=ALL", "--security-opt=no-new-privileges",
                         "localhost/claude-container-app-0123456789ab", "/bin/sh", "-c", "sleep 1"};
  EXPECT_EQ(podman.run_args(sample_run()), expected);
  EXPECT_TRUE(podman.unsupported(sample_run()).empty());
  EXPECT_TRUE(podman.needs_private_cgroup2());
  EXPECT_EQ(podman.limits_unavailable_reason(), "hybrid");
}

TEST(OciCli, SecretValuesNeverReachTheCommandLine) {
  PodmanCli podman(OciHostSettings{});
  for (const auto& arg : podman.run_args(sample_run())) EXPECT_EQ(arg.find("sk-secret"), std::string::npos) << arg;
  ExecRequest req;
  req.extra_env = {{"ANTHROPIC_API_KEY", "sk-secret"}};
  for (const auto& arg : podman.exec_args("c", req, "claude")) EXPECT_EQ(arg.find("sk-secret"), std::string::npos) << arg;
}

// A container's PATH, proxy or DOCKER_HOST never becomes the CLI's own: it goes with its value
// on the command line, and the runner does not set it for the CLI.
TEST(OciCli, VariablesTheCliReadsGoByValue) {
  PodmanCli podman(OciHostSettings{});
  ExecRequest req;
  req.extra_env = {{"PATH", "/workspace/bin:/usr/bin"}, {"DOCKER_HOST", "tcp://elsewhere:2375"},
                   {"HTTPS_PROXY", "http://127.0.0.1:3128"}, {"ANTHROPIC_API_KEY", "sk-secret"}};
  EXPECT_EQ(podman.exec_args("c", req, ""),
            (Args{"exec", "--interactive", "--env", "ANTHROPIC_API_KEY", "--env", "DOCKER_HOST=tcp://elsewhere:2375",
                  "--env", "HTTPS_PROXY=http://127.0.0.1:3128", "--env", "PATH=/workspace/bin:/usr/bin", "c",
                  "/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash -l; fi; exec sh -l"}));
  EXPECT_TRUE(read_by_the_cli("LD_PRELOAD"));
  EXPECT_TRUE(read_by_the_cli("CONTAINERS_CONF"));
  EXPECT_FALSE(read_by_the_cli("ANTHROPIC_BASE_URL"));
}

TEST(OciCli, LimitsAreSetWhereCgroupsWork) {
  DockerCli docker;
  Args args = docker.run_args(sample_run());
  for (const char* flag : {"--cpus=1.5", "--memory=536870912", "--pids-limit=256"}) {
    EXPECT_NE(std::find(args.begin(), args.end(), flag), args.end()) << flag;
  }
  EXPECT_EQ(std::find(args.begin(), args.end(), "--cgroups=disabled"), args.end());
  EXPECT_TRUE(docker.limits_unavailable_reason().empty());
}

TEST(OciCli, DockerRefusesHybridAndPathsItsMountSyntaxCannotCarry) {
  DockerCli docker;
  auto refusals = docker.unsupported(sample_run());
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_NE(refusals[0].find("hybrid"), std::string::npos) << refusals[0];
  RunSpec odd = sample_run();
  odd.mounts = {{MountSpec::Kind::bind, "/home/ada/a,b", "/workspace", false, "", ""}};
  auto why = PodmanCli(OciHostSettings{}).unsupported(odd);
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("/home/ada/a,b"), std::string::npos);
}

TEST(OciCli, ExecBuildAndTheSmallCommands) {
  PodmanCli podman(hybrid_host(), CgroupLayout::hybrid);
  ExecRequest req;
  req.tty = true;
  req.workdir = "/workspace";
  req.argv = {"claude", "--help"};
  req.extra_env = {{"TERM", "xterm"}};
  EXPECT_EQ(podman.exec_args("cc-x", req, "claude"),
            (Args{"exec", "--interactive", "--tty", "--user=claude", "--workdir=/workspace", "--env", "TERM", "cc-x",
                  "claude", "--help"}));
  BuildSpec build{"localhost/img", "/s/Containerfile", "/s/build", {{"k", "v"}}, {{"USER_UID", "1000"}}};
  EXPECT_EQ(podman.build_args(build),
            (Args{"build", "--file", "/s/Containerfile", "--tag", "localhost/img", "--label", "k=v", "--build-arg",
                  "USER_UID=1000", "--isolation=chroot", "--ulimit=nofile=20000:20000", "--ulimit=nproc=32768:32768",
                  "/s/build"}));
  EXPECT_EQ(podman.stop_args("cc-x", std::chrono::seconds(7)), (Args{"stop", "--time", "7", "cc-x"}));
  EXPECT_EQ(podman.logs_args("cc-x", true), (Args{"logs", "--follow", "cc-x"}));
  EXPECT_EQ(podman.volume_create_bound_args("v", {}, "/data/ws"),
            (Args{"volume", "create", "--driver", "local", "--opt", "type=none", "--opt", "o=bind", "--opt",
                  "device=/data/ws", "v"}));
}

// `podman container inspect` of a running container (trimmed to the keys read), podman 4.3.1.
constexpr const char* kPodmanInspect = R"([
 {
  "Id": "55a2673433603e72d906be97ca24ee40a012d9bb92d6f1e061301caffe08e6d9",
  "Created": "2026-12-02T16:00:23.9Z",
  "State": {"OciVersion": "1.0.2-dev", "Status": "running", "Running": true, "Paused": false, "Pid": 16613,
            "StartedAt": "2026-12-02T16:00:24.10298089Z", "FinishedAt": "0001-01-01T00:00:00Z"},
  "ImageName": "localhost/cc-probe:1",
  "Config": {"Hostname": "55a267343360", "Image": "localhost/cc-probe:1", "Labels": {"a": "b"}}
 }
])";

TEST(OciCli, InspectSamplesParse) {
  PodmanCli podman(OciHostSettings{});
  auto info = podman.parse_inspect(kPodmanInspect, 0);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->running);
  EXPECT_EQ(info->pid, 16613);
  EXPECT_EQ(info->image, "localhost/cc-probe:1");
  EXPECT_EQ(info->labels.at("a"), "b");
  EXPECT_EQ(info->started_at, 1796227224);
  // A missing container: podman prints [] and exits 125; docker prints [] and exits 1.
  EXPECT_FALSE(podman.parse_inspect("[]\n", 125));
  EXPECT_FALSE(DockerCli().parse_inspect("[]\n", 1));
  EXPECT_FALSE(DockerCli().parse_inspect("", 1));
  EXPECT_THROW(podman.parse_inspect("Error: something else", 0), Error);
  std::string stopped = kPodmanInspect;
  stopped.replace(stopped.find("\"Running\": true"), 15, "\"Running\": false");
  auto off = podman.parse_inspect(stopped, 0);
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->running);
  EXPECT_FALSE(off->pid);

  auto labels = podman.parse_image_inspect(R"([{"Id": "x", "Labels": {"io.buildah.version": "1.28.2"},
                                              "Config": {"Labels": {"io.buildah.version": "1.28.2", "h": "1"}}}])", 0);
  ASSERT_TRUE(labels);
  EXPECT_EQ(labels->at("h"), "1");
  EXPECT_FALSE(podman.parse_image_inspect("[]", 125));
}

TEST(OciCli, Rfc3339Times) {
  EXPECT_EQ(parse_rfc3339("2026-12-02T16:00:24.10298089Z"), 1796227224);
  EXPECT_EQ(parse_rfc3339("2026-12-02T17:00:24+01:00"), 1796227224);
  EXPECT_EQ(parse_rfc3339("2026-12-02T15:00:24.5-01:00"), 1796227224);
  EXPECT_FALSE(parse_rfc3339("0001-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("yesterday"));
  EXPECT_FALSE(parse_rfc3339("2026-12-02T16:00:24"));
}

TEST(OciCli, CgroupLayoutNames) {
  EXPECT_EQ(to_string(CgroupLayout::hybrid), "cgroup v1 and v2 mixed (hybrid)");
  EXPECT_EQ(to_string(CgroupLayout::unified), "cgroup v2 (unified)");
}

}  // namespace
}  // namespace cc::engine::image
