// Apple's `container` dialect: exact argument lists per release, the version adaptations and
// refusals, and parsing of the output samples under tests/data/apple/<version>/ (provenance in
// the README there).
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "engine/apple/apple_cli.hpp"
#include "engine/image/host_network.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace {

using cc::engine::apple::AppleCli;
using cc::engine::apple::AppleVersion;
using cc::engine::image::MountSpec;
using cc::engine::image::RunSpec;
using Args = std::vector<std::string>;

const std::vector<std::string> kSampleVersions{"0.5.0", "0.12.3", "1.2.2"};

std::string sample(const std::string& version, const std::string& name) {
  std::ifstream in(std::string(CC_TEST_DATA_DIR) + "/apple/" + version + "/" + name);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int sample_status(const std::string& version, const std::string& name) {
  const std::string text = sample(version, name + ".status");
  return text.empty() ? 0 : std::stoi(text);
}

// What the engine is handed: stdout and stderr of one call, and its exit status.
std::string sample_output(const std::string& version, const std::string& name) {
  return sample(version, name + ".stdout") + sample(version, name + ".stderr");
}

AppleVersion version_of(const std::string& text) {
  return *cc::engine::apple::parse_apple_version("container CLI version " + text);
}

RunSpec full_spec() {
  RunSpec spec;
  spec.name = "demo-1a2b3c4d5e6f";
  spec.image = "claude-container-demo:3f1c7a0b";
  spec.labels = {{"dev.claude-container.project", "/Users/dev/src/demo"}, {"dev.claude-container.key", "demo-1a2b"}};
  spec.env = {{"HTTPS_PROXY", "http://127.0.0.1:3128"}, {"TERM", "xterm-256color"}};
  spec.workdir = "/workspace";
  spec.user = "claude";
  spec.mounts = {{MountSpec::Kind::volume, "demo-1a2b3c4d5e6f-workspace", "/workspace", false},
                 {MountSpec::Kind::bind, "/Users/dev/.claude-skills", "/home/claude/.claude/skills", true},
                 {MountSpec::Kind::tmpfs, "", "/tmp", false}};
  spec.sockets = {{"/Users/dev/state/host-network/sockets/proxy.sock", "/run/claude-container/proxy.sock"}};
  spec.no_network = true;
  spec.cpus = 1.5;
  spec.memory = 4ull << 30;
  spec.pids = 4096;
  spec.cap_drop = {"ALL"};
  spec.read_only_rootfs = true;
  spec.command = {"/bin/sh", "-c", "exec sleep infinity"};
  return spec;
}

TEST(AppleCli, ParsesTheVersionOfEveryRelease) {
  for (const auto& version : kSampleVersions) {
    auto parsed = cc::engine::apple::parse_apple_version(sample(version, "version.stdout"));
    ASSERT_TRUE(parsed) << version;
    EXPECT_EQ(parsed->text(), version);
    const std::string json = sample(version, "system-version.stdout");
    if (json.empty()) continue;  // `system version` arrived in 0.8.0
    auto from_json = cc::engine::apple::parse_apple_version(json);
    ASSERT_TRUE(from_json) << version;
    EXPECT_EQ(from_json->text(), version);
  }
  EXPECT_FALSE(cc::engine::apple::parse_apple_version("Docker version 27.1.1, build 6312585"));
  EXPECT_FALSE(cc::engine::apple::parse_apple_version("[]"));
  EXPECT_FALSE(cc::engine::apple::parse_apple_version(""));
  EXPECT_LT(version_of("0.9.0"), version_of("0.12.0"));  // numeric, not text order
}

TEST(AppleCli, SeesRunningAndStoppedContainersInBothJsonShapes) {
  for (const auto& version : kSampleVersions) {
    AppleCli cli(version_of(version));
    auto running = cli.parse_inspect(sample_output(version, "inspect-running"), sample_status(version, "inspect-running"));
    ASSERT_TRUE(running) << version;
    EXPECT_TRUE(running->running) << version;
    EXPECT_EQ(running->id, "demo");
    EXPECT_EQ(running->image, "docker.io/library/demo-image:latest");
    EXPECT_EQ(running->labels, (std::map<std::string, std::string>{{"purpose", "sample"}}));

    auto stopped = cli.parse_inspect(sample_output(version, "inspect-stopped"), sample_status(version, "inspect-stopped"));
    ASSERT_TRUE(stopped) << version << ": a stopped container must not look absent";
    EXPECT_FALSE(stopped->running) << version;
    EXPECT_EQ(stopped->id, "demo");
  }
}

TEST(AppleCli, AnUnknownNameIsAbsentWhetherTheCliSaysEmptyListOrError) {
  // 0.x prints [] and exits 0; 1.x prints "container not found" and exits 1.
  EXPECT_EQ(sample_status("0.5.0", "inspect-unknown"), 0);
  EXPECT_NE(sample_status("1.2.2", "inspect-unknown"), 0);
  for (const auto& version : kSampleVersions) {
    AppleCli cli(version_of(version));
    EXPECT_FALSE(cli.parse_inspect(sample_output(version, "inspect-unknown"), sample_status(version, "inspect-unknown")))
        << version;
  }
}

TEST(AppleCli, AServiceThatIsDownIsAnErrorNotAnAbsentContainer) {
  for (const auto& version : kSampleVersions) {
    AppleCli cli(version_of(version));
    EXPECT_THROW(cli.parse_inspect(sample_output(version, "service-down"), sample_status(version, "service-down")),
                 cc::Error)
        << version;
    EXPECT_THROW(cli.parse_image_inspect(sample_output(version, "service-down"), sample_status(version, "service-down")),
                 cc::Error)
        << version;
  }
  AppleCli cli(version_of("1.2.2"));
  EXPECT_THROW(cli.parse_inspect("{\"not\": \"a list\"}", 0), cc::Error);
}

TEST(AppleCli, ReadsImageLabelsAndMissingImages) {
  for (const auto& version : kSampleVersions) {
    AppleCli cli(version_of(version));
    auto labels = cli.parse_image_inspect(sample_output(version, "image-inspect"), sample_status(version, "image-inspect"));
    ASSERT_TRUE(labels) << version;
    EXPECT_EQ(*labels, (std::map<std::string, std::string>{{"purpose", "sample"}})) << version;
    EXPECT_FALSE(cli.parse_image_inspect(sample_output(version, "image-inspect-unknown"),
                                         sample_status(version, "image-inspect-unknown")))
        << version;
  }
}

TEST(AppleCli, RunArgumentsOnTheNewestRelease) {
  AppleCli cli(version_of("1.2.2"));
  const RunSpec spec = full_spec();
  EXPECT_TRUE(cli.unsupported(spec).empty());
  EXPECT_EQ(cli.run_args(spec),
            (Args{"run", "--detach", "--name", "demo-1a2b3c4d5e6f",
                  "--label", "dev.claude-container.key=demo-1a2b",
                  "--label", "dev.claude-container.project=/Users/dev/src/demo",
                  "--env", "HTTPS_PROXY", "--env", "TERM",  // values in the CLI's environment
                  "--workdir", "/workspace", "--user", "claude",
                  "--cpus", "2", "--memory", "4096M",
                  "--ulimit", "nproc=4096:4096", "--read-only", "--cap-drop", "ALL", "--network", "none",
                  "--volume", "demo-1a2b3c4d5e6f-workspace:/workspace",
                  "--volume", "/Users/dev/.claude-skills:/home/claude/.claude/skills:ro",
                  "--tmpfs", "/tmp",
                  // the host socket goes in by --volume: --publish-socket relays the other way
                  "--volume", "/Users/dev/state/host-network/sockets/proxy.sock:/run/claude-container/proxy.sock",
                  "claude-container-demo:3f1c7a0b", "/bin/sh", "-c", "exec sleep infinity"}));
}

TEST(AppleCli, CpusAndMemoryAreAlwaysPassed) {
  // Without them Apple's container gives 4 CPUs and 1 GiB, below Claude Code's need.
  AppleCli cli(version_of("1.2.2"));
  RunSpec spec;
  spec.name = "demo";
  spec.image = "img";
  Args args = cli.run_args(spec);
  EXPECT_EQ(args, (Args{"run", "--detach", "--name", "demo", "--cpus", "2", "--memory", "4096M", "img"}));
  spec.memory = (1536ull << 20) + 1;  // rounded up to whole MiB, never below what was asked
  spec.cpus = 0.25;
  args = cli.run_args(spec);
  EXPECT_EQ(args, (Args{"run", "--detach", "--name", "demo", "--cpus", "1", "--memory", "1537M", "img"}));
}

TEST(AppleCli, RefusesWhatEachOlderReleaseCannotEnforce) {
  const RunSpec spec = full_spec();
  auto joined = [](const std::vector<std::string>& lines) {
    std::string all;
    for (const auto& line : lines) all += line + "\n";
    return all;
  };
  // 0.5.0: no --network none, --read-only, --ulimit or --cap-drop.
  std::string refusals = joined(AppleCli(version_of("0.5.0")).unsupported(spec));
  EXPECT_NE(refusals.find("--network none"), std::string::npos) << refusals;
  EXPECT_NE(refusals.find("0.6.0 or later"), std::string::npos) << refusals;
  EXPECT_NE(refusals.find("--read-only"), std::string::npos) << refusals;
  EXPECT_NE(refusals.find("--ulimit"), std::string::npos) << refusals;
  EXPECT_NE(refusals.find("--cap-drop"), std::string::npos) << refusals;
  EXPECT_NE(refusals.find("update-container.sh"), std::string::npos) << refusals;
  // 0.8.0: only what came later.
  refusals = joined(AppleCli(version_of("0.8.0")).unsupported(spec));
  EXPECT_EQ(refusals.find("--network none"), std::string::npos) << refusals;
  EXPECT_EQ(refusals.find("--read-only"), std::string::npos) << refusals;
  EXPECT_NE(refusals.find("--ulimit"), std::string::npos) << refusals;
  EXPECT_NE(refusals.find("--cap-drop"), std::string::npos) << refusals;
  // 0.12.3 enforces all of it.
  EXPECT_TRUE(AppleCli(version_of("0.12.3")).unsupported(spec).empty());
  // Older than anything studied: refused whatever the spec.
  EXPECT_FALSE(AppleCli(version_of("0.4.1")).unsupported(RunSpec{.name = "demo", .image = "img"}).empty());
  // The settings only, not the version: a spec that needs none of it runs on 0.5.0.
  RunSpec plain;
  plain.name = "demo";
  plain.image = "img";
  plain.mounts = {{MountSpec::Kind::bind, "/Users/dev/src/demo", "/workspace", false}};
  EXPECT_TRUE(AppleCli(version_of("0.5.0")).unsupported(plain).empty());
}

TEST(AppleCli, RefusesHybridStorage) {
  RunSpec spec;
  spec.name = "demo";
  spec.image = "img";
  spec.mounts = {{MountSpec::Kind::overlay, "/Users/dev/src/demo", "/workspace", false, "/u", "/w"}};
  AppleCli cli(version_of("1.2.2"));
  ASSERT_EQ(cli.unsupported(spec).size(), 1u);
  EXPECT_NE(cli.unsupported(spec)[0].find("hybrid"), std::string::npos);
  EXPECT_FALSE(cli.supports_overlay_mounts());
}

// A listening unix socket at `path`, as the host side makes them.
cc::UniqueFd listen_at(const std::filesystem::path& path) {
  cc::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.string().copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << path;
  EXPECT_EQ(::listen(fd.get(), 1), 0);
  return fd;
}

TEST(AppleCli, TheHostSocketDirectoryGoesInOneSocketAtATime) {
  // A socket on a virtiofs share cannot be connected to from Apple's VM; a socket as a
  // `--volume` source is relayed. So the directory docker and podman mount whole becomes one
  // `--volume` per socket that exists.
  cc::test::TempDir dir("cc-apple-cli");
  auto proxy = listen_at(dir.path() / cc::engine::image::kProxySocketName);
  cc::write_file_atomic(dir.path() / "not-a-socket", "x");
  RunSpec spec;
  spec.name = "demo";
  spec.image = "img";
  spec.mounts = {{MountSpec::Kind::bind, dir.path().string(), cc::engine::image::kContainerSocketDir, true, "", ""}};
  AppleCli cli(version_of("1.2.2"));
  EXPECT_TRUE(cli.unsupported(spec).empty());
  EXPECT_EQ(cli.run_args(spec),
            (Args{"run", "--detach", "--name", "demo", "--cpus", "2", "--memory", "4096M", "--volume",
                  (dir.path() / "proxy.sock").string() + ":/run/claude-container/proxy.sock", "img"}));
  auto gateway = listen_at(dir.path() / cc::engine::image::kGatewaySocketName);
  const Args args = cli.run_args(spec);
  EXPECT_NE(std::find(args.begin(), args.end(),
                      (dir.path() / "gateway.sock").string() + ":/run/claude-container/gateway.sock"),
            args.end());
}

TEST(AppleCli, RefusesAHostSocketPathLongerThanMacOSAllows) {
  RunSpec spec;
  spec.name = "demo";
  spec.image = "img";
  spec.sockets = {{"/Users/dev/.local/state/claude-container/" + std::string(60, 'n') + ".apple/host-network/sockets/gateway.sock",
                   "/run/claude-container/gateway.sock"}};
  const auto refusals = AppleCli(version_of("1.2.2")).unsupported(spec);
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_NE(refusals[0].find("104 bytes"), std::string::npos) << refusals[0];
  // The host side's socket directory is judged before the host side has made its sockets.
  RunSpec with_dir;
  with_dir.name = "demo";
  with_dir.image = "img";
  with_dir.mounts = {{MountSpec::Kind::bind, "/Users/dev/.local/state/claude-container/" + std::string(50, 'n') +
                          ".apple/host-network/sockets", cc::engine::image::kContainerSocketDir, true, "", ""}};
  EXPECT_FALSE(AppleCli(version_of("1.2.2")).unsupported(with_dir).empty());
  // What the engine hands it for a Mac's default state directory with a long container key is
  // the short alias, which fits.
  const std::filesystem::path mac_state = "/Users/dev/.local/state/claude-container/" + std::string(50, 'n') + ".apple";
  RunSpec defaults;
  defaults.name = "demo";
  defaults.image = "img";
  defaults.mounts = {{MountSpec::Kind::bind,
                      cc::engine::image::choose_host_network_socket_dir(mac_state, "/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/", 501).string(),
                      cc::engine::image::kContainerSocketDir, true, "", ""}};
  EXPECT_EQ(AppleCli(version_of("1.2.2")).unsupported(defaults), std::vector<std::string>{});
}

TEST(AppleCli, RefusesPathsAndNamesItsParserCannotCarry) {
  AppleCli cli(version_of("1.2.2"));
  RunSpec spec;
  spec.name = "demo";
  spec.image = "img";
  spec.mounts = {{MountSpec::Kind::bind, "/Users/dev/a:b", "/workspace", false}};
  EXPECT_EQ(cli.unsupported(spec).size(), 1u);
  spec.mounts = {};
  spec.sockets = {{"/Users/dev/st:ate/proxy.sock", "/run/claude-container/proxy.sock"}};
  EXPECT_EQ(cli.unsupported(spec).size(), 1u);
  spec.sockets = {};
  spec.name = std::string(64, 'a');
  EXPECT_EQ(cli.unsupported(spec).size(), 1u);
  spec.name = "-demo";
  EXPECT_EQ(cli.unsupported(spec).size(), 1u);
  spec.name = "demo";
  spec.pids = 100;
  spec.user = "root";  // RLIMIT_NPROC does not bind root
  EXPECT_EQ(cli.unsupported(spec).size(), 1u);
}

TEST(AppleCli, LifecycleArgumentLists) {
  AppleCli cli(version_of("1.2.2"));
  cc::engine::image::BuildSpec build;
  build.tag = "claude-container-demo:3f1c7a0b";
  build.containerfile = "/Users/dev/src/demo/.claude-container/Containerfile";
  build.context_dir = "/Users/dev/src/demo/.claude-container";
  build.labels = {{"dev.claude-container.containerfile", "3f1c7a0b"}};
  build.build_args = {{"USER_UID", "501"}};
  EXPECT_EQ(cli.build_args(build),
            (Args{"build", "--tag", "claude-container-demo:3f1c7a0b", "--file",
                  "/Users/dev/src/demo/.claude-container/Containerfile", "--label",
                  "dev.claude-container.containerfile=3f1c7a0b", "--build-arg", "USER_UID=501",
                  "/Users/dev/src/demo/.claude-container"}));
  EXPECT_EQ(cli.start_args("demo"), (Args{"start", "demo"}));
  EXPECT_EQ(cli.stop_args("demo", std::chrono::seconds(10)), (Args{"stop", "--time", "10", "demo"}));
  EXPECT_EQ(cli.remove_args("demo"), (Args{"delete", "--force", "demo"}));
  EXPECT_EQ(cli.logs_args("demo", false), (Args{"logs", "demo"}));
  EXPECT_EQ(cli.logs_args("demo", true), (Args{"logs", "--follow", "demo"}));
  EXPECT_EQ(cli.inspect_args("demo"), (Args{"inspect", "demo"}));
  EXPECT_EQ(cli.image_inspect_args("img:1"), (Args{"image", "inspect", "img:1"}));
  EXPECT_EQ(cli.image_remove_args("img:1"), (Args{"image", "delete", "img:1"}));
  EXPECT_EQ(cli.volume_create_args("demo-ws", {{"dev.claude-container.key", "demo-1a2b"}}),
            (Args{"volume", "create", "--label", "dev.claude-container.key=demo-1a2b", "demo-ws"}));
  EXPECT_EQ(cli.volume_remove_args("demo-ws"), (Args{"volume", "delete", "demo-ws"}));
  EXPECT_EQ(cc::engine::apple::system_start_args(), (Args{"system", "start", "--enable-kernel-install"}));
  EXPECT_EQ(cc::engine::apple::system_status_args(), (Args{"system", "status"}));
  EXPECT_EQ(cc::engine::apple::version_args(), (Args{"--version"}));
}

TEST(AppleCli, ExecArgumentsForShellAndCommands) {
  AppleCli cli(version_of("1.2.2"));
  cc::engine::ExecRequest shell;
  shell.tty = true;
  shell.extra_env = {{"TERM", "xterm-256color"}};
  EXPECT_EQ(cli.exec_args("demo", shell, "claude"),
            (Args{"exec", "--interactive", "--tty", "--env", "TERM", "--user", "claude", "demo",
                  "/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi"}));
  cc::engine::ExecRequest command;
  command.argv = {"claude", "--version"};
  command.workdir = "/workspace/sub";
  EXPECT_EQ(cli.exec_args("demo", command, ""),
            (Args{"exec", "--interactive", "--workdir", "/workspace/sub", "demo", "claude", "--version"}));
}

}  // namespace
