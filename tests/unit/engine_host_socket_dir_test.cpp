// Where the image engines' host side puts its sockets: the default under the state directory
// while it fits sun_path on every platform, else a short per-user alias under $TMPDIR (or /tmp)
// that is created private, never through a link, and refused when someone else could reach it.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "engine/image/host_network.hpp"
#include "engine/image/host_socket_dir.hpp"
#include "support/required_feature.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace {

namespace fs = std::filesystem;
namespace image = cc::engine::image;

// Sets TMPDIR for one test and restores it.
class TmpdirOverride {
 public:
  explicit TmpdirOverride(const fs::path& value) {
    if (const char* old = std::getenv("TMPDIR")) old_ = old;
    ::setenv("TMPDIR", value.c_str(), 1);
  }
  ~TmpdirOverride() {
    if (old_) {
      ::setenv("TMPDIR", old_->c_str(), 1);
    } else {
      ::unsetenv("TMPDIR");
    }
  }
  TmpdirOverride(const TmpdirOverride&) = delete;
  TmpdirOverride& operator=(const TmpdirOverride&) = delete;

 private:
  std::optional<std::string> old_;
};

// A Mac's default state directory for a container with a long name: too long for sun_path.
fs::path long_state_dir(const std::string& name = "demo") {
  return fs::path("/Users/somebody-with-a-long-name/.local/state/claude-container") / (name + "-" + std::string(40, 'a') + ".apple");
}

std::size_t longest_socket(const fs::path& dir) { return (dir / image::kGatewaySocketName).string().size(); }

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Binds a socket at `path` by its full name, as Apple's runtime reaches it on the Mac.
bool binds_by_name(const fs::path& path) {
  cc::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof addr.sun_path) return false;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace

TEST(HostSocketDir, AStateDirThatFitsKeepsTheSocketsInsideIt) {
  const fs::path state = "/home/dev/.local/state/claude-container/demo-1a2b3c4d5e6f.docker";
  EXPECT_EQ(image::choose_host_network_socket_dir(state, "/tmp/x", 1000), state / "host-network" / "sockets");
  EXPECT_FALSE(image::is_short_socket_dir(state, image::choose_host_network_socket_dir(state, nullptr, 1000)));
}

TEST(HostSocketDir, ALongStateDirGetsAShortPerUserAliasWithinTheLimit) {
  const fs::path state = long_state_dir();
  ASSERT_GT(longest_socket(state / "host-network" / "sockets"), image::kPortableSocketPathMax);
  // A Mac's TMPDIR is about 50 bytes; the alias goes there.
  const std::string mac_tmp = "/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/";
  const fs::path dir = image::choose_host_network_socket_dir(state, mac_tmp.c_str(), 501);
  EXPECT_TRUE(image::is_short_socket_dir(state, dir));
  EXPECT_LE(longest_socket(dir), image::kPortableSocketPathMax) << dir;
  EXPECT_EQ(dir.parent_path(), fs::path("/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/cc-501"));
  EXPECT_EQ(dir.filename().string().size(), 16u);
  // The same answer every time (status, stop and destroy find it again), another for another
  // container, and none for another user.
  EXPECT_EQ(dir, image::choose_host_network_socket_dir(state, mac_tmp.c_str(), 501));
  EXPECT_NE(dir.filename(), image::choose_host_network_socket_dir(long_state_dir("other"), mac_tmp.c_str(), 501).filename());
  EXPECT_EQ(image::choose_host_network_socket_dir(state, mac_tmp.c_str(), 502).parent_path().filename(), "cc-502");
  // No TMPDIR, a relative one, or one too long for the alias: /tmp.
  EXPECT_EQ(image::choose_host_network_socket_dir(state, nullptr, 501).parent_path(), fs::path("/tmp/cc-501"));
  EXPECT_EQ(image::choose_host_network_socket_dir(state, "relative", 501).parent_path(), fs::path("/tmp/cc-501"));
  const std::string long_tmp = "/" + std::string(90, 't');
  EXPECT_EQ(image::choose_host_network_socket_dir(state, long_tmp.c_str(), 501).parent_path(), fs::path("/tmp/cc-501"));
}

