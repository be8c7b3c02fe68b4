#pragma once
// The egress audit: one JSON line per decision (time, host, port, decision, rule, bytes each
// way, duration), appended to a file in the container's state directory.
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

namespace cc::net {

struct AuditRecord {
  std::int64_t time_ms = 0;      // unix epoch milliseconds, when the request arrived
  std::string host;
  std::uint16_t port = 0;
  bool allowed = false;
  std::string rule;
  std::string method;            // CONNECT, GET, ...
  std::uint64_t bytes_out = 0;   // sandbox -> upstream
  std::uint64_t bytes_in = 0;    // upstream -> sandbox
  std::int64_t duration_ms = 0;
  std::string error;             // dial/resolve failure, empty when none
};

std::string to_json_line(const AuditRecord& record);

// `logs --network`: the audit log as readable lines; follows appends when `follow`.
// Returns when the file ends (or never, with follow, until interrupted).
void print_audit_log(const std::filesystem::path& path, bool follow, std::ostream& out);

// Number of denied records in the file (for `status` when the supervisor is not asked).
std::uint64_t count_denials(const std::filesystem::path& path);

}  // namespace cc::net
