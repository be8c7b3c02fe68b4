// The native engine through the binary, as root and as the unprivileged user cc-tester:
// lifecycle, persistence, destroy, racing starts, crash recovery.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/engine_env.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string describe(const CommandResult& r) { return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err; }

class NativeEngineTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  std::unique_ptr<EngineEnv> make(const std::string& storage = "volume", const std::string& policy = "none") {
    auto env = std::make_unique<EngineEnv>(GetParam(), storage, policy);
    return env;
  }
  json status_json(const EngineEnv& env) {
    auto r = env.cli({"--json", "status"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return json::parse(r.out);
  }
  void start(const EngineEnv& env) {
    auto r = env.cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
};

#define REQUIRE_USABLE(env) \
  CC_SKIP_UNLESS_FEATURE((env)->usable(), (env)->feature()) << (env)->why_unusable()

bool process_exists(pid_t pid) { return process_running(pid); }

// Waits (bounded) for a condition that depends on other processes; no timing is asserted.
template <typename F>
bool eventually(F condition, int seconds = 20) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

TEST_P(NativeEngineTest, LifecycleRoundTrip) {
  auto env = make();
  REQUIRE_USABLE(env);
  EXPECT_EQ(status_json(*env)["state"], "not-created");

  auto first = env->cli({"start"});
  ASSERT_EQ(first.exit_code, 0) << describe(first);
  auto again = env->cli({"start"});
  EXPECT_EQ(again.exit_code, 0) << describe(again);

  json running = status_json(*env);
  EXPECT_EQ(running["state"], "running");
  EXPECT_EQ(running["engine"], "native");
  ASSERT_TRUE(running["pid"].is_number()) << running.dump();
  ASSERT_TRUE(running["supervisor_pid"].is_number()) << running.dump();
  pid_t init = running["pid"].get<pid_t>();
  pid_t supervisor = running["supervisor_pid"].get<pid_t>();
  EXPECT_TRUE(process_exists(init));
  EXPECT_TRUE(process_exists(supervisor));
  EXPECT_TRUE(fs::exists(env->state_dir() / "state.json"));

  auto echo = env->exec({"cat", "/workspace/README.md"});
  EXPECT_EQ(echo.exit_code, 0) << describe(echo);
  EXPECT_EQ(echo.out, "hello from the project\n");

  auto stop = env->cli({"stop"});
  EXPECT_EQ(stop.exit_code, 0) << describe(stop);
  EXPECT_EQ(status_json(*env)["state"], "stopped");
  EXPECT_FALSE(process_exists(init));
  EXPECT_TRUE(eventually([&] { return !process_exists(supervisor); }));
  EXPECT_FALSE(fs::exists(env->state_dir() / "state.json"));

  start(*env);
  EXPECT_EQ(status_json(*env)["state"], "running");
  auto logs = env->cli({"logs"});
  EXPECT_EQ(logs.exit_code, 0);
  EXPECT_NE(logs.out.find("running as pid 1"), std::string::npos) << logs.out;

  auto destroy = env->cli({"destroy", "--yes"});
  EXPECT_EQ(destroy.exit_code, 0) << describe(destroy);
  EXPECT_EQ(status_json(*env)["state"], "not-created");
  EXPECT_FALSE(fs::exists(env->state_dir()));
  EXPECT_FALSE(fs::exists(env->container_data()));
  EXPECT_TRUE(fs::exists(env->project() / "README.md"));
  EXPECT_TRUE(fs::exists(env->project() / ".claude-container" / "config.json"));
}

TEST_P(NativeEngineTest, ExecWhenStoppedSaysSo) {
  auto env = make();
  REQUIRE_USABLE(env);
  auto r = env->exec({"true"});
  EXPECT_EQ(r.exit_code, 3) << describe(r);
  EXPECT_NE(r.err.find("start"), std::string::npos) << r.err;
}

TEST_P(NativeEngineTest, VolumeAndHomeSurviveStopStart) {
  auto env = make("volume");
  REQUIRE_USABLE(env);
  env->write_project_file(".git/HEAD", "ref: refs/heads/main\n");
  start(*env);
  auto git = env->exec({"cat", "/workspace/.git/HEAD"});
  EXPECT_EQ(git.out, "ref: refs/heads/main\n") << describe(git);
  auto w = env->exec({"sh", "-c", "echo kept > /workspace/data.txt && echo home > /root/.profile-marker"});
  ASSERT_EQ(w.exit_code, 0) << describe(w);
  // The volume is a copy: the project itself is untouched.
  EXPECT_FALSE(fs::exists(env->project() / "data.txt"));
  ASSERT_EQ(env->cli({"stop"}).exit_code, 0);
  start(*env);
  auto r = env->exec({"cat", "/workspace/data.txt", "/root/.profile-marker"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "kept\nhome\n");
}

TEST_P(NativeEngineTest, HybridOverlaySurvivesAndAppliesOrDiscards) {
  auto env = make("hybrid");
  REQUIRE_USABLE(env);
  env->write_project_file("gone.txt", "delete me\n");
  env->write_project_file("src/main.c", "int main() { return 0; }\n");
  start(*env);
  auto w = env->exec({"sh", "-c",
                      "echo changed >> /workspace/README.md && rm /workspace/gone.txt && echo new > /workspace/src/new.txt"});
  ASSERT_EQ(w.exit_code, 0) << describe(w);
  // The project is the read-only lower layer: untouched until apply.
  EXPECT_TRUE(fs::exists(env->project() / "gone.txt"));
  ASSERT_EQ(env->cli({"stop"}).exit_code, 0);
  start(*env);
  auto seen = env->exec({"sh", "-c", "cat /workspace/README.md /workspace/src/new.txt; ls /workspace"});
  EXPECT_EQ(seen.out.substr(0, 35), "hello from the project\nchanged\nnew\n") << describe(seen);
  EXPECT_NE(seen.out.find("src\n"), std::string::npos) << describe(seen);
  EXPECT_EQ(seen.out.find("gone.txt"), std::string::npos);

  auto names = env->cli({"diff", "--names"});
  EXPECT_EQ(names.exit_code, 0) << describe(names);
  EXPECT_NE(names.out.find("README.md"), std::string::npos) << names.out;
  EXPECT_NE(names.out.find("gone.txt"), std::string::npos) << names.out;
  EXPECT_NE(names.out.find("src/new.txt"), std::string::npos) << names.out;
  auto diff = env->cli({"diff"});
  EXPECT_NE(diff.out.find("+changed"), std::string::npos) << describe(diff);

  // Discard refuses while running.
  auto refused = env->cli({"discard", "--yes"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("stop"), std::string::npos) << refused.err;

  // apply takes only a frozen layer, and only the set whose digest was reviewed.
  auto live = env->cli({"apply"});
  EXPECT_NE(live.exit_code, 0);
  EXPECT_NE(live.err.find("stop it first"), std::string::npos) << live.err;
  ASSERT_EQ(env->cli({"stop"}).exit_code, 0);
  auto unconfirmed = env->cli({"apply"});
  EXPECT_EQ(unconfirmed.exit_code, 2) << describe(unconfirmed);
  EXPECT_NE(unconfirmed.err.find("--digest"), std::string::npos) << unconfirmed.err;
  auto reviewed = nlohmann::json::parse(env->cli({"--json", "diff"}).out);
  auto apply = env->cli({"apply", "--digest", reviewed["digest"].get<std::string>()});
  ASSERT_EQ(apply.exit_code, 0) << describe(apply);
  std::ifstream readme(env->project() / "README.md");
  std::string content((std::istreambuf_iterator<char>(readme)), {});
  EXPECT_EQ(content, "hello from the project\nchanged\n");
  EXPECT_FALSE(fs::exists(env->project() / "gone.txt"));
  EXPECT_TRUE(fs::exists(env->project() / "src" / "new.txt"));

  // A further change, then discard after stopping.
  start(*env);
  ASSERT_EQ(env->exec({"sh", "-c", "echo scratch > /workspace/scratch.txt"}).exit_code, 0);
  ASSERT_EQ(env->cli({"stop"}).exit_code, 0);
  auto discard = env->cli({"discard", "--yes"});
  EXPECT_EQ(discard.exit_code, 0) << describe(discard);
  start(*env);
  auto after = env->exec({"ls", "/workspace"});
  EXPECT_EQ(after.out.find("scratch.txt"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("README.md"), std::string::npos) << after.out;
}

TEST_P(NativeEngineTest, WorkspaceCommandsNeedAChangeLayer) {
  auto env = make("bind");
  REQUIRE_USABLE(env);
  start(*env);
  auto r = env->cli({"diff"});
  EXPECT_EQ(r.exit_code, 3) << describe(r);
  EXPECT_NE(r.err.find("hybrid or volume"), std::string::npos) << r.err;
}

TEST_P(NativeEngineTest, DestroyRemovesOnlyWhatItOwns) {
  auto env = make("bind");
  REQUIRE_USABLE(env);
  // Neighbours in the same directories, owned by somebody else's container.
  const fs::path neighbour = env->data_base() / ("neighbour-" + env->name());
  fs::create_directories(neighbour);
  fs::permissions(env->data_base(), fs::perms::owner_all);
  std::ofstream(neighbour / "keep") << "x";
  if (env->data_base().string().rfind(env->root().string(), 0) == 0) env->chown_tree(env->data_dir());
  start(*env);
  ASSERT_EQ(env->exec({"sh", "-c", "echo made-inside > /workspace/inside.txt"}).exit_code, 0);
  auto d = env->cli({"destroy", "--yes"});
  ASSERT_EQ(d.exit_code, 0) << describe(d);
  EXPECT_FALSE(fs::exists(env->container_data()));
  EXPECT_FALSE(fs::exists(env->state_dir()));
  EXPECT_TRUE(fs::exists(neighbour / "keep"));
  fs::remove_all(neighbour);
  // Bind storage: the project and what was written into it stay.
  EXPECT_TRUE(fs::exists(env->project() / "inside.txt"));
  EXPECT_TRUE(fs::exists(env->project() / "README.md"));
}

TEST_P(NativeEngineTest, BindMountFilesBelongToTheInvokingUser) {
  auto env = make("bind");
  REQUIRE_USABLE(env);
  start(*env);
  auto r = env->exec({"sh", "-c", "echo x > /workspace/owned.txt && mkdir /workspace/dir && id -u"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, "0\n");  // root inside
  struct stat st {};
  ASSERT_EQ(::stat((env->project() / "owned.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, env->uid());
  EXPECT_EQ(st.st_gid, env->gid());
  ASSERT_EQ(::stat((env->project() / "dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, env->uid());
}

TEST_P(NativeEngineTest, RacingStartsProduceOneContainer) {
  auto env = make();
  REQUIRE_USABLE(env);
  std::vector<std::future<CommandResult>> starts;
  for (int i = 0; i < 4; ++i) starts.push_back(std::async(std::launch::async, [&] { return env->cli({"start"}); }));
  for (auto& f : starts) {
    auto r = f.get();
    EXPECT_EQ(r.exit_code, 0) << describe(r);
  }
  json s = status_json(*env);
  ASSERT_EQ(s["state"], "running");
  // Exactly one supervisor carries this project's path (in its command line), and pid 1 is its child.
  auto processes = processes_mentioning(env->project().string());
  ASSERT_EQ(processes.size(), 1u);
  EXPECT_EQ(processes[0], s["supervisor_pid"].get<pid_t>());
  std::ifstream stat("/proc/" + std::to_string(s["pid"].get<pid_t>()) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  auto close = text.rfind(')');
  ASSERT_NE(close, std::string::npos) << text;
  pid_t parent = 0;
  ASSERT_EQ(std::sscanf(text.c_str() + close + 2, "%*c %d", &parent), 1) << text;
  EXPECT_EQ(parent, processes[0]);
}

TEST_P(NativeEngineTest, KilledSupervisorLeavesNothingAndIsDetected) {
  auto env = make();
  REQUIRE_USABLE(env);
  start(*env);
  // A long-running command inside, started through exec and left running.
  auto background = std::async(std::launch::async, [&] { return env->exec({"sleep", "300"}); });
  // The supervisor, and the exec's CLI and its helper (pid 1 names no project).
  ASSERT_TRUE(eventually([&] { return processes_mentioning(env->project().string()).size() >= 3; }));
  json s = status_json(*env);
  pid_t supervisor = s["supervisor_pid"].get<pid_t>();
  pid_t init = s["pid"].get<pid_t>();
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  EXPECT_TRUE(eventually([&] { return processes_mentioning(env->project().string()).empty(); }))
      << "left behind: " << processes_mentioning(env->project().string()).size();
  // Its command line goes as soon as it dies; the pid stays until its new parent reaps it.
  EXPECT_TRUE(eventually([&] { return !process_exists(init); }));
  auto r = background.get();
  EXPECT_EQ(r.exit_code, 137) << describe(r);  // the command was killed with the container

  json after = status_json(*env);
  EXPECT_EQ(after["state"], "stopped");
  ASSERT_FALSE(after["notes"].empty()) << after.dump();
  EXPECT_NE(after["notes"][0].get<std::string>().find("ended without stopping the container cleanly"), std::string::npos)
      << after.dump();
  // And it starts again cleanly.
  start(*env);
  EXPECT_EQ(status_json(*env)["state"], "running");
}

TEST_P(NativeEngineTest, StateFromBeforeARebootIsCleanedWithANote) {
  auto env = make();
  REQUIRE_USABLE(env);
  start(*env);
  json s = status_json(*env);
  pid_t supervisor = s["supervisor_pid"].get<pid_t>();
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return !process_exists(s["pid"].get<pid_t>()); }));
  // What a reboot leaves when the state lives on a persistent disk: the file, another boot id.
  fs::path state_file = env->state_dir() / "state.json";
  ASSERT_TRUE(fs::exists(state_file));
  std::ifstream in(state_file);
  json state = json::parse(in);
  in.close();
  state["boot_id"] = "00000000-0000-0000-0000-000000000000";
  std::ofstream(state_file, std::ios::trunc) << state.dump();
  json after = status_json(*env);
  EXPECT_EQ(after["state"], "stopped");
  ASSERT_FALSE(after["notes"].empty()) << after.dump();
  EXPECT_NE(after["notes"][0].get<std::string>().find("machine restarted"), std::string::npos) << after.dump();
  EXPECT_FALSE(fs::exists(state_file));
}

TEST_P(NativeEngineTest, LogsFollowEndsWhenTheContainerStops) {
  auto env = make();
  REQUIRE_USABLE(env);
  start(*env);
  auto follow = std::async(std::launch::async, [&] { return env->cli({"logs", "-f"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(env->cli({"stop"}).exit_code, 0);
  auto r = follow.get();
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.out.find("running as pid 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("container stopped"), std::string::npos) << r.out;
}

TEST_P(NativeEngineTest, HalfCreatedContainerIsRebuilt) {
  auto env = make();
  REQUIRE_USABLE(env);
  // What an interrupted first start leaves: data without the creation marker.
  fs::create_directories(env->container_data() / "workspace.partial");
  fs::permissions(env->data_base(), fs::perms::owner_all);
  fs::permissions(env->container_data(), fs::perms::owner_all);
  if (env->data_base().string().rfind(env->root().string(), 0) == 0) env->chown_tree(env->data_dir());
  auto r = env->cli({"start"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("half-created"), std::string::npos) << describe(r);
  EXPECT_EQ(env->exec({"cat", "/workspace/README.md"}).out, "hello from the project\n");
}

INSTANTIATE_TEST_SUITE_P(Users, NativeEngineTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