TEST(HostSocketDir, TheAliasIsMadePrivateWorksByNameAndIsRemovedWhole) {
  cc::test::TempDir states("cc-sockdir-state");
  cc::test::TempDir tmp("cc-sockdir");
  TmpdirOverride env(tmp.path());
  const fs::path state = states / std::string(110, 's');
  fs::create_directories(state);
  fs::permissions(state, fs::perms::owner_all, fs::perm_options::replace);

  auto dir = image::open_host_network_socket_dir(state);
  ASSERT_TRUE(dir.fd);
  EXPECT_EQ(dir.path, image::host_network_socket_dir(state));
  ASSERT_TRUE(image::is_short_socket_dir(state, dir.path));
  EXPECT_EQ(dir.path.parent_path().parent_path(), tmp.path());
  EXPECT_EQ(mode_of(dir.path.parent_path()), 0700u);
  EXPECT_EQ(mode_of(dir.path), 0755u);
  ASSERT_TRUE(binds_by_name(dir.path / image::kGatewaySocketName)) << dir.path;
  // Opening again (the host side after the engine) is fine.
  EXPECT_TRUE(image::open_host_network_socket_dir(state).fd);

  image::remove_host_network_sockets(state);
  EXPECT_FALSE(fs::exists(dir.path / image::kGatewaySocketName));
  EXPECT_TRUE(fs::is_directory(dir.path));
  image::remove_host_network_socket_dir(state);
  EXPECT_TRUE(fs::is_empty(tmp.path())) << "the alias and cc-<uid> must go";
  image::remove_host_network_socket_dir(state);  // idempotent
}

TEST(HostSocketDir, ASymlinkedOrLoosenedAliasParentIsRefused) {
  cc::test::TempDir states("cc-sockdir-state");
  cc::test::TempDir tmp("cc-sockdir");
  TmpdirOverride env(tmp.path());
  const fs::path state = states / std::string(110, 's');
  fs::create_directories(state);
  const fs::path parent = image::host_network_socket_dir(state).parent_path();
  ASSERT_EQ(parent.parent_path(), tmp.path());

  const fs::path elsewhere = tmp / "elsewhere";
  fs::create_directory(elsewhere);
  fs::permissions(elsewhere, fs::perms::owner_all, fs::perm_options::replace);
  fs::create_directory_symlink(elsewhere, parent);
  try {
    (void)image::open_host_network_socket_dir(state);
    ADD_FAILURE() << "a planted symlink was followed";
  } catch (const cc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("symlink"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(elsewhere));
  image::remove_host_network_socket_dir(state);
  EXPECT_TRUE(fs::is_symlink(parent)) << "clean-up must not touch what it did not make";
  fs::remove(parent);

  fs::create_directory(parent);
  fs::permissions(parent, fs::perms::owner_all | fs::perms::group_all | fs::perms::others_all, fs::perm_options::replace);
  try {
    (void)image::open_host_network_socket_dir(state);
    ADD_FAILURE() << "a directory others can write was used";
  } catch (const cc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("other users can reach it"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(parent));
}

TEST(HostSocketDir, AnAliasParentOfAnotherUserIsRefused) {
  CC_SKIP_UNLESS_FEATURE(::geteuid() == 0, "root-engine") << "making a directory another user owns needs root";
  cc::test::TempDir states("cc-sockdir-state");
  cc::test::TempDir tmp("cc-sockdir");
  TmpdirOverride env(tmp.path());
  const fs::path state = states / std::string(110, 's');
  fs::create_directories(state);
  const fs::path parent = image::host_network_socket_dir(state).parent_path();
  fs::create_directory(parent);
  fs::permissions(parent, fs::perms::owner_all, fs::perm_options::replace);
  ASSERT_EQ(::chown(parent.c_str(), 65534, 65534), 0);
  try {
    (void)image::open_host_network_socket_dir(state);
    ADD_FAILURE() << "another user's directory was used";
  } catch (const cc::Error& e) {
    EXPECT_NE(std::string(e.what()).find("belongs to another user"), std::string::npos) << e.what();
  }
  image::remove_host_network_socket_dir(state);
  EXPECT_TRUE(fs::is_directory(parent)) << "clean-up must not remove another user's directory";
  EXPECT_TRUE(fs::is_empty(parent));
}
