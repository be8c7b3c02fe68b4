#include "net/audit_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "util/error.hpp"

namespace cc::net {
namespace {

std::string iso_time(std::int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string human_bytes(std::uint64_t n) {
  char buf[32];
  if (n < 1024) std::snprintf(buf, sizeof buf, "%lluB", static_cast<unsigned long long>(n));
  else if (n < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1fK", n / 1024.0);
  else if (n < 1024ull * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1fM", n / (1024.0 * 1024));
  else std::snprintf(buf, sizeof buf, "%.1fG", n / (1024.0 * 1024 * 1024));
  return buf;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// One readable line for one JSON record; the raw text when the line is not a record.
std::string readable(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "? " + line;
  auto str = [&](const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string(); };
  auto num = [&](const char* key) -> std::uint64_t {
    return j.contains(key) && j[key].is_number_unsigned() ? j[key].get<std::uint64_t>() : 0;
  };
  std::string time = str("time");
  if (time.size() >= 23) time = time.substr(0, 10) + " " + time.substr(11, 12);
  std::string decision = str("decision") == "allowed" ? "ALLOW" : "DENY";
  std::string host = str("host");
  std::string target = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(num("port"));
  std::string out;
  if (str("kind") == "gateway") {
    // The gateway's requests: "API", method, upstream and path, the status the client got.
    std::string destination = target + str("path");
    std::string status = std::to_string(num("status"));
    out = pad(time, 24) + pad("API", 6) + pad(str("method"), 8) + pad(destination, 36) + " " +
          pad("status " + status, 28) + " out " + pad(human_bytes(num("bytes_out")), 8) + " in " +
          pad(human_bytes(num("bytes_in")), 8) + " " + std::to_string(num("duration_ms")) + "ms";
    std::string error = str("error");
    if (!error.empty()) out += "  " + error;
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  }
  out = pad(time, 24) + pad(decision, 6) + pad(str("method"), 8) + pad(target, 36) + " " +
                    pad(str("rule"), 28) + " out " + pad(human_bytes(num("bytes_out")), 8) + " in " +
                    pad(human_bytes(num("bytes_in")), 8) + " " + std::to_string(num("duration_ms")) + "ms";
  std::string error = str("error");
  if (!error.empty()) out += "  " + error;
  if (num("count") > 1) out += "  (" + std::to_string(num("count")) + " times, the last at this time)";
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::string audit_path(std::string_view target) {
  constexpr std::size_t kMax = 256;
  std::string_view path = target.substr(0, target.find('?'));
  std::string out;
  for (char c : path) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u >= 0x7f) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", u);
      if (out.size() + 3 > kMax) break;
      out += buf;
    } else {
      if (out.size() + 1 > kMax) break;
      out += c;
    }
  }
  return out;
}

std::string to_json_line(const AuditRecord& r) {
  // Proxy decisions and gateway requests share one file; each kind keeps its own key order.
  const bool gateway = r.kind == "gateway";
  nlohmann::ordered_json j;
  j["time"] = iso_time(r.time_ms);
  j["time_ms"] = r.time_ms;
  if (gateway) j["kind"] = r.kind;
  j["host"] = r.host;
  j["port"] = r.port;
  if (gateway) {
    j["method"] = r.method;
    j["path"] = r.path;
    j["status"] = r.status;
  } else {
    j["decision"] = r.allowed ? "allowed" : "denied";
    j["rule"] = r.rule;
    j["method"] = r.method;
  }
  j["bytes_out"] = r.bytes_out;
  j["bytes_in"] = r.bytes_in;
  j["duration_ms"] = r.duration_ms;
  j["error"] = r.error;
  if (!gateway && r.count > 1) j["count"] = r.count;
  // Hosts and paths come from the network: never let invalid UTF-8 make the line unwritable.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

struct AuditWriter::State {
  struct Pending {
    std::chrono::steady_clock::time_point since;
    std::uint64_t repeats = 0;  // identical denials after the one written at `since`
    AuditRecord last;
  };
  std::mutex mutex;
  std::unordered_map<std::string, Pending> pending;
};

namespace {

std::string denial_kind(const AuditRecord& r) {
  return r.host + '\n' + std::to_string(r.port) + '\n' + r.method + '\n' + r.rule + '\n' + r.error;
}

std::string line_for(AuditRecord record, std::uint64_t count) {
  record.count = count;
  return to_json_line(record);
}

}  // namespace

AuditWriter::AuditWriter(const std::filesystem::path& path, std::chrono::milliseconds repeat_window)
    : path_(path), window_(repeat_window), state_(std::make_unique<State>()) {
  if (path.empty()) return;
  fd_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd_) throw_errno("cannot open the network audit log " + path.string());
}

void AuditWriter::rotate_if_needed(std::size_t adding) {
  struct stat mine {}, named {};
  if (::fstat(fd_.get(), &mine) != 0) return;
  const bool moved = ::stat(path_.c_str(), &named) != 0 || named.st_ino != mine.st_ino || named.st_dev != mine.st_dev;
  if (!moved && static_cast<std::uint64_t>(mine.st_size) + adding <= kMaxAuditLogBytes) return;
  if (!moved) ::rename(path_.c_str(), (path_.string() + ".1").c_str());
  UniqueFd fresh(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  // In place of the old descriptor, so the number other code may hold stays valid.
  if (fresh) ::dup3(fresh.get(), fd_.get(), O_CLOEXEC);
}

AuditWriter::~AuditWriter() {
  if (state_) flush_repeats(true);
}

void AuditWriter::write_line(const std::string& line) {
  rotate_if_needed(line.size());
  ssize_t n;
  do n = ::write(fd_.get(), line.data(), line.size());
  while (n < 0 && errno == EINTR);
}

void AuditWriter::write(const AuditRecord& record) {
  if (!fd_) return;
  try {
    std::lock_guard lock(state_->mutex);
    if (record.kind.empty() && !record.allowed) {
      const auto now = std::chrono::steady_clock::now();
      auto key = denial_kind(record);
      auto it = state_->pending.find(key);
      if (it != state_->pending.end()) {
        if (now - it->second.since < window_) {
          ++it->second.repeats;
          it->second.last = record;
          return;
        }
        if (it->second.repeats > 0) write_line(line_for(it->second.last, it->second.repeats));
        state_->pending.erase(it);
      }
      if (state_->pending.size() >= kMaxPendingDenialKinds) {
        for (auto& [k, p] : state_->pending)
          if (p.repeats > 0) write_line(line_for(p.last, p.repeats));
        state_->pending.clear();
      }
      state_->pending.emplace(std::move(key), State::Pending{now, 0, record});
    }
    write_line(line_for(record, 1));
  } catch (...) {
    // Out of memory or an unencodable record: the audit loses a line, the proxy keeps serving.
  }
}

void AuditWriter::flush_repeats(bool all) {
  if (!fd_) return;
  try {
    std::lock_guard lock(state_->mutex);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = state_->pending.begin(); it != state_->pending.end();) {
      if (!all && now - it->second.since < window_) {
        ++it;
        continue;
      }
      if (it->second.repeats > 0) write_line(line_for(it->second.last, it->second.repeats));
      it = state_->pending.erase(it);
    }
  } catch (...) {
  }
}

namespace {

std::string audit_header() {
  return pad("TIME (UTC)", 24) + pad("", 6) + pad("METHOD", 8) + pad("DESTINATION", 36) + " " + pad("RULE / STATUS", 28) +
         " BYTES (out / in) DURATION\n";
}

}  // namespace

void print_audit_log(const std::filesystem::path& path, bool follow, std::ostream& out) {
  bool header = false;
  // Prints the complete lines at the front of `pending` and keeps the unfinished rest.
  auto print_complete_lines = [&](std::string& pending) {
    size_t start = 0, nl;
    while ((nl = pending.find('\n', start)) != std::string::npos) {
      std::string line = pending.substr(start, nl - start);
      start = nl + 1;
      if (line.empty()) continue;
      if (!header) {
        out << audit_header();
        header = true;
      }
      out << readable(line) << '\n';
    }
    pending.erase(0, start);
  };
  char buf[65536];
  ssize_t n;
  // The records the writer rotated away at its size bound come first (AuditWriter::rotate_if_needed).
  if (UniqueFd older(::open((path.string() + ".1").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)); older) {
    std::string pending;
    while ((n = ::read(older.get(), buf, sizeof buf)) > 0) {
      pending.append(buf, static_cast<size_t>(n));
      print_complete_lines(pending);
    }
  }
  std::string partial;
  std::uintmax_t offset = 0;
  while (true) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd) {
      struct stat st {};
      if (::fstat(fd.get(), &st) == 0 && static_cast<std::uintmax_t>(st.st_size) < offset) {
        offset = 0;  // truncated or replaced: start over
        partial.clear();
      }
      if (::lseek(fd.get(), static_cast<off_t>(offset), SEEK_SET) >= 0) {
        while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
          offset += static_cast<std::uintmax_t>(n);
          partial.append(buf, static_cast<size_t>(n));
          print_complete_lines(partial);
        }
      }
    }
    out.flush();
    if (!follow) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

std::uint64_t count_denials(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::uint64_t count = 0;
  std::string line;
  while (std::getline(in, line)) {
    // Cheap pre-filter, then a real parse so a host named "denied" cannot inflate the count.
    if (line.find("\"denied\"") == std::string::npos) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("decision", "") != "denied") continue;
    // An aggregated record stands for `count` denials (AuditWriter).
    const auto it = j.find("count");
    count += it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 1;
  }
  return count;
}

}  // namespace cc::net
