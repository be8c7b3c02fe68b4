// Attacks on diff/apply made from inside a real container (hybrid and volume storage), as
// root and as the unprivileged user. Each must fail for the stated reason: links are shown
// and recreated as links and never read, setuid bits and capabilities never reach the
// project, FIFOs and sockets are named and refused without blocking the review, escape
// sequences in names are quoted, .git/hooks is held back, a stale review is refused, and an
// apply killed at any moment leaves every file whole and nothing of its own behind.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "support/engine_env.hpp"
#include "support/pty_session.hpp"

namespace cc::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class WorkspaceAttackTest : public ::testing::TestWithParam<EngineUser> {
 protected:
  // The project gets `files` before the container starts (the base apply compares against).
  void make(const std::string& storage = "hybrid", const std::map<std::string, std::string>& files = {},
            const std::function<void()>& before_start = {}) {
    env_ = std::make_unique<EngineEnv>(GetParam(), storage, "none");
    CC_SKIP_UNLESS_FEATURE(env_->usable(), env_->feature()) << env_->why_unusable();
    for (const auto& [path, content] : files) env_->write_project_file(path, content);
    if (before_start) before_start();
    // A host secret the container must never get into a review or the project.
    secret_ = env_->root() / "host-secret";
    std::ofstream(secret_) << "HOST-SECRET-CONTENT\n";
    env_->chown_tree(secret_);
    auto r = env_->cli({"start"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  CommandResult inside(const std::string& script) { return env_->exec({"sh", "-c", script}); }
  void stop() { ASSERT_EQ(env_->cli({"stop"}).exit_code, 0); }
  json review() {
    auto r = env_->cli({"--json", "diff"});
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    if (r.err.find("temporary file(s) an interrupted apply left") != std::string::npos) ++recoveries_;
    return json::parse(r.out);
  }
  CommandResult apply_reviewed(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"apply", "--digest", review()["digest"].get<std::string>()};
    args.insert(args.end(), extra.begin(), extra.end());
    return env_->cli(args);
  }
  void expect_no_temporaries() {
    for (auto it = fs::recursive_directory_iterator(env_->project()); it != fs::recursive_directory_iterator(); ++it) {
      EXPECT_EQ(it->path().filename().string().find(".cc-apply-"), std::string::npos) << it->path();
    }
  }
  std::unique_ptr<EngineEnv> env_;
  fs::path secret_;
  int recoveries_ = 0;  // reviews that removed what a killed apply left
};

TEST_P(WorkspaceAttackTest, LiveSwapRaceNeverPutsAHostFileInTheReviewOrTheProject) {
  make("hybrid", {{"data.txt", "project data\n"}});
  // Inside: swap data.txt between a file and links to the host secret, as fast as it can.
  auto spawn = inside("(i=0; while [ $i -lt 200000 ]; do echo container > /workspace/d.tmp; "
                      "mv -f /workspace/d.tmp /workspace/data.txt; ln -sfn " + secret_.string() +
                      " /workspace/data.txt; ln -sfn ../host-secret /workspace/data.txt; i=$((i+1)); done) "
                      ">/dev/null 2>&1 & echo started");
  ASSERT_EQ(spawn.exit_code, 0) << describe(spawn);
  for (int round = 0; round < 40; ++round) {
    auto r = env_->cli({"diff"});
    auto j = env_->cli({"--json", "diff"});
    EXPECT_EQ(r.out.find("HOST-SECRET-CONTENT"), std::string::npos) << r.out;
    EXPECT_EQ(j.out.find("HOST-SECRET-CONTENT"), std::string::npos) << j.out;
    // A live apply is refused outright: the layer is not frozen.
    if (round % 10 == 0) {
      auto a = env_->cli({"apply", "--digest", "0"});
      EXPECT_NE(a.err.find("stop it first"), std::string::npos) << describe(a);
    }
  }
  stop();
  auto a = apply_reviewed();
  EXPECT_EQ(a.exit_code, 0) << describe(a);
  struct stat st {};
  ASSERT_EQ(::lstat((env_->project() / "data.txt").c_str(), &st), 0);
  if (S_ISREG(st.st_mode)) {
    EXPECT_EQ(read(env_->project() / "data.txt"), "container\n");
  } else {
    EXPECT_TRUE(S_ISLNK(st.st_mode));
  }
  EXPECT_EQ(read(secret_), "HOST-SECRET-CONTENT\n");
  expect_no_temporaries();
}

TEST_P(WorkspaceAttackTest, LinksToHostFilesAreShownAndAppliedAsLinks) {
  // The project has a link to a host directory; the container replaces it with a directory.
  make("hybrid", {}, [this] {
    fs::create_directories(env_->root() / "host-dir");
    env_->chown_tree(env_->root() / "host-dir");
    fs::create_directory_symlink(env_->root() / "host-dir", env_->project() / "linked");
    env_->chown_tree(env_->project());
  });
  auto w = inside("ln -s " + secret_.string() + " /workspace/notes && ln -s ../host-secret /workspace/relative && "
                  "rm /workspace/linked && mkdir /workspace/linked && echo planted > /workspace/linked/planted.txt");
  ASSERT_EQ(w.exit_code, 0) << describe(w);
  auto diff = env_->cli({"diff"});
  EXPECT_EQ(diff.out.find("HOST-SECRET-CONTENT"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("notes -> " + secret_.string()), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("relative -> ../host-secret"), std::string::npos) << diff.out;
  EXPECT_EQ(env_->cli({"--json", "diff"}).out.find("HOST-SECRET-CONTENT"), std::string::npos);
  stop();
  auto a = apply_reviewed();
  ASSERT_EQ(a.exit_code, 0) << describe(a);
  EXPECT_TRUE(fs::is_symlink(env_->project() / "notes"));
  EXPECT_EQ(fs::read_symlink(env_->project() / "notes"), secret_);
  EXPECT_EQ(fs::read_symlink(env_->project() / "relative"), "../host-secret");
  // The link in the project was replaced; the host directory it pointed to is untouched.
  EXPECT_FALSE(fs::exists(env_->root() / "host-dir" / "planted.txt"));
  EXPECT_EQ(read(env_->project() / "linked" / "planted.txt"), "planted\n");
}

TEST_P(WorkspaceAttackTest, SetuidSetgidAndCapabilityFilesLandWithoutThem) {
  make();
  auto w = inside("cp /bin/true /workspace/suid && chmod 4755 /workspace/suid && "
                  "cp /bin/true /workspace/sgid && chmod 2755 /workspace/sgid && stat -c %a /workspace/suid /workspace/sgid");
  ASSERT_EQ(w.exit_code, 0) << describe(w);
  ASSERT_EQ(w.out, "4755\n2755\n") << describe(w);
  // A file capability, where the container may set one (python3 in the host image).
  auto cap = env_->exec({"python3", "-c",
                         "import os; open('/workspace/capped','wb').write(b'x'); os.chmod('/workspace/capped', 0o755); "
                         "os.setxattr('/workspace/capped', 'security.capability', "
                         "bytes([1,0,0,2,0x80,0,0,0,0x80,0,0,0,0,0,0,0,0,0,0,0]))"});
  auto diff = env_->cli({"diff", "--names"});
  auto full = env_->cli({"diff"});
  EXPECT_NE(full.out.find("suid  (mode 4755; setuid/setgid/sticky dropped, applied as 0755;"), std::string::npos) << full.out;
  EXPECT_NE(full.out.find("sgid  (mode 2755; setuid/setgid/sticky dropped, applied as 0755;"), std::string::npos) << full.out;
  if (cap.exit_code == 0) {
    EXPECT_NE(full.out.find("file capabilities dropped"), std::string::npos) << full.out;
  }
  stop();
  auto a = apply_reviewed();
  ASSERT_EQ(a.exit_code, 0) << describe(a);
  for (const char* name : {"suid", "sgid", "capped"}) {
    struct stat st {};
    if (::lstat((env_->project() / name).c_str(), &st) != 0) continue;  // capped: not made
    EXPECT_EQ(st.st_mode & 07777, 0755u) << name;
    EXPECT_EQ(st.st_uid, env_->uid()) << name;  // the project's owner, never root for a user's project
    char buf[64];
    EXPECT_LT(::lgetxattr((env_->project() / name).c_str(), "security.capability", buf, sizeof(buf)), 0) << name;
  }
}

TEST_P(WorkspaceAttackTest, FifosAndSocketsNeitherBlockTheReviewNorGetApplied) {
  make();
  auto w = env_->exec({"python3", "-c",
                       "import os, socket; os.mkfifo('/workspace/pipe'); "
                       "s = socket.socket(socket.AF_UNIX); s.bind('/workspace/sock'); "
                       "open('/workspace/ok.txt', 'w').write('ok\\n')"});
  if (w.exit_code != 0) {
    w = inside("mkfifo /workspace/pipe && echo ok > /workspace/ok.txt");
    ASSERT_EQ(w.exit_code, 0) << describe(w);
  }
  auto diff = env_->cli({"diff"}, "", 60);  // a blocked read would run into the timeout (137)
  ASSERT_EQ(diff.exit_code, 0) << describe(diff);
  EXPECT_NE(diff.out.find("pipe  (fifo; never applied)  [refused: a fifo is not project content]"), std::string::npos)
      << diff.out;
  stop();
  auto a = apply_reviewed();
  EXPECT_EQ(a.exit_code, 1) << describe(a);
  EXPECT_NE(a.err.find("pipe: a fifo is not project content"), std::string::npos) << describe(a);
  EXPECT_FALSE(fs::exists(fs::symlink_status(env_->project() / "pipe")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(env_->project() / "sock")));
  EXPECT_EQ(read(env_->project() / "ok.txt"), "ok\n");
}

TEST_P(WorkspaceAttackTest, EscapesInNamesCannotHideAGitHook) {
  make("hybrid", {}, [this] {
    fs::create_directories(env_->project() / ".git" / "hooks");
    env_->chown_tree(env_->project());
  });
  auto w = inside("printf '#!/bin/sh\\necho pwned\\n' > /workspace/.git/hooks/pre-commit && "
                  "chmod 755 /workspace/.git/hooks/pre-commit && "
                  "echo x > \"/workspace/zz$(printf '\\033[1A\\033[2K\\r')modified$(printf '\\t')file.txt\"");
  ASSERT_EQ(w.exit_code, 0) << describe(w);
  auto names = env_->cli({"diff", "--names"});
  EXPECT_EQ(names.out.find('\x1b'), std::string::npos) << names.out;
  EXPECT_NE(names.out.find("added\t\"zz\\033[1A\\033[2K\\rmodified\\tfile.txt\""), std::string::npos) << names.out;
  EXPECT_NE(names.out.find("added\t.git/hooks/pre-commit"), std::string::npos) << names.out;
  auto diff = env_->cli({"diff"});
  EXPECT_EQ(diff.out.find('\x1b'), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find(".git/hooks/pre-commit  (mode 0755)  [held back: under .git;"), std::string::npos) << diff.out;
  auto j = review();
  bool exact = false;
  for (const auto& c : j["changes"]) exact = exact || c["path"] == "zz\x1b[1A\x1b[2K\rmodified\tfile.txt";
  EXPECT_TRUE(exact) << j.dump();
  stop();
  auto a = apply_reviewed();
  ASSERT_EQ(a.exit_code, 0) << describe(a);
  EXPECT_NE(a.out.find("Held back 1 change"), std::string::npos) << a.out;
  EXPECT_FALSE(fs::exists(env_->project() / ".git" / "hooks" / "pre-commit"));
  EXPECT_TRUE(fs::exists(env_->project() / "zz\x1b[1A\x1b[2K\rmodified\tfile.txt"));
  // Asked for by name: taken.
  auto git = apply_reviewed({"--include-git"});
  ASSERT_EQ(git.exit_code, 0) << describe(git);
  EXPECT_TRUE(fs::exists(env_->project() / ".git" / "hooks" / "pre-commit"));
}

TEST_P(WorkspaceAttackTest, AStaleReviewIsRefused) {
  make("hybrid", {{"a.txt", "original\n"}});
  ASSERT_EQ(inside("echo container > /workspace/a.txt").exit_code, 0);
  stop();
  std::string digest = review()["digest"];
  // No terminal and no digest: refused, naming the option.
  auto bare = env_->cli({"apply"});
  EXPECT_EQ(bare.exit_code, 2) << describe(bare);
  EXPECT_NE(bare.err.find("apply --digest"), std::string::npos) << bare.err;
  // The host file changes underneath after the review.
  env_->write_project_file("a.txt", "the user's edit\n");
  auto a = env_->cli({"apply", "--digest", digest});
  EXPECT_EQ(a.exit_code, 1) << describe(a);
  EXPECT_NE(a.err.find("not the ones reviewed"), std::string::npos) << a.err;
  EXPECT_EQ(read(env_->project() / "a.txt"), "the user's edit\n");
  // The container's layer changes after the review.
  ASSERT_EQ(env_->cli({"start"}).exit_code, 0);
  std::string second = review()["digest"];
  ASSERT_EQ(inside("echo sneaky > /workspace/a.txt").exit_code, 0);
  stop();
  a = env_->cli({"apply", "--digest", second});
  EXPECT_EQ(a.exit_code, 1) << describe(a);
  EXPECT_NE(a.err.find("not the ones reviewed"), std::string::npos) << a.err;
  EXPECT_EQ(read(env_->project() / "a.txt"), "the user's edit\n");
}

TEST_P(WorkspaceAttackTest, AHostFileChangedUnderneathTheContainersCopyIsAConflict) {
  make("hybrid", {{"shared.txt", "base\n"}});
  ASSERT_EQ(inside("echo container > /workspace/shared.txt && echo mine > /workspace/mine.txt").exit_code, 0);
  env_->write_project_file("shared.txt", "the user's edit\n");  // after the container's copy
  stop();
  auto diff = env_->cli({"diff"});
  EXPECT_NE(diff.out.find("shared.txt  (CONFLICT: the project's copy changed too)"), std::string::npos) << diff.out;
  auto a = apply_reviewed();
  EXPECT_EQ(a.exit_code, 1) << describe(a);
  EXPECT_NE(a.err.find("shared.txt: the project's copy changed since the container's copy was taken"), std::string::npos)
      << describe(a);
  EXPECT_EQ(read(env_->project() / "shared.txt"), "the user's edit\n");
  EXPECT_EQ(read(env_->project() / "mine.txt"), "mine\n");
  auto forced = apply_reviewed({"--force"});
  EXPECT_EQ(forced.exit_code, 0) << describe(forced);
  EXPECT_EQ(read(env_->project() / "shared.txt"), "container\n");
}

TEST_P(WorkspaceAttackTest, OnATerminalApplyShowsTheSetAndAsksFirst) {
  if (GetParam() != EngineUser::root) GTEST_SKIP() << "the pseudo-terminal runs as the test's own user";
  make("hybrid", {{"a.txt", "original\n"}});
  ASSERT_EQ(inside("echo container > /workspace/a.txt").exit_code, 0);
  stop();
  std::string digest = review()["digest"];
  PtyOptions options;
  options.env = env_->environment();
  options.cwd = env_->project();
  {
    PtySession no({CC_BINARY, "--project", env_->project().string(), "apply"}, options);
    no.expect("modified  a.txt");
    no.expect("Apply 1 change \\(digest " + digest + "\\) to .*\\? \\[y/N\\]");
    no.send("n\r");
    EXPECT_EQ(no.wait_exit(), 1);
    EXPECT_NE(no.transcript().find("apply cancelled: nothing was applied"), std::string::npos) << no.transcript();
  }
  EXPECT_EQ(read(env_->project() / "a.txt"), "original\n");
  PtySession yes({CC_BINARY, "--project", env_->project().string(), "apply"}, options);
  yes.expect("\\[y/N\\]");
  yes.send("y\r");
  EXPECT_EQ(yes.wait_exit(), 0) << yes.transcript();
  EXPECT_EQ(read(env_->project() / "a.txt"), "container\n");
}

// Starts `claude-container apply --digest D` and returns its pid (as the test user).
pid_t spawn_apply(const EngineEnv& env, const std::string& digest) {
  auto opts = env.options();
  std::vector<std::string> args = {CC_BINARY, "--project", env.project().string(), "apply", "--digest", digest};
  std::vector<std::string> envs;
  for (const auto& [k, v] : opts.env) envs.push_back(k + "=" + v);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (opts.gid) (void)::setgid(*opts.gid);
    if (opts.uid) (void)::setuid(*opts.uid);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

TEST_P(WorkspaceAttackTest, ApplyKilledAtRandomPointsLeavesEveryFileWhole) {
  constexpr int kFiles = 150;
  std::map<std::string, std::string> files;
  for (int i = 0; i < kFiles; ++i) files["f/" + std::to_string(i)] = std::string(4096, 'o') + "old-" + std::to_string(i) + "\n";
  make("hybrid", files);
  auto w = inside("i=0; while [ $i -lt " + std::to_string(kFiles) + " ]; do "
                  "head -c 4096 /dev/zero | tr '\\0' n > /workspace/f/$i; echo new-$i >> /workspace/f/$i; "
                  "echo added-$i > /workspace/f/added-$i; i=$((i+1)); done");
  ASSERT_EQ(w.exit_code, 0) << describe(w);
  stop();
  std::mt19937 random(12345);  // fixed seed: the same kill points on every run
  int killed = 0;
  bool finished = false;
  for (int round = 0; round < 30 && !finished; ++round) {
    json set = review();  // also removes what the last killed apply left
    expect_no_temporaries();
    for (int i = 0; i < kFiles; ++i) {
      std::string content = read(env_->project() / "f" / std::to_string(i));
      bool old_one = content == std::string(4096, 'o') + "old-" + std::to_string(i) + "\n";
      bool new_one = content == std::string(4096, 'n') + "new-" + std::to_string(i) + "\n";
      ASSERT_TRUE(old_one || new_one) << "f/" << i << " is torn: " << content.size() << " bytes";
      if (fs::exists(env_->project() / "f" / ("added-" + std::to_string(i)))) {
        ASSERT_EQ(read(env_->project() / "f" / ("added-" + std::to_string(i))), "added-" + std::to_string(i) + "\n");
      }
    }
    if (set["changes"].empty()) {
      finished = true;
      break;
    }
    pid_t pid = spawn_apply(*env_, set["digest"]);
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 60000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++killed;
  }
  if (!finished) {
    auto a = apply_reviewed();
    ASSERT_EQ(a.exit_code, 0) << describe(a);
  }
  EXPECT_GT(killed, 0);
  std::cout << "[ measured ] " << killed << " applies killed; " << recoveries_
            << " reviews removed temporary files they left\n";
  review();
  expect_no_temporaries();
  for (int i = 0; i < kFiles; ++i) {
    EXPECT_EQ(read(env_->project() / "f" / std::to_string(i)), std::string(4096, 'n') + "new-" + std::to_string(i) + "\n");
  }
}

TEST_P(WorkspaceAttackTest, VolumeWorkspaceDiffsAgainstItsSeedWithTheSameRules) {
  make("volume");
  env_->write_project_file("late.txt", "added on the host after seeding\n");
  auto w = inside("echo changed >> /workspace/README.md && ln -s " + secret_.string() +
                  " /workspace/notes && cp /bin/true /workspace/suid && chmod 4755 /workspace/suid && "
                  "mkdir -p /workspace/.git/hooks && echo hook > /workspace/.git/hooks/post-checkout");
  ASSERT_EQ(w.exit_code, 0) << describe(w);
  auto names = env_->cli({"diff", "--names"});
  ASSERT_EQ(names.exit_code, 0) << describe(names);
  // The host's own later file is not shown as a deletion by the container.
  EXPECT_EQ(names.out.find("late.txt"), std::string::npos) << names.out;
  auto diff = env_->cli({"diff"});
  EXPECT_EQ(diff.out.find("HOST-SECRET-CONTENT"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("+changed"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("notes -> " + secret_.string()), std::string::npos) << diff.out;
  auto live = env_->cli({"apply", "--digest", "0"});
  EXPECT_NE(live.err.find("stop it first"), std::string::npos) << describe(live);
  stop();
  auto a = apply_reviewed();
  ASSERT_EQ(a.exit_code, 0) << describe(a);
  EXPECT_EQ(read(env_->project() / "README.md"), "hello from the project\nchanged\n");
  EXPECT_TRUE(fs::is_symlink(env_->project() / "notes"));
  struct stat st {};
  ASSERT_EQ(::lstat((env_->project() / "suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_FALSE(fs::exists(env_->project() / ".git" / "hooks" / "post-checkout"));
  EXPECT_TRUE(fs::exists(env_->project() / "late.txt"));
  // Applied changes are the new base: only the held-back hook remains.
  auto after = env_->cli({"diff", "--names"});
  EXPECT_EQ(after.out.find("README.md"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find(".git/hooks/post-checkout"), std::string::npos) << after.out;
  // Discard: the volume becomes the project again.
  auto d = env_->cli({"discard", "--yes"});
  ASSERT_EQ(d.exit_code, 0) << describe(d);
  EXPECT_NE(env_->cli({"diff"}).out.find("No changes"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Users, WorkspaceAttackTest, ::testing::Values(EngineUser::root, EngineUser::unprivileged),
                         [](const auto& info) { return to_string(info.param); });

}  // namespace
}  // namespace cc::test
