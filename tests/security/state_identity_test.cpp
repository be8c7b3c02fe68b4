// Who may write a container's state, which container a project reaches, and which policy a
// running container obeys (issues 7 and 9):
//  - as root, state lives in /run/claude-container whatever XDG_RUNTIME_DIR says;
//  - a state directory with another owner or an open mode is refused, state files are never
//    followed through a symlink;
//  - a container is keyed by name + project path: another project with the same name, or a
//    second clone, gets its own container; a storage change after creation is explained;
//  - the supervisor and exec use the config stored at start, not the project's file.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <algorithm>
#include <cstring>
#include <fstream>

#include "support/engine_env.hpp"
#include "support/required_feature.hpp"
#include "util/unique_fd.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;

std::string describe(const CommandResult& r) { return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err; }

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The config with the name replaced (what a repository reusing another project's name ships).
void rename_container(const EngineEnv& env, const std::string& name) {
  fs::path config = env.project() / ".claude-container" / "config.json";
  std::string text = read_text(config);
  auto pos = text.find("\"name\": \"" + env.name() + "\"");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 10 + env.name().size(), "\"name\": \"" + name + "\"");
  std::ofstream(config, std::ios::trunc) << text;
  env.approve_config();
}

class StateIdentityTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  std::unique_ptr<EngineEnv> make(const std::string& storage = "volume", const std::string& policy = "none") {
    auto env = std::make_unique<EngineEnv>(GetParam(), storage, policy);
    if (!env->usable()) return nullptr;
    return env;
  }
};

#define REQUIRE_ENV(env) \
  CC_SKIP_UNLESS_FEATURE(env, EngineEnv(GetParam()).feature()) << EngineEnv(GetParam()).why_unusable()

