#pragma once
// The network audit: one JSON line per egress proxy decision (time, host, port, decision, rule,
// bytes each way, duration) and one per credential gateway request (time, upstream host and
// port, method, path without the query, status, bytes each way, duration; never headers or
// bodies), appended to a file in the container's state directory.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

#include "util/unique_fd.hpp"

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
  // Gateway records (kind "gateway"); proxy records leave these empty and keep their format.
  std::string kind;              // "" for the proxy, "gateway"
  std::string path;              // audit_path() of the request target
  int status = 0;                // the status the client got (upstream's, or the gateway's own)
  // Proxy denials: how many identical denials this record stands for (see AuditWriter).
  std::uint64_t count = 1;
};

// A request target as the audit shows it: the path without the query, at most 256 bytes,
// control and non-ASCII bytes escaped as %XX.
std::string audit_path(std::string_view target);

// {"time":"2026-01-02T03:04:05.678Z","time_ms":...,"host":...,"port":...,"decision":"allowed"|
// "denied","rule":...,"method":...,"bytes_out":...,"bytes_in":...,"duration_ms":...,"error":...}
// and "count":N after "error" when a record stands for N > 1 denials, followed by a newline. Gateway records: {"time":...,"time_ms":...,"kind":"gateway","host":...,
// "port":...,"method":...,"path":...,"status":...,"bytes_out":...,"bytes_in":...,
// "duration_ms":...,"error":...}.
std::string to_json_line(const AuditRecord& record);

// A process in the sandbox makes records as fast as it sends requests (a refused one costs it
// nothing), and the file is in the state directory, often a small tmpfs ($XDG_RUNTIME_DIR, or
// /run as root) whose filling breaks the user's session or the system. Past this size the file
// moves to <name>.1 (replacing the older one) and a new one starts.
inline constexpr std::uint64_t kMaxAuditLogBytes = 16 * 1024 * 1024;

// A denial loop must not write a line per attempt: the first denial of a kind (same host, port,
// method, rule and error) is written at once, the identical ones in the next window only
// counted, and written as one record with "count" when the window ends.
inline constexpr std::chrono::milliseconds kDenialRepeatWindow{10000};
inline constexpr std::size_t kMaxPendingDenialKinds = 1024;

// Appends records to the audit file, one write(2) per line (O_APPEND), so a concurrent reader
// never sees half a record. An empty path writes nothing. Throws cc::Error when it cannot open.
// Keeps at most kMaxAuditLogBytes in the file and as much in <name>.1; follows a rotation made
// by another writer of the same file (the proxy and the gateway share it). Aggregates repeated
// proxy denials (kDenialRepeatWindow); the owner calls flush_repeats now and then.
class AuditWriter {
 public:
  AuditWriter() = default;
  explicit AuditWriter(const std::filesystem::path& path,
                       std::chrono::milliseconds repeat_window = kDenialRepeatWindow);
  AuditWriter(AuditWriter&&) noexcept = default;
  AuditWriter& operator=(AuditWriter&&) noexcept = default;
  ~AuditWriter();
  void write(const AuditRecord& record);  // never throws: a full disk must not stop the proxy
  // Writes the counted repeats whose window ended (all of them when `all`). Never throws.
  void flush_repeats(bool all = false);

 private:
  struct State;
  void write_line(const std::string& line);
  void rotate_if_needed(std::size_t adding);
  UniqueFd fd_;
  std::filesystem::path path_;
  std::chrono::milliseconds window_{kDenialRepeatWindow};
  std::unique_ptr<State> state_;
};

// `logs --network`: the audit log as readable lines; follows appends when `follow`.
// Returns when the file ends (or never, with follow, until interrupted).
void print_audit_log(const std::filesystem::path& path, bool follow, std::ostream& out);

// Number of denied records in the file (for `status` when the supervisor is not asked).
std::uint64_t count_denials(const std::filesystem::path& path);

}  // namespace cc::net
