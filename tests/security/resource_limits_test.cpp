// Resource exhaustion from inside a running container, as root and as the unprivileged user
// cc-tester, each attack stopped by a named mechanism, each followed by a working `stop`:
//  - a fork bomb stops at the process limit (RLIMIT_NPROC; as root also the pids cgroup) and the
//    host can still start processes;
//  - filling /tmp stops at the tmpfs size (ENOSPC);
//  - a memory hog is killed at the memory limit by the memory cgroup's OOM killer (root, where a
//    memory cgroup is writable), and status and logs say it was an OOM;
//  - status tells, per limit, whether and how it holds: a cgroup limit only when pid 1 is in it.
// And the cgroup v2 placement against the kernel's no-internal-process rule on a real cgroup2
// mount (root). Every attack is bounded by itself (counted loops, head -c), so a regression
// cannot take the machine down; every command has a timeout.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/magic.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "engine/native/cgroups.hpp"
#include "support/engine_env.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// controller ("" for v2) -> path, from /proc/<pid>/cgroup.
std::map<std::string, std::string> cgroups_of(pid_t pid) {
  std::map<std::string, std::string> paths;
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/cgroup"));
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    std::string controllers = line.substr(first + 1, second - first - 1);
    if (controllers.empty()) paths[""] = line.substr(second + 1);
    std::istringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');) paths[c] = line.substr(second + 1);
  }
  return paths;
}