TEST_P(StateIdentityTest, RootIgnoresStateUnderAUserOwnedRuntimeDir) {
  if (GetParam() != EngineUser::root) GTEST_SKIP() << "about root run with a user's XDG_RUNTIME_DIR (sudo -E)";
  auto env = make();
  REQUIRE_ENV(env);
  uid_t uid;
  gid_t gid;
  ASSERT_TRUE(unprivileged_user(&uid, &gid));
  // A user's runtime dir, holding what that user planted for root to load.
  fs::path planted = env->runtime_dir() / "claude-container" / env->key();
  fs::create_directories(planted);
  std::ofstream(planted / "state.json") << "{\"init_pid\": 1, \"cgroup_dirs\": [\"/sys/fs/cgroup\"]}";
  std::ofstream(planted / ("seccomp-planted.bpf")) << std::string(8, '\0');
  for (const auto& p : fs::recursive_directory_iterator(env->runtime_dir())) ::lchown(p.path().c_str(), uid, gid);
  ::lchown(env->runtime_dir().c_str(), uid, gid);

  auto r = env->cli({"start"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(env->state_dir(), fs::path("/run/claude-container") / env->key());
  EXPECT_TRUE(fs::exists(env->state_dir() / "state.json"));
  EXPECT_EQ(env->container_data(), fs::path("/var/lib/claude-container") / env->key());
  EXPECT_TRUE(fs::exists(env->container_data() / "created.json"));
  struct stat st {};
  ASSERT_EQ(::stat(env->state_dir().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // Nothing of root's landed in the user's directories, and the planted files were not used.
  std::vector<std::string> names;
  for (const auto& p : fs::directory_iterator(planted)) names.push_back(p.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"seccomp-planted.bpf", "state.json"}));
  EXPECT_FALSE(fs::exists(env->data_dir() / "claude-container"));
  EXPECT_EQ(env->exec({"true"}).exit_code, 0);
}

TEST_P(StateIdentityTest, StateDirectoryWithAnotherOwnerOrAnOpenModeIsRefused) {
  auto env = make();
  REQUIRE_ENV(env);
  ASSERT_EQ(env->cli({"start"}).exit_code, 0);
  ASSERT_EQ(env->cli({"stop"}).exit_code, 0);
  // Readable and writable by others: refused with the chmod that fixes it.
  ASSERT_EQ(::chmod(env->state_dir().c_str(), 0777), 0);
  auto open_mode = env->cli({"start"});
  EXPECT_EQ(open_mode.exit_code, 1) << describe(open_mode);
  EXPECT_NE(open_mode.err.find("its mode is 0777"), std::string::npos) << describe(open_mode);
  EXPECT_NE(open_mode.err.find("chmod 700 " + env->state_dir().string()), std::string::npos) << describe(open_mode);
  ASSERT_EQ(::chmod(env->state_dir().c_str(), 0700), 0);
  // Somebody else's directory: refused, whatever its mode.
  uid_t other = env->uid() == 0 ? 65534 : 0;
  ASSERT_EQ(::chown(env->state_dir().c_str(), other, other), 0);
  auto foreign = env->cli({"start"});
  EXPECT_EQ(foreign.exit_code, 1) << describe(foreign);
  EXPECT_NE(foreign.err.find("belongs to uid " + std::to_string(other)), std::string::npos) << describe(foreign);
  ASSERT_EQ(::chown(env->state_dir().c_str(), env->uid(), env->gid()), 0);
  // A state file replaced by a symlink is not followed.
  fs::path target = env->root() / "elsewhere.json";
  std::ofstream(target) << "{}";
  ASSERT_EQ(env->cli({"start"}).exit_code, 0);
  ASSERT_EQ(env->cli({"stop"}).exit_code, 0);
  fs::create_symlink(target, env->state_dir() / "state.json");
  ::lchown((env->state_dir() / "state.json").c_str(), env->uid(), env->gid());
  auto link = env->cli({"status"});
  EXPECT_NE(link.exit_code, 0) << describe(link);
  EXPECT_NE(link.err.find("is a symlink"), std::string::npos) << describe(link);
  fs::remove(env->state_dir() / "state.json");
}

TEST_P(StateIdentityTest, AnotherProjectWithTheSameNameOrASecondCloneGetsItsOwnContainer) {
  auto first = make();
  REQUIRE_ENV(first);
  auto second = make();
  ASSERT_TRUE(second);
  rename_container(*second, first->name());  // a repository reusing the first project's name
  ASSERT_EQ(first->cli({"start"}).exit_code, 0);
  ASSERT_EQ(first->exec({"sh", "-c", "echo first-home > /root/mine.txt"}).exit_code, 0);
  auto r = second->cli({"start"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_NE(first->key(), second->key());
  auto home = second->exec({"cat", "/root/mine.txt"});
  EXPECT_NE(home.exit_code, 0) << "the second project entered the first one's container: " << describe(home);
  // Destroying the second leaves the first running, with its home.
  ASSERT_EQ(second->cli({"destroy", "--yes"}).exit_code, 0);
  EXPECT_EQ(first->exec({"cat", "/root/mine.txt"}).out, "first-home\n");

  // A second clone of the first repository (same config, same name, other path).
  auto clone = make();
  ASSERT_TRUE(clone);
  fs::copy_file(first->project() / ".claude-container" / "config.json",
                clone->project() / ".claude-container" / "config.json", fs::copy_options::overwrite_existing);
  clone->chown_tree(clone->project());
  clone->approve_config();
  ASSERT_EQ(clone->cli({"start"}).exit_code, 0);
  EXPECT_NE(clone->exec({"cat", "/root/mine.txt"}).exit_code, 0);
  auto status = clone->cli({"--json", "status"});
  EXPECT_NE(status.out.find("\"running\""), std::string::npos) << describe(status);
  ASSERT_EQ(clone->cli({"destroy", "--yes"}).exit_code, 0);
  EXPECT_EQ(first->exec({"cat", "/root/mine.txt"}).out, "first-home\n");
}

TEST_P(StateIdentityTest, StorageChangeAfterCreationIsExplained) {
  auto env = make("volume");
  REQUIRE_ENV(env);
  ASSERT_EQ(env->cli({"start"}).exit_code, 0);
  ASSERT_EQ(env->cli({"stop"}).exit_code, 0);
  env->write_config("bind", "none");
  auto r = env->cli({"start"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  EXPECT_NE(r.err.find("was created with volume storage, and the config now says bind"), std::string::npos)
      << describe(r);
  EXPECT_NE(r.err.find("claude-container destroy"), std::string::npos) << describe(r);
  auto status = env->cli({"status"});
  EXPECT_NE(status.out.find("was created with volume storage"), std::string::npos) << describe(status);
}

TEST_P(StateIdentityTest, RewrittenProjectConfigChangesNothingForExecOrReload) {
  auto env = make("bind", "isolated");
  REQUIRE_ENV(env);
  ASSERT_EQ(env->cli({"start"}).exit_code, 0);
  // What a container with bind storage could write (the control files are read-only inside,
  // see ControlFilesTest; this is the second lock): a planted variable and a wider policy.
  std::string text = read_text(env->project() / ".claude-container" / "config.json");
  auto allow = text.find("\"allow\": []");
  ASSERT_NE(allow, std::string::npos) << text;
  text.replace(allow, 11, "\"allow\": [\"blocked.example.org\"]");
  auto version = text.find("\"schema_version\": 1,");
  ASSERT_NE(version, std::string::npos) << text;
  text.insert(version, "\"env\": {\"PLANTED\": \"from-the-project-file\"},\n  ");
  {
    std::ofstream(env->project() / ".claude-container" / "config.json", std::ios::trunc) << text;
  }
  // Even approved (say the user did not look closely), it does not reach the running container.
  env->approve_config();

  auto vars = env->exec({"env"});
  ASSERT_EQ(vars.exit_code, 0) << describe(vars);
  EXPECT_EQ(vars.out.find("PLANTED"), std::string::npos) << vars.out;

  // Anyone who can reach the control socket asks for a reload.
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = (env->state_dir() / "control.sock").string();
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string request = "{\"op\":\"reload\"}\n";
  ASSERT_EQ(::write(sock.get(), request.data(), request.size()), static_cast<ssize_t>(request.size()));
  char reply[256] = {};
  ASSERT_GT(::read(sock.get(), reply, sizeof(reply) - 1), 0);
  EXPECT_EQ(std::string(reply), "{\"ok\":true}\n");
  // The host the project file now allows is still refused by the proxy.
  auto r = env->exec({"bash", "-c",
                      "exec 3<>/dev/tcp/127.0.0.1/3128; printf 'CONNECT blocked.example.org:443 HTTP/1.1\\r\\n\\r\\n' >&3; "
                      "head -c 12 <&3"});
  EXPECT_EQ(r.out, "HTTP/1.1 403") << describe(r);
}

INSTANTIATE_TEST_SUITE_P(Users, StateIdentityTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
