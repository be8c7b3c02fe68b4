// doctor asks the chosen engine (Engine::preflight) and shows a checklist: each check for
// real, each gap with its fix, exit 1 when one fails; an engine this build lacks is one line
// and exit 1, never "Everything needed is in place."
#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cli_test_env.hpp"

namespace cc::test {
namespace {

// Whether this process may create a user namespace: the one native check whose answer depends
// on the machine and decides doctor's exit status here.
bool user_namespaces_work() {
  pid_t child = ::fork();
  if (child == 0) _exit(::unshare(CLONE_NEWUSER) == 0 ? 0 : 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::vector<std::string>& lines, const std::string& wanted) {
  return std::find(lines.begin(), lines.end(), wanted) != lines.end();
}

// The shape every engine's --json answer has, and its exit status agreeing with it.
void expect_json_shape(const CommandResult& result, const std::string& engine) {
  auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["engine"], engine);
  ASSERT_TRUE(json["checks"].is_array()) << json.dump(2);
  int fails = 0, warns = 0;
  for (const auto& check : json["checks"]) {
    for (const char* key : {"name", "status", "detail", "fix"}) EXPECT_TRUE(check[key].is_string()) << check.dump();
    std::string status = check["status"];
    EXPECT_TRUE(status == "OK" || status == "WARN" || status == "FAIL") << check.dump();
    fails += status == "FAIL";
    warns += status == "WARN";
    // Every gap says how to close it.
    EXPECT_EQ(check["fix"] == "", status == "OK") << check.dump();
  }
  EXPECT_EQ(json["failures"], fails);
  EXPECT_EQ(json["warnings"], warns);
  EXPECT_EQ(json["ready"], fails == 0);
  EXPECT_EQ(result.exit_code, fails == 0 ? 0 : 1);
}

class Doctor : public ::testing::Test {
 protected:
  CliTestEnv env;
  void SetUp() override {
    auto init = env.run({"init", "--mode", "playground"});
    ASSERT_EQ(init.exit_code, 0) << init.err;
  }
};

TEST_F(Doctor, NativeChecksEachPrerequisiteForReal) {
  // PATH decides the pasta check: a stand-in there (doctor only looks for it).
  const auto bin = env.root() / "doctor-bin";
  std::filesystem::create_directories(bin);
  std::ofstream(bin / "pasta") << "#!/bin/sh\nexit 0\n";
  std::filesystem::permissions(bin / "pasta", std::filesystem::perms::owner_all);
  CommandOptions options;
  options.cwd = env.project();
  options.env = env.env();
  options.env["PATH"] = bin.string();

  const bool userns = user_namespaces_work();
  auto native = run_cli({"doctor", "--engine", "native"}, options);
  EXPECT_EQ(native.exit_code, userns ? 0 : 1) << native.out << native.err;
  auto lines = lines_of(native.out);
  ASSERT_GE(lines.size(), 2u) << native.out;
  EXPECT_EQ(lines.front(), "Checking what the native engine needs for myapp-playground:");
  if (userns) {
    EXPECT_TRUE(has_line(lines, "OK   user namespaces: a user namespace can be created")) << native.out;
  } else {
    EXPECT_NE(native.out.find("FAIL user namespaces: creating a user namespace failed: "), std::string::npos) << native.out;
  }
  // The system calls the engine has no fallback for: this kernel (the one the tests run on)
  // has them all.
  for (const char* call : {"open_tree", "move_mount", "fsopen", "mount_setattr", "openat2", "clone3", "pidfd_open",
                           "close_range"}) {
    EXPECT_TRUE(has_line(lines, std::string("OK   system call ") + call + ": available")) << call << "\n" << native.out;
  }
  EXPECT_TRUE(has_line(lines, "OK   seccomp: seccomp filters are supported")) << native.out;
  EXPECT_NE(native.out.find("Landlock: "), std::string::npos) << native.out;
  EXPECT_TRUE(has_line(lines, "OK   pasta: " + (bin / "pasta").string())) << native.out;
  EXPECT_NE(native.out.find("cgroup"), std::string::npos) << native.out;
  if (userns) {
    EXPECT_TRUE(lines.back() == "Everything needed is in place." ||
                lines.back() == "Usable; the warnings above limit what is enforced.")
        << native.out;
  }
  expect_json_shape(run_cli({"--json", "doctor", "--engine", "native"}, options), "native");
}

// The cgroup probe's leaves, in each hierarchy this process (and so doctor) is in.
std::vector<std::string> probe_leaves_left() {
  std::vector<std::string> left;
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    auto first = line.find(':'), second = line.find(':', first + 1);
    std::string controllers = line.substr(first + 1, second - first - 1);
    if (controllers.rfind("name=", 0) == 0) continue;
    std::string first_controller = controllers.substr(0, controllers.find(','));
    std::filesystem::path dir = std::filesystem::path("/sys/fs/cgroup") /
                                (controllers.empty() ? std::string() : first_controller) /
                                std::filesystem::path(line.substr(second + 1)).relative_path();
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().filename().string().rfind("claude-container-doctor-", 0) == 0) left.push_back(entry.path());
    }
  }
  return left;
}

