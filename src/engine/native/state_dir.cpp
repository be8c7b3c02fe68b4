#include "engine/native/state_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/native/cgroups.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::engine::native {

namespace fs = std::filesystem;
using nlohmann::json;

std::string serialize_run_state(const RunState& s) {
  json mounts = json::array();
  for (const auto& m : s.mounts) mounts.push_back({{"destination", m.destination}, {"source", m.source}, {"read_only", m.read_only}});
  json limits = json::array();
  for (const auto& l : s.limits) limits.push_back({{"name", l.name}, {"value", l.value}, {"enforced", l.enforced}, {"reason", l.reason}});
  json j = {{"supervisor_pid", s.supervisor_pid}, {"init_pid", s.init_pid}, {"init_start_time", s.init_start_time},
            {"started_at", s.started_at},         {"boot_id", s.boot_id},   {"project_dir", s.project_dir},
            {"own_netns", s.own_netns},           {"network_mode", s.network_mode},
            {"cgroup_dirs", s.cgroup_dirs},       {"mounts", mounts},       {"limits", limits},
            {"notes", s.notes}};
  if (!s.credential_kind.empty()) j["gateway"] = {{"kind", s.credential_kind}, {"origin", s.credential_origin}};
  return j.dump(2) + "\n";
}

RunState parse_run_state(const std::string& text) {
  RunState s;
  try {
    json j = json::parse(text);
    s.supervisor_pid = j.at("supervisor_pid").get<pid_t>();
    s.init_pid = j.at("init_pid").get<pid_t>();
    s.init_start_time = j.at("init_start_time").get<std::uint64_t>();
    s.started_at = j.at("started_at").get<std::int64_t>();
    s.boot_id = j.at("boot_id").get<std::string>();
    s.project_dir = j.at("project_dir").get<std::string>();
    s.own_netns = j.at("own_netns").get<bool>();
    s.network_mode = j.at("network_mode").get<std::string>();
    s.cgroup_dirs = j.at("cgroup_dirs").get<std::vector<std::string>>();
    for (const auto& m : j.at("mounts")) s.mounts.push_back({m.at("destination"), m.at("source"), m.at("read_only")});
    for (const auto& l : j.at("limits")) s.limits.push_back({l.at("name"), l.at("value"), l.at("enforced"), l.at("reason")});
    s.notes = j.at("notes").get<std::vector<std::string>>();
    if (j.contains("gateway")) {
      s.credential_kind = j.at("gateway").at("kind").get<std::string>();
      s.credential_origin = j.at("gateway").at("origin").get<std::string>();
    }
  } catch (const json::exception& e) {
    throw Error(std::string("the container's state file is damaged (") + e.what() + ")");
  }
  return s;
}

StateLock::StateLock(const ContainerPaths& paths, Mode mode) {
  const int op = mode == Mode::exclusive ? LOCK_EX : LOCK_SH;
  for (;;) {
    ensure_private_dir(paths.state_base);
    ensure_private_dir(paths.state_dir);
    fd_.reset(::open(paths.lock_file().c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd_) throw_errno("cannot open the lock file " + paths.lock_file().string());
    while (::flock(fd_.get(), op) != 0) {
      if (errno != EINTR) throw_errno("cannot lock " + paths.lock_file().string());
    }
    // `destroy` removes the state directory, lock file included, while it holds the lock: a
    // lock taken on the file it removed guards nothing, so take the one that is there now.
    struct stat held {}, named {};
    if (::fstat(fd_.get(), &held) == 0 && held.st_nlink > 0 && ::lstat(paths.lock_file().c_str(), &named) == 0 &&
        named.st_dev == held.st_dev && named.st_ino == held.st_ino) {
      return;
    }
  }
}

bool supervisor_alive(const ContainerPaths& paths) {
  UniqueFd fd(::open(paths.alive_lock().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return false;
  if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return false;  // nobody holds it: supervisor gone
  return errno == EWOULDBLOCK;
}

Inspection inspect(const ContainerPaths& paths) {
  Inspection result;
  auto text = read_private_file(paths.state_file());
  bool alive = supervisor_alive(paths);
  if (text) {
    try {
      result.state = parse_run_state(*text);
    } catch (const Error&) {
      result.state = RunState{};  // damaged: treat as stale remains
    }
  }
  if (alive && result.state) {
    result.running = true;
  } else if (result.state) {
    result.stale = true;
  }
  return result;
}

void write_runtime_file(const fs::path& path, const std::string& content) {
  fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()));
  ::unlink(tmp.c_str());  // a leftover of a crashed writer with our pid
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) throw_errno("cannot write " + tmp.string());
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw_errno("cannot write " + tmp.string());
    done += static_cast<size_t>(n);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw_errno("cannot replace " + path.string());
}

std::string current_boot_id() {
  auto text = read_file_if_exists("/proc/sys/kernel/random/boot_id");
  if (!text) return "";
  while (!text->empty() && text->back() == '\n') text->pop_back();
  return *text;
}

std::uint64_t process_start_time(pid_t pid) {
  auto text = read_file_if_exists("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return 0;
  auto close = text->rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(text->substr(close + 2));
  std::string field;
  // Fields after the command name start at 3 (state); starttime is field 22.
  for (int i = 3; i <= 22 && (in >> field); ++i) {
    if (i == 22) return std::stoull(field);
  }
  return 0;
}

std::string clean_stale_state(const ContainerPaths& paths, const RunState& state) {
  std::string what;
  if (!state.boot_id.empty() && state.boot_id != current_boot_id()) {
    what = "the machine restarted since the container last ran; removed its stale runtime state";
  } else {
    what = "the container's supervisor";
    if (state.supervisor_pid > 0) what += " (pid " + std::to_string(state.supervisor_pid) + ")";
    what += " ended without stopping the container cleanly (killed or crashed); removed its stale state";
    // pid 1 dies with the supervisor (parent-death signal); make sure, by identity, not by pid alone.
    if (state.init_pid > 0 && state.init_start_time != 0 &&
        process_start_time(state.init_pid) == state.init_start_time) {
      ::kill(state.init_pid, SIGKILL);
      what += " and killed its leftover pid 1 (" + std::to_string(state.init_pid) + ")";
    }
  }
  for (const auto& dir : state.cgroup_dirs) {
    if (is_container_cgroup(dir, paths.key)) remove_cgroup_dir(dir);
  }
  // Leave the finding in the container log too, where the supervisor could not write it.
  if (UniqueFd log(::open(paths.log_file().c_str(), O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)); log) {
    std::string line = "[claude-container] found at start-up/status: " + what + "\n";
    ssize_t ignored = ::write(log.get(), line.data(), line.size());
    (void)ignored;
  }
  std::error_code ec;
  fs::remove(paths.state_file(), ec);
  fs::remove(paths.control_socket(), ec);
  return what;
}

}  // namespace cc::engine::native
