#include "engine/native/oom_watch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <charconv>
#include <string_view>

#include "engine/native/cgroups.hpp"

namespace cc::engine::native {

namespace fs = std::filesystem;

namespace {

// "key value" lines, as memory.events and memory.oom_control hold them. No streams: the
// supervisor calls this every second and should touch as little code as it can.
std::optional<std::uint64_t> field(std::string_view text, std::string_view name) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.size() <= name.size() || line.substr(0, name.size()) != name || line[name.size()] != ' ') continue;
    std::uint64_t value = 0;
    const auto digits = line.substr(name.size() + 1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || ptr == digits.data()) return std::nullopt;
    return value;
  }
  return std::nullopt;
}

// The count from a counter file kept open: one pread, no path walk or allocation.
std::optional<std::uint64_t> read_kills_from(int fd) {
  char buf[1024];
  const ssize_t n = ::pread(fd, buf, sizeof(buf), 0);
  if (n <= 0) return std::nullopt;
  return field(std::string_view(buf, static_cast<std::size_t>(n)), "oom_kill");
}

}  // namespace

std::optional<std::uint64_t> read_oom_kills(const std::string& memory_dir) {
  if (memory_dir.empty()) return std::nullopt;
  const fs::path dir(memory_dir);
  if (auto events = read_cgroup_file(dir / "memory.events"); !events.empty()) return field(events, "oom_kill");
  if (auto control = read_cgroup_file(dir / "memory.oom_control"); !control.empty()) return field(control, "oom_kill");
  return std::nullopt;
}

std::string memory_cgroup_of(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    const fs::path d(dir);
    if (::access((d / "memory.events").c_str(), F_OK) == 0 || ::access((d / "memory.oom_control").c_str(), F_OK) == 0) {
      return dir;
    }
  }
  return "";
}

std::string oom_sentence(std::uint64_t kills, const std::string& limit_text, const std::string& memory_dir) {
  return "out of memory: the kernel's OOM killer ended " + std::to_string(kills) +
         " process(es) of the container at its memory limit" + (limit_text.empty() ? "" : " (" + limit_text + ")") +
         ", counted in " + memory_dir + "; raise resources.memory in .claude-container/config.json if it needs more";
}

std::filesystem::path oom_record(const std::filesystem::path& state_dir) { return state_dir / "last-run-oom"; }

OomWatch::OomWatch(std::string memory_dir, bool v2, std::string limit_text)
    : dir_(std::move(memory_dir)), v2_(v2), limit_text_(std::move(limit_text)) {
  if (dir_.empty()) return;
  seen_ = first_ = read_oom_kills(dir_).value_or(0);
  const fs::path dir(dir_);
  if (v2_) {
    fd_.reset(::open((dir / "memory.events").c_str(), O_RDONLY | O_CLOEXEC));
    return;
  }
  control_.reset(::open((dir / "memory.oom_control").c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!control_ || !event) return;
  const std::string line = std::to_string(event.get()) + " " + std::to_string(control_.get());
  UniqueFd reg(::open((dir / "cgroup.event_control").c_str(), O_WRONLY | O_CLOEXEC));
  if (reg && ::write(reg.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size())) fd_ = std::move(event);
}

std::optional<std::string> OomWatch::check() {
  if (dir_.empty()) return std::nullopt;
  if (fd_ && !v2_) {
    std::uint64_t count = 0;
    ssize_t ignored = ::read(fd_.get(), &count, sizeof(count));  // drains the eventfd
    (void)ignored;
  }
  // v2: reading memory.events also re-arms POLLPRI; v1: memory.oom_control is kept open.
  const int counter = v2_ ? fd_.get() : control_.get();
  auto kills = counter >= 0 ? read_kills_from(counter) : read_oom_kills(dir_);
  if (!kills || *kills <= seen_) return std::nullopt;
  const std::uint64_t fresh = *kills - seen_;
  seen_ = *kills;
  return oom_sentence(fresh, limit_text_, dir_);
}

std::optional<std::string> OomWatch::summary() const {
  if (seen_ <= first_) return std::nullopt;
  return oom_sentence(seen_ - first_, limit_text_, dir_);
}

}  // namespace cc::engine::native
