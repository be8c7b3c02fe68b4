// Image engines' relay benchmark (bench/README.md, "Image engines: the relay"): what a request
// pays for going through the socat relay and a unix socket (docker/podman/Apple `container`)
// rather than a TCP listener the proxy accepts on directly (the native engine's listener made in
// the sandbox's namespace). Same EgressProxy, same upstream echo server, same request: a new
// connection, a CONNECT tunnel and a 64-byte echo; and the round trip on an open tunnel.
//
// The relay is socat with the options of the container's entrypoint (engine/image/
// relay_entrypoint.cpp), listening on an ephemeral 127.0.0.1 port instead of 3128 (no
// namespace needed to measure it).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/net_proxy_harness.hpp"
#include "support/net_upstream.hpp"
#include "support/temp_dir.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using cc::UniqueFd;

enum class Route { tcp_listener, socat_relay };

// CC_BENCH_SMOKE (tests/run.sh): each benchmark once, to show it still runs.
benchmark::IterationCount iterations(benchmark::IterationCount normal) {
  static const bool smoke = std::getenv("CC_BENCH_SMOKE") != nullptr;
  return smoke ? 1 : normal;
}

struct World {
  cc::test::TempDir dir{"cc-relay-bench"};
  std::unique_ptr<cc::test::LoopbackServer> upstream;
  std::unique_ptr<cc::test::ProxyHarness> proxy;
  std::uint16_t relay_port = 0;
  pid_t socat = -1;

  static World& get() {
    static World world;
    return world;
  }

  World() {
    upstream = std::make_unique<cc::test::LoopbackServer>(cc::test::echo_handler());
    const std::string target = "127.0.0.1:" + std::to_string(upstream->port());
    const auto socket = dir.path() / "proxy.sock";
    UniqueFd unix_listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket.c_str());
    if (::bind(unix_listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(unix_listener.get(), 512) != 0) {
      std::abort();
    }
    std::vector<UniqueFd> more;
    more.push_back(std::move(unix_listener));
    proxy = std::make_unique<cc::test::ProxyHarness>(
        cc::test::network_config(cc::config::NetworkPolicy::isolated, {target}), cc::net::ProxyLimits{},
        cc::net::ResolveFunction{}, std::move(more));
    // A free port for socat (released just before socat binds it; a clash aborts the run).
    UniqueFd probe = cc::test::listen_on_loopback(&relay_port, "the relay's port");
    probe.reset();
    std::string listen = "TCP-LISTEN:" + std::to_string(relay_port) + ",bind=127.0.0.1,fork,reuseaddr,backlog=256";
    std::string connect = "UNIX-CONNECT:" + socket.string();
    socat = ::fork();
    if (socat == 0) {
      ::execl("/usr/bin/socat", "socat", "-b", "65536", "-t", "300", listen.c_str(), connect.c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      if (cc::test::connect_tcp("127.0.0.1", relay_port)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::abort();
  }
  ~World() {
    if (socat > 0) {
      ::kill(socat, SIGTERM);
      ::waitpid(socat, nullptr, 0);
    }
    proxy.reset();
    upstream.reset();
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  std::uint16_t port(Route route) const { return route == Route::tcp_listener ? proxy->port() : relay_port; }
  std::string target() const { return "127.0.0.1:" + std::to_string(upstream->port()); }
};

double percentile(std::vector<double> v, int p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, v.size() * static_cast<std::size_t>(p) / 100)];
}

UniqueFd open_tunnel(World& world, Route route) {
  UniqueFd fd = cc::test::connect_tcp("127.0.0.1", world.port(route));
  if (!fd) return fd;
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!cc::test::send_all(fd.get(), "CONNECT " + world.target() + " HTTP/1.1\r\n\r\n")) return {};
  if (cc::test::status_of(cc::test::read_head(fd.get())) != 200) return {};
  return fd;
}

bool echo(int fd, const std::string& payload) {
  if (!cc::test::send_all(fd, payload)) return false;
  std::string got;
  char buf[256];
  while (got.size() < payload.size()) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    got.append(buf, static_cast<size_t>(n));
  }
  return got == payload;
}

// Times `step` once per iteration (manual time) and reports its p50/p99 in microseconds;
// a failed step ends the benchmark with `failure`.
template <typename Step>
void time_each(benchmark::State& state, const char* failure, Step step) {
  std::vector<double> us;
  for (auto _ : state) {
    auto start = Clock::now();
    if (!step()) {
      state.SkipWithError(failure);
      return;
    }
    double elapsed = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    state.SetIterationTime(elapsed / 1e6);
    us.push_back(elapsed);
  }
  state.counters["p50_us"] = percentile(us, 50);
  state.counters["p99_us"] = percentile(us, 99);
}

// A new connection through the route, a CONNECT tunnel, a 64-byte echo.
void BM_RelayNewRequest(benchmark::State& state, Route route) {
  World& world = World::get();
  const std::string payload(64, 'x');
  time_each(state, "the request through the route failed", [&] {
    UniqueFd fd = open_tunnel(world, route);
    return fd && echo(fd.get(), payload);
  });
}

// 64 bytes there and back on a tunnel that is already open.
void BM_RelayTunnelRoundTrip(benchmark::State& state, Route route) {
  World& world = World::get();
  const std::string payload(64, 'y');
  UniqueFd fd = open_tunnel(world, route);
  if (!fd) {
    state.SkipWithError("cannot open a tunnel through the route");
    return;
  }
  time_each(state, "the echo through the route failed", [&] { return echo(fd.get(), payload); });
}

}  // namespace

BENCHMARK_CAPTURE(BM_RelayNewRequest, tcp_listener, Route::tcp_listener)->UseManualTime()->Iterations(iterations(2000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_RelayNewRequest, socat_relay, Route::socat_relay)->UseManualTime()->Iterations(iterations(2000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_RelayTunnelRoundTrip, tcp_listener, Route::tcp_listener)->UseManualTime()->Iterations(iterations(5000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_RelayTunnelRoundTrip, socat_relay, Route::socat_relay)->UseManualTime()->Iterations(iterations(5000))->Unit(benchmark::kMicrosecond);
