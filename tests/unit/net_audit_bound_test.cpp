// A process in the sandbox can make the gateway (or the proxy) write one audit record per
// request it sends, refused ones included, as fast as it likes. The audit file lives in the
// state directory, usually a small tmpfs; unbounded, it fills that and breaks the host session.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/audit_log.hpp"
#include "support/temp_dir.hpp"

namespace {

std::uintmax_t size_of(const std::filesystem::path& p) {
  std::error_code ec;
  auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : n;
}

std::string last_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

cc::net::AuditRecord refused_trace(int i) {
  cc::net::AuditRecord r;
  r.kind = "gateway";
  r.host = "api.anthropic.com";
  r.port = 443;
  r.method = "TRACE";
  r.path = cc::net::audit_path("/" + std::string(240, 'a') + std::to_string(i));
  r.status = 405;
  r.error = "the credential gateway forwards the methods GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS only";
  return r;
}

}  // namespace

TEST(AuditLogBound, AFloodOfRecordsKeepsTheFilesWithinTheLimit) {
  const std::uint64_t limit = 16ull * 1024 * 1024;  // kMaxAuditLogBytes
  cc::test::TempDir dir("cc-audit");
  const auto path = dir / "network.jsonl";
  cc::net::AuditWriter writer(path);
  // A second writer of the same file, as the proxy and the gateway are.
  cc::net::AuditWriter other(path);
  std::uint64_t written = 0;
  int i = 0;
  while (written < 3 * limit) {
    auto record = refused_trace(i);
    written += cc::net::to_json_line(record).size();
    (i % 2 ? other : writer).write(record);
    ++i;
  }
  EXPECT_LE(size_of(path), limit);
  EXPECT_LE(size_of(dir / "network.jsonl.1"), limit);
  EXPECT_GT(size_of(dir / "network.jsonl.1"), 0u);
  // The newest record is in the file `logs --network` reads.
  EXPECT_NE(last_line(path).find(std::string(240, 'a') + std::to_string(i - 1)), std::string::npos);
  std::uintmax_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) total += size_of(entry.path());
  EXPECT_LE(total, 2 * limit);
}

TEST(AuditLogBound, LogsShowTheRotatedRecordsBeforeTheCurrentOnes) {
  cc::test::TempDir dir("cc-audit");
  const auto path = dir / "network.jsonl";
  auto record_for = [](const std::string& host) {
    cc::net::AuditRecord r;
    r.time_ms = 1700000000000;
    r.host = host;
    r.port = 443;
    r.method = "CONNECT";
    return r;
  };
  {
    cc::net::AuditWriter writer(path);
    writer.write(record_for("older.example"));
  }
  std::filesystem::rename(path, dir / "network.jsonl.1");
  {
    cc::net::AuditWriter writer(path);
    writer.write(record_for("newer.example"));
  }
  std::ostringstream out;
  cc::net::print_audit_log(path, false, out);
  const auto text = out.str();
  const auto older = text.find("older.example"), newer = text.find("newer.example");
  ASSERT_NE(older, std::string::npos) << text;
  ASSERT_NE(newer, std::string::npos) << text;
  EXPECT_LT(older, newer) << text;
  EXPECT_EQ(text.find("TIME (UTC)"), text.rfind("TIME (UTC)")) << "one header: " << text;
}

namespace {

cc::net::AuditRecord denial(const std::string& host, std::uint16_t port) {
  cc::net::AuditRecord r;
  r.host = host;
  r.port = port;
  r.method = "CONNECT";
  r.rule = "default-deny";
  return r;
}

std::vector<nlohmann::json> records_in(const std::filesystem::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

}  // namespace

// A denial loop writes the first denial and then one record that counts the repeats.
TEST(AuditLogBound, RepeatedDenialsAreOneRecordWithACount) {
  cc::test::TempDir dir("cc-audit");
  const auto path = dir / "network.jsonl";
  cc::net::AuditWriter writer(path);
  for (int i = 0; i < 100000; ++i) writer.write(denial("denied.example", 443));
  writer.write(denial("denied.example", 80));   // another port: a kind of its own
  cc::net::AuditRecord allowed = denial("allowed.example", 443);
  allowed.allowed = true;
  allowed.rule = "allow:allowed.example";
  writer.write(allowed);
  writer.write(allowed);                         // allowed requests are never aggregated
  EXPECT_EQ(records_in(path).size(), 4u);
  EXPECT_LT(size_of(path), 2048u) << "a denial loop still writes a line per attempt";
  writer.flush_repeats(true);
  auto records = records_in(path);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[4]["host"], "denied.example");
  EXPECT_EQ(records[4]["port"], 443);
  EXPECT_EQ(records[4]["count"], 99999);
  EXPECT_EQ(cc::net::count_denials(path), 100001u);
  std::ostringstream shown;
  cc::net::print_audit_log(path, false, shown);
  EXPECT_NE(shown.str().find("99999 times"), std::string::npos) << shown.str();
}

// When the window has passed, the count is written by the periodic flush and the next denial
// of the kind starts a new window with a record of its own.
TEST(AuditLogBound, ACountIsWrittenWhenItsWindowEnds) {
  cc::test::TempDir dir("cc-audit");
  const auto path = dir / "network.jsonl";
  cc::net::AuditWriter writer(path, std::chrono::milliseconds(1));
  for (int i = 0; i < 3; ++i) writer.write(denial("denied.example", 443));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  writer.flush_repeats();
  writer.write(denial("denied.example", 443));
  auto records = records_in(path);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_FALSE(records[0].contains("count"));
  EXPECT_EQ(records[1]["count"], 2);
  EXPECT_FALSE(records[2].contains("count"));
  EXPECT_EQ(cc::net::count_denials(path), 4u);
}
