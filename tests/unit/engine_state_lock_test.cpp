// The lifecycle lock survives `destroy` removing the state directory under it: a start that
// waited for the lock must end up holding the lock file that exists, so the next start waits
// for it in turn (two starts holding locks on different files would both run).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "engine/native/state_dir.hpp"
#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace cc::engine::native {
namespace {

namespace fs = std::filesystem;

// True once /proc/locks shows a process blocked on a flock of inode `ino`.
bool someone_waits_on(ino_t ino) {
  std::ifstream locks("/proc/locks");
  std::string line;
  const std::string tail = ":" + std::to_string(ino) + " ";
  while (std::getline(locks, line)) {
    if (line.find("->") != std::string::npos && line.find("FLOCK") != std::string::npos &&
        line.find(tail) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(StateLock, AWaiterLocksTheFileThatExistsAfterTheDirectoryWasRemoved) {
  test::TempDir tmp("cc-state-lock");
  ContainerPaths paths;
  paths.key = "x-000000000000";
  paths.state_base = tmp / "state";
  paths.state_dir = paths.state_base / paths.key;

  auto holder = std::make_unique<StateLock>(paths, StateLock::Mode::exclusive);
  struct stat first {};
  ASSERT_EQ(::stat(paths.lock_file().c_str(), &first), 0);
  bool acquired = false;
  std::thread waiter([&] {
    StateLock lock(paths, StateLock::Mode::exclusive);
    acquired = true;
    // Held here while the main thread checks that the named lock file is the one held.
    UniqueFd probe(::open(paths.lock_file().c_str(), O_RDWR | O_CLOEXEC));
    EXPECT_TRUE(probe) << "the lock file is gone after the waiter took the lock";
    if (probe) {
      EXPECT_NE(::flock(probe.get(), LOCK_EX | LOCK_NB), 0) << "the named lock file is free while a start holds a lock";
    }
  });
  // Bounded wait until the waiter blocks on the original file (no timing is asserted).
  for (int i = 0; i < 1000 && !someone_waits_on(first.st_ino); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(someone_waits_on(first.st_ino));
  // What destroy does while it holds the lock.
  fs::remove_all(paths.state_dir);
  holder.reset();
  waiter.join();
  EXPECT_TRUE(acquired);
}

}  // namespace
}  // namespace cc::engine::native