template <typename F>
bool eventually(F condition, int seconds = 20) {
  for (int i = 0; i < seconds * 10; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return condition();
}

class ResourceLimits : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    // EngineEnv's config: 1 cpu, 512m memory, 512 pids.
    env_ = std::make_unique<EngineEnv>(GetParam(), "volume", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    auto r = env_->cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  json status() const {
    auto r = env_->cli({"--json", "status"}, "", 30);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    return json::parse(r.out);
  }
  std::map<std::string, json> limits() const {
    std::map<std::string, json> out;
    const json s = status();
    for (const auto& l : s["limits"]) out[l["name"].get<std::string>()] = l;
    return out;
  }
  CommandResult sh(const std::string& script, int timeout = 90) const {
    return env_->cli({"exec", "--", "/bin/sh", "-c", script}, "", timeout);
  }
  // `stop` ends the container whatever the attack left running inside.
  void expect_stop_works() {
    pid_t init = status()["pid"].get<pid_t>();
    auto r = env_->cli({"stop"}, "", 60);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_EQ(status()["state"], "stopped");
    EXPECT_TRUE(eventually([&] { return !process_running(init); }));
  }
  std::unique_ptr<EngineEnv> env_;
};

TEST_P(ResourceLimits, StatusSaysHowEachLimitHolds) {
  auto l = limits();
  ASSERT_TRUE(l.count("memory") && l.count("pids") && l.count("rlimit_nproc") && l.count("tmpfs /tmp"))
      << status().dump(2);
  pid_t init = status()["pid"].get<pid_t>();
  auto in = cgroups_of(init);
  for (const char* name : {"memory", "pids", "cpus"}) {
    const auto& limit = l[name];
    const std::string reason = limit["reason"];
    if (limit["enforced"].get<bool>()) {
      // Enforced means pid 1 is in the cgroup the reason names.
      auto open = reason.rfind('('), close = reason.rfind(')');
      ASSERT_NE(open, std::string::npos) << reason;
      std::string dir = reason.substr(open + 1, close - open - 1);
      std::string controller = std::string(name) == "cpus" ? "cpu" : name;
      bool v2 = reason.rfind("cgroup v2", 0) == 0;
      std::string path = v2 ? in[""] : in[controller];
      EXPECT_FALSE(path.empty() || path == "/") << name << ": " << reason;
      EXPECT_EQ(dir.substr(dir.size() - path.size()), path) << name << ": " << reason;
    } else {
      // Why not, and what holds instead.
      EXPECT_NE(reason.find("cgroup"), std::string::npos) << reason;
      const std::string instead = std::string(name) == "pids"     ? "RLIMIT_NPROC still bounds"
                                  : std::string(name) == "memory" ? "nothing else bounds the container's memory"
                                                                  : "nothing else bounds its CPU time";
      EXPECT_NE(reason.find(instead), std::string::npos) << reason;
    }
  }
  if (GetParam() == EngineUser::unprivileged) {
    // Without a cgroup delegated to cc-tester nothing bounds memory, and status says so.
    std::string own = cgroups_of(::getpid())[""];
    fs::path v2 = fs::exists("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
    struct stat st {};
    bool delegated = ::stat((v2 / fs::path(own).relative_path()).c_str(), &st) == 0 && st.st_uid == env_->uid();
    if (!delegated) {
      EXPECT_FALSE(l["memory"]["enforced"].get<bool>()) << l["memory"].dump();
      EXPECT_FALSE(l["pids"]["enforced"].get<bool>()) << l["pids"].dump();
    }
  }
  // The floor everywhere: rlimits and tmpfs sizes, with the values the processes really have.
  EXPECT_EQ(l["rlimit_nproc"]["value"], "512");
  EXPECT_TRUE(l["rlimit_nproc"]["enforced"].get<bool>());
  EXPECT_EQ(l["rlimit_fsize"]["value"], "2147483648");
  EXPECT_EQ(l["tmpfs /tmp"]["value"], "256m");
  auto r = sh("cat /proc/self/limits; grep ' /tmp ' /proc/mounts");
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(std::regex_search(r.out, std::regex("Max processes +512 +512"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("Max file size +2147483648 +2147483648"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("Max open files +" + l["rlimit_nofile"]["value"].get<std::string>())))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("Max core file size +0 +0"))) << r.out;
  EXPECT_NE(r.out.find("size=262144k"), std::string::npos) << r.out;
}

// Mechanism under test: status's own check. A cgroup limit whose control file was written but
// whose cgroup pid 1 has left is reported as not enforced, with where pid 1 is instead.
// Root only: moving pid 1 between cgroups needs the hierarchy's owner.
class RootResourceLimits : public ResourceLimits {};

TEST_P(RootResourceLimits, StatusStopsClaimingALimitOncePidOneLeavesItsCgroup) {
  auto l = limits();
  CC_SKIP_UNLESS_FEATURE(l["memory"]["enforced"].get<bool>(), "cgroup-v1")
      << "needs a memory cgroup that root may move pid 1 out of";
  std::string reason = l["memory"]["reason"];
  std::string dir = reason.substr(reason.rfind('(') + 1);
  dir.pop_back();
  pid_t init = status()["pid"].get<pid_t>();
  // Out of the container's memory cgroup into its parent (the hierarchy is v1 or v2 alike).
  std::ofstream(fs::path(dir).parent_path() / "cgroup.procs") << init << std::flush;
  const std::string now_in = cgroups_of(init)[reason.rfind("cgroup v2", 0) == 0 ? "" : "memory"];
  ASSERT_EQ(now_in.find("claude-container-"), std::string::npos) << "pid 1 did not move: " << now_in;
  auto after = limits();
  EXPECT_FALSE(after["memory"]["enforced"].get<bool>()) << after["memory"].dump();
  EXPECT_NE(after["memory"]["reason"].get<std::string>().find("pid 1 is not in " + dir), std::string::npos)
      << after["memory"].dump();
  expect_stop_works();
}

// Mechanism: RLIMIT_NPROC (per uid in the container's user namespace); as root on a machine
// with a writable pids cgroup, pids.max as well.
TEST_P(ResourceLimits, ForkBombStopsAtTheProcessLimitAndTheHostStaysResponsive) {
  // At most 1500 sleepers even if nothing stopped it; each records the count without forking.
  auto r = sh("/bin/sh -c 'i=0; while [ $i -lt 1500 ]; do sleep 120 </dev/null >/dev/null 2>&1 & i=$((i+1)); echo $i > /tmp/forks; done'; "
              "read n < /tmp/forks; echo forks=$n");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("forks=([0-9]+)"))) << describe(r);
  int forks = std::stoi(m[1]);
  EXPECT_LT(forks, 512) << describe(r);
  EXPECT_GT(forks, 100) << "the bomb stopped early for another reason: " << describe(r);
  EXPECT_NE(r.err.find("Cannot fork"), std::string::npos) << describe(r);

  // While the container is full, the host (as the same user) still starts processes.
  auto host = run_command({"/bin/sh", "-c", "/bin/echo alive"}, env_->options("", 30));
  EXPECT_EQ(host.exit_code, 0) << describe(host);
  EXPECT_EQ(host.out, "alive\n");
  auto l = limits();
  if (l["pids"]["enforced"].get<bool>()) {
    std::string reason = l["pids"]["reason"];
    std::string dir = reason.substr(reason.rfind('(') + 1);
    dir.pop_back();
    EXPECT_LE(std::stoi(read_text(fs::path(dir) / "pids.current")), 512);
  }
  expect_stop_works();
}

