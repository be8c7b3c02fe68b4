// Egress proxy benchmark (bench/README.md, "Egress proxy"): bulk throughput through a CONNECT
// tunnel versus direct loopback TCP, the latency a request gains, and 1,000 concurrent tunnels
// with the proxy process's memory; the same for the peer proxy of @anthropic-ai/sandbox-runtime
// when bench/proxy_bench.sh started it (CC_BENCH_PEER="PORT PID").
//
// Our proxy runs in a child process (so its memory is its own), allowing 127.0.0.1 by literal
// entry and writing its audit log as in production. Upstreams are loopback servers here.
#include <arpa/inet.h>
#include <fcntl.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/domain_policy.hpp"
#include "net/egress_proxy.hpp"
#include "util/unique_fd.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using cc::UniqueFd;

enum class Route { direct, ours, ours_copy, peer };

void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

UniqueFd listen_loopback(std::uint16_t* port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd.get(), 4096) != 0) std::abort();
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

UniqueFd dial(std::uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return UniqueFd();
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool read_exact(int fd, void* data, size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

// Loopback upstreams, one thread per connection: "source" sends the number of bytes the client
// asks for (8-byte length) and closes; "echo" echoes until EOF.
class Upstreams {
 public:
  Upstreams() {
    source_ = listen_loopback(&source_port);
    echo_ = listen_loopback(&echo_port);
    std::thread([fd = source_.get()] { serve(fd, &source); }).detach();
    std::thread([fd = echo_.get()] { serve(fd, &echo); }).detach();
  }
  std::uint16_t source_port = 0, echo_port = 0;

 private:
  static void serve(int listener, void (*handler)(int)) {
    while (true) {
      int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::thread t([fd, handler] {
        handler(fd);
        ::close(fd);
      });
      t.detach();
    }
  }
  static void source(int fd) {
    static const std::vector<char> block(1 << 20, 'x');
    std::uint64_t want = 0;
    if (!read_exact(fd, &want, sizeof want)) return;
    while (want > 0) {
      size_t n = static_cast<size_t>(std::min<std::uint64_t>(want, block.size()));
      if (!write_all(fd, block.data(), n)) return;
      want -= n;
    }
    ::shutdown(fd, SHUT_WR);
  }
  static void echo(int fd) {
    char buf[65536];
    while (true) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0 || !write_all(fd, buf, static_cast<size_t>(n))) return;
    }
  }
  UniqueFd source_, echo_;
};

struct ProxyProcess {
  std::uint16_t port = 0;
  pid_t pid = -1;
};

// CC_BENCH_SMOKE=1 (tests/run.sh): each benchmark runs once with tiny sizes, only to show it
// still works; its numbers mean nothing.
bool smoke() {
  static const bool on = std::getenv("CC_BENCH_SMOKE") != nullptr;
  return on;
}
benchmark::IterationCount iterations(benchmark::IterationCount normal) { return smoke() ? 1 : normal; }

// The proxies' audit logs, under $TMPDIR, removed when the benchmark ends (the proxy
// processes die with us and cannot do it).
struct AuditLogs {
  std::vector<std::string> paths;
  ~AuditLogs() {
    for (const auto& path : paths) ::unlink(path.c_str());
  }
};
AuditLogs& audit_logs() {
  static AuditLogs logs;
  return logs;
}