// As root and as an unprivileged user: the same shape, and the cgroup leaf doctor makes to
// test delegation is gone again.
class DoctorAs : public ::testing::TestWithParam<TestUser> {};

TEST_P(DoctorAs, AnswersInTheSameShapeAndLeavesNoCgroupBehind) {
  CliTestEnv env;
  std::string why;
  if (!run_as(env, GetParam(), &why)) GTEST_SKIP() << why;
  auto init = env.run({"init", "--mode", "playground"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto json = env.run({"--json", "doctor", "--engine", "native"});
  expect_json_shape(json, "native");
  bool cgroup_checked = false;
  const auto object = nlohmann::json::parse(json.out);
  for (const auto& check : object["checks"]) {
    cgroup_checked = cgroup_checked || check["name"].get<std::string>().find("cgroup") != std::string::npos;
  }
  EXPECT_TRUE(cgroup_checked) << json.out;
  EXPECT_EQ(probe_leaves_left(), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Users, DoctorAs, ::testing::Values(TestUser::root, TestUser::unprivileged), user_name);

// A kernel without mount_setattr (before 5.12), played by a seccomp filter that answers
// ENOSYS for it: doctor must notice by calling it, say which kernel has it, and fail.
TEST_F(Doctor, AMissingSystemCallFailsWithTheKernelThatHasIt) {
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mount_setattr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof(filter) / sizeof(filter[0])), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      ::_exit(126);
    }
    ::dup2(out[1], 1);
    if (::chdir(env.project().c_str()) != 0) ::_exit(126);
    std::vector<std::string> strings;
    for (const auto& [k, v] : env.env()) strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>(CC_BINARY), const_cast<char*>("--json"), const_cast<char*>("doctor"),
                    const_cast<char*>("--engine"), const_cast<char*>("native"), nullptr};
    ::execve(CC_BINARY, argv, envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  for (;;) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 60000) <= 0) break;  // a safety net against a hung doctor, not a measurement
    ssize_t n = ::read(out[0], buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status << ": " << text;
  CommandResult result{WEXITSTATUS(status), text, ""};
  expect_json_shape(result, "native");
  EXPECT_EQ(result.exit_code, 1);
  bool found = false;
  const auto json = nlohmann::json::parse(text);
  for (const auto& check : json["checks"]) {
    if (check["name"] != "system call mount_setattr") continue;
    found = true;
    EXPECT_EQ(check["status"], "FAIL");
    EXPECT_EQ(check["detail"], "missing (ENOSYS); needed for read-only and idmapped mounts");
    EXPECT_EQ(check["fix"], "use Linux 5.12 or newer");
  }
  EXPECT_TRUE(found) << text;
}

// docker, podman and apple: either this build has the engine, and it answers with its own
// checklist, or it is one line saying so and exit 1. Never "Everything needed is in place."
// for an engine that is not there.
TEST_F(Doctor, EnginesNotInThisBuildSaySoInOneLine) {
  CommandOptions options;
  options.cwd = env.project();
  options.env = env.env();
  options.env["PATH"] = (env.root() / "empty-bin").string();
  for (const std::string engine : {"docker", "podman", "apple"}) {
    auto text = run_cli({"doctor", "--engine", engine}, options);
    auto json = run_cli({"--json", "doctor", "--engine", engine}, options);
    if (text.out.empty()) {
      EXPECT_EQ(text.exit_code, 1) << engine;
      EXPECT_EQ(lines_of(text.err).size(), 1u) << text.err;
      EXPECT_NE(text.err.find("doctor failed: the " + engine + " engine is not available in this build"),
                std::string::npos)
          << text.err;
      EXPECT_EQ(json.exit_code, 1);
      auto object = nlohmann::json::parse(json.out);
      EXPECT_EQ(object["exit_code"], 1);
      EXPECT_NE(object["error"].get<std::string>().find("not available in this build"), std::string::npos);
    } else {
      EXPECT_EQ(lines_of(text.out).front().rfind("Checking what the " + engine + " engine needs", 0), 0u) << text.out;
      expect_json_shape(json, engine);
    }
    EXPECT_EQ(text.out.find("Everything needed is in place."), std::string::npos) << engine << ": " << text.out;
  }
}

TEST_F(Doctor, UnknownEngineIsBadUsage) {
  auto r = env.run({"doctor", "--engine", "vmware"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown engine 'vmware'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cc::test