// Mechanism: the tmpfs size= option on /tmp (memory/2).
TEST_P(ResourceLimits, FillingTmpStopsAtItsSize) {
  auto r = sh("head -c 300m /dev/zero > /tmp/fill; echo rc=$?; stat -c size=%s /tmp/fill", 60);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << describe(r);
  EXPECT_NE(r.out.find("rc=1"), std::string::npos) << describe(r);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("size=([0-9]+)"))) << describe(r);
  EXPECT_LE(std::stoll(m[1]), 256ll << 20);
  expect_stop_works();
}

// Mechanism: the memory cgroup's OOM killer (v1 memory.limit_in_bytes here, v2 memory.max),
// which picks only processes of the container's cgroup.
TEST_P(ResourceLimits, MemoryHogIsKilledAtTheMemoryLimitAndStatusAndLogsSaySo) {
  auto l = limits();
  // Root gets a memory cgroup from cgroup v1 (required on CI); an unprivileged user only from a
  // cgroup v2 subtree delegated to it, which CI machines do not have.
  CC_SKIP_UNLESS_FEATURE(l["memory"]["enforced"].get<bool>(),
                         GetParam() == EngineUser::root ? "cgroup-v1" : "cgroup-v2-delegated")
      << "no memory cgroup bounds this container here: " << l["memory"]["reason"].get<std::string>();
  // tail -n 1 keeps a line without a newline whole: it grows until killed, 1000m at most.
  auto r = sh("head -c 1000m /dev/zero | tail -n 1 > /dev/null; echo tail=$?", 120);
  EXPECT_NE(r.out.find("tail=137"), std::string::npos) << describe(r);
  bool said = false;
  const json now = status();
  for (const auto& note : now["notes"]) said = said || note.get<std::string>().rfind("since start, out of memory: ", 0) == 0;
  EXPECT_TRUE(said) << now.dump(2);
  EXPECT_TRUE(eventually([&] { return env_->cli({"logs"}, "", 30).out.find("out of memory: ") != std::string::npos; }))
      << env_->cli({"logs"}).out;
  // Only the hog died: the container still runs.
  auto alive = sh("echo still here", 30);
  EXPECT_EQ(alive.out, "still here\n") << describe(alive);
  expect_stop_works();
  // Stopped, status still says what happened in that run.
  bool remembered = false;
  const json stopped = status();
  for (const auto& note : stopped["notes"]) {
    remembered = remembered || note.get<std::string>().rfind("in its last run, out of memory", 0) == 0;
  }
  EXPECT_TRUE(remembered) << stopped.dump(2);
}

INSTANTIATE_TEST_SUITE_P(Users, ResourceLimits, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });
INSTANTIATE_TEST_SUITE_P(Root, RootResourceLimits, ::testing::Values(EngineUser::root),
                         [](const auto& info) { return to_string(info.param); });

