// The logic under the resource limits, against text and a fake cgroupfs tree of real files:
// exact controller tokens, "enforced" only for the cgroup pid 1 is in, rlimit and tmpfs values
// derived from the config, the OOM counters of v1 and v2. The kernel's side (a real cgroup2
// mount, real limits in a running container) is tests/security/resource_limits_test.cpp.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "engine/native/cgroups.hpp"
#include "engine/native/oom_watch.hpp"
#include "engine/native/resource_limits.hpp"
#include "engine/native/rootfs.hpp"
#include "support/temp_dir.hpp"

namespace cc::engine::native {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

TEST(CgroupTokens, CpuIsNotCpuset) {
  EXPECT_FALSE(has_token("cpuset io memory pids", "cpu"));
  EXPECT_TRUE(has_token("cpuset cpu io", "cpu"));
  EXPECT_TRUE(has_token("cpu\n", "cpu"));
  EXPECT_FALSE(has_token("cpuacct", "cpu"));
  EXPECT_TRUE(has_token("cpu,cpuacct", "cpu"));   // /proc/<pid>/cgroup, v1
  EXPECT_FALSE(has_token("cpuset", "cpu"));
  EXPECT_FALSE(has_token("", "cpu"));
}

TEST(CgroupPlacement, AHierarchyWithoutTheControllersSaysWhichAreMissing) {
  test::TempDir tmp("cc-cgfake");
  write(tmp / "user/cgroup.controllers", "cpuset hugetlb\n");
  write(tmp / "user/cgroup.subtree_control", "");
  auto placed = place_in_v2_leaf(tmp.path(), "/user", "k", {"memory", "pids", "cpu"}, {});
  EXPECT_TRUE(placed.container_dir.empty());
  EXPECT_TRUE(placed.enabled.empty());
  // cpuset is offered, cpu is not: the reason names cpu as missing.
  EXPECT_NE(placed.why_not.find("offers no memory, pids, cpu controller"), std::string::npos) << placed.why_not;
  EXPECT_FALSE(fs::exists(tmp / "user/claude-container-k"));
}

TEST(CgroupPlacement, ALeafLayoutIsBuiltBeneathTheDelegatedCgroup) {
  // A fake tree takes any write, so this checks the layout and the controller bookkeeping;
  // the kernel's no-internal-process rule is tested on a real cgroup2 mount.
  test::TempDir tmp("cc-cgfake");
  write(tmp / "d/cgroup.controllers", "cpu memory\n");
  write(tmp / "d/cgroup.subtree_control", "");
  write(tmp / "d/claude-container-k/cgroup.subtree_control", "");
  write(tmp / "d/claude-container-k/container/cgroup.controllers", "memory cpu\n");
  auto placed = place_in_v2_leaf(tmp.path(), "/d", "k", {"memory", "pids", "cpu"}, {});
  EXPECT_EQ(placed.container_dir, (tmp / "d/claude-container-k/container").string()) << placed.why_not;
  EXPECT_EQ(placed.enabled, (std::vector<std::string>{"memory", "cpu"}));
  EXPECT_NE(placed.why_not.find("offers no pids"), std::string::npos) << placed.why_not;
  EXPECT_TRUE(fs::is_directory(tmp / "d/claude-container-k/supervisor"));
}

TEST(CgroupPaths, OnlyThisContainersCgroupsAreJoinedOrRemoved) {
  EXPECT_TRUE(is_container_cgroup("/sys/fs/cgroup/memory/a/claude-container-k", "k"));
  EXPECT_TRUE(is_container_cgroup("/sys/fs/cgroup/u/claude-container-k/container", "k"));
  EXPECT_FALSE(is_container_cgroup("/sys/fs/cgroup/u/claude-container-k/supervisor", "k"));
  EXPECT_FALSE(is_container_cgroup("/sys/fs/cgroup/u/claude-container-x/container", "k"));
  EXPECT_FALSE(is_container_cgroup("/sys/fs/cgroup/../etc/claude-container-k", "k"));
  EXPECT_FALSE(is_container_cgroup("/tmp/claude-container-k", "k"));
}

TEST(CgroupTruth, EnforcedOnlyWhilePidOneIsInTheCgroup) {
  const std::string dir = "/sys/fs/cgroup/memory/a/claude-container-k";
  const std::string v2dir = "/sys/fs/cgroup/unified/d/claude-container-k/container";
  std::vector<LimitStatus> limits = {
      {"memory", "512m", true, "cgroup v1 memory controller (" + dir + ")"},
      {"pids", "512", true, "cgroup v2 pids controller (" + v2dir + ")"},
      {"cpus", "1", false, "not enforced: no cgroup"},
      {"rlimit_nproc", "512", true, "RLIMIT_NPROC"},
  };
  auto in = limits;
  verify_cgroup_limits("4:memory:/a/claude-container-k\n0::/d/claude-container-k/container\n",
                       {dir, v2dir}, in);
  EXPECT_TRUE(in[0].enforced) << in[0].reason;
  EXPECT_TRUE(in[1].enforced) << in[1].reason;
  EXPECT_FALSE(in[2].enforced);
  EXPECT_TRUE(in[3].enforced);

  // pid 1 left (or never joined) the memory cgroup; the v2 line names another cgroup.
  auto out = limits;
  verify_cgroup_limits("4:memory:/a\n0::/elsewhere\n", {dir, v2dir}, out);
  EXPECT_FALSE(out[0].enforced);
  EXPECT_NE(out[0].reason.find("pid 1 is not in " + dir), std::string::npos) << out[0].reason;
  EXPECT_FALSE(out[1].enforced);
  EXPECT_TRUE(out[3].enforced);

  // A directory the state does not list is not believed, whatever the reason text says.
  auto forged = limits;
  verify_cgroup_limits("4:memory:/a/claude-container-k\n", {}, forged);
  EXPECT_FALSE(forged[0].enforced);

  // No /proc/<pid>/cgroup (pid 1 gone): nothing from cgroups is enforced.
  auto gone = limits;
  verify_cgroup_limits("", {dir, v2dir}, gone);
  EXPECT_FALSE(gone[0].enforced);
  EXPECT_FALSE(gone[1].enforced);
}

TEST(Rlimits, DerivedFromTheConfiguredResources) {
  config::Resources res;
  res.pids = 300;
  res.memory = 1ull << 30;
  auto plan = plan_rlimits(res);
  EXPECT_EQ(plan.nproc, 300u);
  EXPECT_EQ(plan.fsize, 4ull << 30);
  EXPECT_LE(plan.nofile, 65536u);
  EXPECT_GE(plan.nofile, 1024u);
  auto status = rlimit_status(plan);
  ASSERT_EQ(status.size(), 4u);
  EXPECT_EQ(status[0].name, "rlimit_nproc");
  EXPECT_EQ(status[0].value, "300");
}

TEST(Rlimits, ApplyBoundsOpenFilesAndFileSizeAndLeavesUnsetOnesAlone) {
  test::TempDir tmp("cc-rlimits");
  const std::string file = (tmp / "big").string();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    struct rlimit before {}, after {};
    ::getrlimit(RLIMIT_NPROC, &before);
    RlimitPlan plan;
    plan.nofile = 32;
    plan.fsize = 4096;  // nproc stays RLIM_INFINITY: inherited
    const char* what = "";
    if (apply_rlimits(plan, &what) != 0) ::_exit(10);
    ::getrlimit(RLIMIT_NPROC, &after);
    if (after.rlim_cur != before.rlim_cur || after.rlim_max != before.rlim_max) ::_exit(11);
    int opened = 0;
    while (::open("/dev/null", O_RDONLY) >= 0) ++opened;
    if (errno != EMFILE || opened > 32) ::_exit(12);
    for (int fd = 3; fd < 40; ++fd) ::close(fd);
    ::signal(SIGXFSZ, SIG_IGN);
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT, 0600);
    char block[4096] = {};
    if (fd < 0 || ::write(fd, block, sizeof(block)) != 4096) ::_exit(13);
    if (::write(fd, block, 1) != -1 || errno != EFBIG) ::_exit(14);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 apply failed, 11 nproc changed, 12 no EMFILE, 13 write, 14 no EFBIG";
}

