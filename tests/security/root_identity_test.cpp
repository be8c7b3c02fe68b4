// uid 0 inside must not be host uid 0 (issue 9, part 2): as root the container runs in a
// subordinate id range, so a file only root may read stays unreadable inside; and files made
// in bind storage cannot become setuid or capability binaries on the host.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/engine_env.hpp"
#include "support/required_feature.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) { return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err; }

class RootIdentityTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  void SetUp() override {
    env_ = std::make_unique<EngineEnv>(GetParam(), "bind", "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    auto r = env_->cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    CC_SKIP_UNLESS_FEATURE(env_->exec({"sh", "-c", "command -v python3"}).exit_code == 0, "container-python3")
        << "python3 is needed inside for raw system calls";
  }
  std::unique_ptr<EngineEnv> env_;
};

TEST_P(RootIdentityTest, ContainerRootIsNotHostRoot) {
  auto status = nlohmann::json::parse(env_->cli({"--json", "status"}).out, nullptr, false);
  ASSERT_TRUE(status.is_object() && status["pid"].is_number());
  std::ifstream in("/proc/" + std::to_string(status["pid"].get<int>()) + "/status");
  std::string line, uid_line;
  while (std::getline(in, line)) {
    if (line.rfind("Uid:", 0) == 0) uid_line = line;
  }
  std::istringstream fields(uid_line.substr(4));
  unsigned long real = 0;
  fields >> real;
  EXPECT_NE(real, 0u) << "pid 1 of the container is host root: " << uid_line;
  if (GetParam() == EngineUser::unprivileged) {
    EXPECT_EQ(real, env_->uid());
  }
  auto inside = env_->exec({"id", "-u"});
  EXPECT_EQ(inside.out, "0\n") << describe(inside);
}

TEST_P(RootIdentityTest, RootOnlyFileInEtcIsUnreadable) {
  fs::path secret = fs::path("/etc") / ("cc-test-secret-" + env_->name());
  {
    std::ofstream(secret) << "TOPSECRET-ETC\n";
  }
  ::chmod(secret.c_str(), 0600);
  auto r = env_->exec({"cat", secret.string()});
  auto python = env_->exec({"python3", "-c",
                            "import os\ntry:\n    os.open('" + secret.string() +
                                "', os.O_RDONLY)\n    print('opened')\nexcept OSError as e:\n    print(e.errno)"});
  fs::remove(secret);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.out.find("TOPSECRET"), std::string::npos) << describe(r);
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << describe(r);
  EXPECT_EQ(python.out, "13\n") << describe(python);  // EACCES
}

TEST_P(RootIdentityTest, SetuidAndCapabilityFilesCannotBeMadeInTheProject) {
  const std::string code =
      "import os, shutil, errno\n"
      "def attempt(fn):\n"
      "    try:\n"
      "        fn(); return 0\n"
      "    except OSError as e:\n"
      "        return e.errno\n"
      "shutil.copy('/bin/sh', '/workspace/shell')\n"
      "print('chmod', attempt(lambda: os.chmod('/workspace/shell', 0o4755)))\n"
      "print('chmod_g', attempt(lambda: os.chmod('/workspace/shell', 0o2755)))\n"
      "print('create', attempt(lambda: os.close(os.open('/workspace/made', os.O_CREAT | os.O_WRONLY, 0o4755))))\n"
      "print('mkdir', attempt(lambda: os.mkdir('/workspace/dir', 0o2755)))\n"
      // A v2 capability set: cap_setuid permitted + effective.
      "cap = bytes([0, 0, 0, 2, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])\n"
      "print('setcap', attempt(lambda: os.setxattr('/workspace/shell', 'security.capability', cap)))\n"
      "open('/workspace/plain', 'w').write('x')\n";
  auto r = env_->exec({"python3", "-c", code});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  // EPERM for the modes (seccomp), EPERM for the capability (no CAP_SETFCAP).
  EXPECT_EQ(r.out, "chmod 1\nchmod_g 1\ncreate 1\nmkdir 0\nsetcap 1\n") << describe(r);
  for (const char* name : {"shell", "made", "plain"}) {
    fs::path file = env_->project() / name;
    struct stat st {};
    if (::lstat(file.c_str(), &st) != 0) continue;  // `made` may not exist
    EXPECT_EQ(st.st_mode & (S_ISUID | S_ISGID), 0u) << file;
    // Made inside, owned on the host by the project's owner.
    EXPECT_EQ(st.st_uid, env_->uid()) << file;
    char buf[64];
    EXPECT_LT(::lgetxattr(file.c_str(), "security.capability", buf, sizeof(buf)), 0) << file;
  }
  struct stat dir {};
  ASSERT_EQ(::lstat((env_->project() / "dir").c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & S_ISGID, 0u) << "mkdir kept a setgid bit";
  // The project is nosuid inside too: a setuid file already there (the host made it) gives nothing.
  auto mounts = env_->exec({"sh", "-c", "grep ' /workspace ' /proc/self/mountinfo"});
  EXPECT_NE(mounts.out.find("nosuid"), std::string::npos) << describe(mounts);
}

INSTANTIATE_TEST_SUITE_P(Users, RootIdentityTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