// A child that waits to be killed, standing in for the supervisor or a foreign process.
struct Sleeper {
  pid_t pid = ::fork();
  Sleeper() {
    if (pid == 0) {
      ::alarm(120);  // bounded even if the test dies
      for (;;) ::pause();
    }
  }
  ~Sleeper() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

bool write_file(const fs::path& file, const std::string& value) {
  std::ofstream out(file);
  out << value;
  out.flush();
  return static_cast<bool>(out);
}

// Mechanism under test: the kernel's no-internal-process rule on a real cgroup2 mount. A cgroup
// that holds a foreign process cannot hand controllers down (EBUSY, and everything moved goes
// back); once only claude-container's processes are there, they leave for the supervisor leaf
// and the container leaf gets the controller.
TEST(CgroupV2Leaf, TheSupervisorLeavesForALeafBeforeControllersAreEnabled) {
  fs::path mount;
  struct statfs st {};
  for (const char* m : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    if (mount.empty() && ::statfs(m, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) mount = m;
  }
  std::string controller;
  std::istringstream offered(read_text(mount / "cgroup.controllers"));
  offered >> controller;
  CC_SKIP_UNLESS_FEATURE(::geteuid() == 0 && !mount.empty() && !controller.empty(), "cgroup-v2")
      << "needs root and a cgroup2 mount offering some controller";
  const bool enabled_here = !engine::native::has_token(read_text(mount / "cgroup.subtree_control"), controller);
  if (enabled_here) {
    ASSERT_TRUE(write_file(mount / "cgroup.subtree_control", "+" + controller));
  }
  const std::string own = "/cc-limits-test-" + std::to_string(::getpid());
  const fs::path d = mount / fs::path(own).relative_path();
  ASSERT_TRUE(fs::create_directory(d));
  {
    Sleeper supervisor, foreign;
    ASSERT_TRUE(write_file(d / "cgroup.procs", std::to_string(supervisor.pid)));
    ASSERT_TRUE(write_file(d / "cgroup.procs", std::to_string(foreign.pid)));

    auto refused = engine::native::place_in_v2_leaf(mount, own, "k", {controller, "nonexistent"}, {supervisor.pid});
    EXPECT_TRUE(refused.container_dir.empty());
    EXPECT_NE(refused.why_not.find("still holds 1 process"), std::string::npos) << refused.why_not;
    EXPECT_EQ(cgroups_of(supervisor.pid)[""], own) << "moved back where it was";
    EXPECT_FALSE(fs::exists(d / "claude-container-k"));

    ASSERT_TRUE(write_file(mount / "cgroup.procs", std::to_string(foreign.pid)));  // the foreign one leaves
    auto placed = engine::native::place_in_v2_leaf(mount, own, "k", {controller, "nonexistent"}, {supervisor.pid});
    EXPECT_EQ(placed.container_dir, (d / "claude-container-k/container").string()) << placed.why_not;
    EXPECT_EQ(placed.enabled, std::vector<std::string>{controller});
    EXPECT_NE(placed.why_not.find("nonexistent"), std::string::npos) << placed.why_not;
    EXPECT_EQ(cgroups_of(supervisor.pid)[""], own + "/claude-container-k/supervisor");
    EXPECT_TRUE(engine::native::has_token(read_text(d / "claude-container-k/container/cgroup.controllers"), controller));
    // The container leaf takes pid 1.
    Sleeper init;
    EXPECT_EQ(engine::native::join_cgroups({placed.container_dir}, init.pid), "");
    EXPECT_EQ(cgroups_of(init.pid)[""], own + "/claude-container-k/container");
    ASSERT_TRUE(write_file(mount / "cgroup.procs", std::to_string(init.pid)));
    ASSERT_TRUE(write_file(mount / "cgroup.procs", std::to_string(supervisor.pid)));
  }
  // Sleepers are dead; the layout goes with remove_cgroup_dir.
  EXPECT_TRUE(eventually([&] {
    engine::native::remove_cgroup_dir((d / "claude-container-k/container").string());
    return !fs::exists(d / "claude-container-k");
  }));
  ::rmdir(d.c_str());
  // Back as it was; the kernel refuses (harmlessly) while another cgroup hands it down.
  if (enabled_here) write_file(mount / "cgroup.subtree_control", "-" + controller);
  EXPECT_FALSE(fs::exists(d));
}

}  // namespace
}  // namespace cc::test