TEST(TmpfsSizes, FollowTheMemoryLimitAndReachTheMountOptions) {
  config::Resources res;
  res.memory = 512ull << 20;
  RootfsPlan plan;
  plan.steps.push_back(MountStep{MountStep::Kind::tmpfs, "mode=1777,uid=0,gid=0", "./tmp", "", "", 0755});
  plan.steps.push_back(MountStep{MountStep::Kind::tmpfs, "mode=755,uid=0,gid=0", "./run", "", "", 0755});
  plan.steps.push_back(MountStep{MountStep::Kind::tmpfs, "mode=755,size=1m,uid=0,gid=0", "./dev", "", "", 0755});
  plan.described.push_back({"/tmp", "tmpfs", false});
  size_tmpfs_mounts(plan, res);
  EXPECT_EQ(plan.steps[0].source, "mode=1777,uid=0,gid=0,size=268435456");
  EXPECT_EQ(plan.steps[1].source, "mode=755,uid=0,gid=0,size=67108864");
  EXPECT_EQ(plan.steps[2].source, "mode=755,size=1m,uid=0,gid=0");  // /dev keeps its own size
  EXPECT_EQ(plan.described[0].source, "tmpfs, size 256m");
}

TEST(OomCount, ReadFromV1AndV2Files) {
  test::TempDir tmp("cc-cgfake");
  write(tmp / "v2/memory.events", "low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 1\n");
  write(tmp / "v1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  EXPECT_EQ(read_oom_kills((tmp / "v2").string()), 2u);
  EXPECT_EQ(read_oom_kills((tmp / "v1").string()), 3u);
  EXPECT_FALSE(read_oom_kills((tmp / "none").string()).has_value());
  EXPECT_EQ(memory_cgroup_of({(tmp / "none").string(), (tmp / "v1").string()}), (tmp / "v1").string());

  // The watch reports only what grew since it started.
  OomWatch watch((tmp / "v2").string(), true, "512m");
  EXPECT_FALSE(watch.check().has_value());
  write(tmp / "v2/memory.events", "oom 3\noom_kill 3\n");
  auto sentence = watch.check();
  ASSERT_TRUE(sentence.has_value());
  EXPECT_NE(sentence->find("out of memory"), std::string::npos) << *sentence;
  EXPECT_NE(sentence->find("ended 1 process"), std::string::npos) << *sentence;
  EXPECT_FALSE(watch.check().has_value());
  write(tmp / "v2/memory.events", "oom 5\noom_kill 5\n");
  EXPECT_TRUE(watch.check().has_value());
  auto summary = watch.summary();
  ASSERT_TRUE(summary.has_value());
  EXPECT_NE(summary->find("ended 3 process"), std::string::npos) << *summary;
  EXPECT_FALSE(OomWatch((tmp / "v1").string(), false, "1g").summary().has_value());
}

}  // namespace
}  // namespace cc::engine::native