// Forks a process that runs EgressProxy on 127.0.0.1:<ephemeral>.
ProxyProcess start_our_proxy(bool zero_copy) {
  int p[2];
  if (::pipe(p) != 0) std::abort();
  const char* tmp = std::getenv("TMPDIR");
  static int started = 0;
  std::string audit_log = std::string(tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp") + "/cc-proxy-bench-" +
                          std::to_string(::getpid()) + "-" + std::to_string(started++) + ".jsonl";
  audit_logs().paths.push_back(audit_log);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(0);
    std::uint16_t port = 0;
    UniqueFd listener = listen_loopback(&port);
    int flags = ::fcntl(listener.get(), F_GETFL);
    ::fcntl(listener.get(), F_SETFL, flags | O_NONBLOCK);
    cc::config::Network network;
    network.policy = cc::config::NetworkPolicy::isolated;
    network.allow = {"127.0.0.1"};
    cc::net::ProxyOptions options;
    options.listeners.push_back(std::move(listener));
    options.policy = cc::net::DomainPolicy::from_config(network);
    options.limits.zero_copy = zero_copy;
    options.audit_log = audit_log;
    cc::net::EgressProxy proxy(std::move(options));
    [[maybe_unused]] auto w = ::write(p[1], &port, sizeof port);
    ::close(p[1]);
    proxy.run();
    _exit(0);
  }
  ::close(p[1]);
  ProxyProcess out;
  out.pid = pid;
  if (::read(p[0], &out.port, sizeof out.port) != sizeof out.port) std::abort();
  ::close(p[0]);
  return out;
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// utime + stime of a process, in milliseconds.
double cpu_ms(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) * 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

struct World {
  ProxyProcess ours, ours_copy;
  std::optional<ProxyProcess> peer;
  std::optional<Upstreams> upstreams;
  std::map<std::string, double> direct;  // direct-route figures, for the ratios

  static World& get() {
    static World* world = [] {
      raise_fd_limit();
      auto* w = new World;
      w->ours = start_our_proxy(true);  // before any thread exists in this process
      w->ours_copy = start_our_proxy(false);
      w->upstreams.emplace();
      if (const char* env = std::getenv("CC_BENCH_PEER")) {
        ProxyProcess peer;
        int port = 0, pid = 0;
        if (std::sscanf(env, "%d %d", &port, &pid) == 2) {
          peer.port = static_cast<std::uint16_t>(port);
          peer.pid = pid;
          w->peer = peer;
        }
      }
      return w;
    }();
    return *world;
  }
};

// A connection to the upstream on `port` along `route`: direct, or a CONNECT tunnel.
UniqueFd open_route(Route route, std::uint16_t upstream_port) {
  World& w = World::get();
  if (route == Route::direct) return dial(upstream_port);
  const ProxyProcess& proxy = route == Route::ours ? w.ours : route == Route::ours_copy ? w.ours_copy : *w.peer;
  UniqueFd fd = dial(proxy.port);
  if (!fd) return fd;
  std::string req = "CONNECT 127.0.0.1:" + std::to_string(upstream_port) + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                    std::to_string(upstream_port) + "\r\n\r\n";
  if (!write_all(fd.get(), req.data(), req.size())) return UniqueFd();
  std::string head;
  char c;
  while (head.size() < 4096 && head.find("\r\n\r\n") == std::string::npos) {
    if (::recv(fd.get(), &c, 1, 0) != 1) return UniqueFd();
    head.push_back(c);
  }
  if (head.compare(0, 12, "HTTP/1.1 200") != 0 && head.compare(0, 12, "HTTP/1.0 200") != 0) return UniqueFd();
  return fd;
}

bool available(benchmark::State& state, Route route) {
  if (route == Route::peer && !World::get().peer) {
    state.SkipWithError("peer proxy not running (start it with bench/proxy_bench.sh)");
    return false;
  }
  return true;
}

void BM_ProxyThroughput(benchmark::State& state, Route route) {
  if (!available(state, route)) return;
  World& w = World::get();
  const std::uint64_t bytes = smoke() ? 1ull << 20 : 1ull << 30;
  std::vector<char> buf(1 << 20);
  pid_t pid = route == Route::ours        ? w.ours.pid
              : route == Route::ours_copy ? w.ours_copy.pid
              : route == Route::peer      ? w.peer->pid
                                          : -1;
  double cpu_before = cpu_ms(pid);
  for (auto _ : state) {
    auto start = Clock::now();
    UniqueFd fd = open_route(route, w.upstreams->source_port);
    if (!fd || !write_all(fd.get(), &bytes, sizeof bytes)) {
      state.SkipWithError("cannot open the route");
      return;
    }
    std::uint64_t got = 0;
    ssize_t n;
    while ((n = ::recv(fd.get(), buf.data(), buf.size(), 0)) > 0) got += static_cast<std::uint64_t>(n);
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    if (got != bytes) {
      state.SkipWithError("short transfer");
      return;
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  if (pid > 0) state.counters["proxy_cpu_ms_per_GiB"] = (cpu_ms(pid) - cpu_before) / static_cast<double>(state.iterations());
  double rate = static_cast<double>(state.iterations() * bytes);
  state.counters["GiB/s"] = benchmark::Counter(rate / (1 << 30), benchmark::Counter::kIsRate);
}

// New connection (and tunnel), one 64-byte request, its echo, close: per-request latency.
void BM_ProxyRequestLatency(benchmark::State& state, Route route) {
  if (!available(state, route)) return;
  World& w = World::get();
  std::vector<double> us;
  char msg[64] = {}, back[64];
  for (auto _ : state) {
    auto start = Clock::now();
    UniqueFd fd = open_route(route, w.upstreams->echo_port);
    if (!fd || !write_all(fd.get(), msg, sizeof msg) || !read_exact(fd.get(), back, sizeof back)) {
      state.SkipWithError("request failed");
      return;
    }
    fd.reset();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    state.SetIterationTime(us.back() / 1e6);
  }
  std::sort(us.begin(), us.end());
  double p50 = us[us.size() / 2], p99 = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  state.counters["p50_us"] = p50;
  state.counters["p99_us"] = p99;
  if (route == Route::direct) {
    w.direct["p50"] = p50;
    w.direct["p99"] = p99;
  } else if (w.direct.count("p50")) {
    state.counters["added_p50_us"] = p50 - w.direct["p50"];
    state.counters["added_p99_us"] = p99 - w.direct["p99"];
  }
}

// Round trip of 64 bytes on an established tunnel: what every message pays.
void BM_ProxyTunnelRoundTrip(benchmark::State& state, Route route) {
  if (!available(state, route)) return;
  World& w = World::get();
  UniqueFd fd = open_route(route, w.upstreams->echo_port);
  if (!fd) {
    state.SkipWithError("cannot open the route");
    return;
  }
  char msg[64] = {}, back[64];
  std::vector<double> us;
  for (auto _ : state) {
    auto start = Clock::now();
    if (!write_all(fd.get(), msg, sizeof msg) || !read_exact(fd.get(), back, sizeof back)) {
      state.SkipWithError("round trip failed");
      return;
    }
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[std::min(us.size() - 1, us.size() * 99 / 100)];
}

// 1,000 tunnels open at once, each used once; the proxy process's resident memory.
void BM_ProxyConcurrentTunnels(benchmark::State& state, Route route) {
  if (!available(state, route)) return;
  World& w = World::get();
  const int count = static_cast<int>(state.range(0));
  pid_t pid = route == Route::ours        ? w.ours.pid
              : route == Route::ours_copy ? w.ours_copy.pid
              : route == Route::peer      ? w.peer->pid
                                          : -1;
  for (auto _ : state) {
    long idle = pid > 0 ? rss_kb(pid) : 0;
    auto start = Clock::now();
    std::vector<UniqueFd> tunnels;
    tunnels.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
      tunnels.push_back(open_route(route, w.upstreams->echo_port));
      if (!tunnels.back()) {
        state.SkipWithError(("tunnel " + std::to_string(i) + " failed").c_str());
        return;
      }
    }
    char msg[16] = {}, back[16];
    for (auto& t : tunnels)
      if (!write_all(t.get(), msg, sizeof msg) || !read_exact(t.get(), back, sizeof back)) {
        state.SkipWithError("echo through a tunnel failed");
        return;
      }
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    state.SetIterationTime(seconds);
    long loaded = pid > 0 ? rss_kb(pid) : 0;
    state.counters["rss_idle_MiB"] = idle / 1024.0;
    state.counters["rss_MiB"] = loaded / 1024.0;
    state.counters["KiB_per_tunnel"] = static_cast<double>(loaded - idle) / count;
    state.counters["open_per_s"] = count / seconds;
    tunnels.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let both sides close
  }
}

}  // namespace

BENCHMARK_CAPTURE(BM_ProxyThroughput, direct, Route::direct)->UseManualTime()->Iterations(iterations(3))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ProxyThroughput, claude_container, Route::ours)->UseManualTime()->Iterations(iterations(3))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ProxyThroughput, claude_container_copy, Route::ours_copy)->UseManualTime()->Iterations(iterations(3))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ProxyThroughput, sandbox_runtime, Route::peer)->UseManualTime()->Iterations(iterations(3))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ProxyRequestLatency, direct, Route::direct)->UseManualTime()->Iterations(iterations(2000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ProxyRequestLatency, claude_container, Route::ours)->UseManualTime()->Iterations(iterations(2000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ProxyRequestLatency, claude_container_copy, Route::ours_copy)->UseManualTime()->Iterations(iterations(2000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ProxyRequestLatency, sandbox_runtime, Route::peer)->UseManualTime()->Iterations(iterations(2000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ProxyTunnelRoundTrip, direct, Route::direct)->Iterations(iterations(20000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ProxyTunnelRoundTrip, claude_container, Route::ours)->Iterations(iterations(20000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ProxyTunnelRoundTrip, claude_container_copy, Route::ours_copy)->Iterations(iterations(20000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ProxyTunnelRoundTrip, sandbox_runtime, Route::peer)->Iterations(iterations(20000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ProxyConcurrentTunnels, claude_container, Route::ours)->Arg(smoke() ? 10 : 1000)->UseManualTime()->Iterations(iterations(1))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ProxyConcurrentTunnels, claude_container_copy, Route::ours_copy)->Arg(smoke() ? 10 : 1000)->UseManualTime()->Iterations(iterations(1))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ProxyConcurrentTunnels, sandbox_runtime, Route::peer)->Arg(smoke() ? 10 : 1000)->UseManualTime()->Iterations(iterations(1))->Unit(benchmark::kMillisecond);

// cc_bench is one executable for every bench/*.cpp. This main is weak: when another benchmark
// file defines the (strong) main, that one is used and runs these benchmarks too.
extern "C++" __attribute__((weak)) int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
