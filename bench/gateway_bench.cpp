// Credential gateway benchmark (bench/README.md, "Credential gateway"): what the gateway adds
// to a streamed Messages request against calling the API stand-in directly over TLS, at the
// median and p99, for the time to the first event of the stream and to its end.
//
// Both routes reach the same stand-in (tests/support/messages_stand_in, HTTPS on loopback with
// a test CA). `direct` is the client speaking TLS to it; `gateway` is the client speaking plain
// HTTP to our CredentialGateway (in this process, on its own threads, audit log on), which
// swaps the credential and speaks TLS upstream. `warm`: one kept-alive connection for every
// request (what Claude Code does; the gateway reuses its upstream connection too); `cold`: a
// new connection per request (TCP, and the TLS handshake on whichever leg does TLS).
#include <benchmark/benchmark.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/credential_gateway.hpp"
#include "support/messages_stand_in.hpp"
#include "support/net_gateway_harness.hpp"
#include "support/net_upstream.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using cc::UniqueFd;

bool smoke() {
  static const bool on = std::getenv("CC_BENCH_SMOKE") != nullptr;
  return on;
}
benchmark::IterationCount iterations(benchmark::IterationCount normal) { return smoke() ? 1 : normal; }

enum class Route { direct, gateway };

// One client connection: plain TCP to the gateway, or TLS to the stand-in.
class Client {
 public:
  Client(Route route, std::uint16_t port, SSL_CTX* tls) {
    fd_ = cc::test::connect_tcp("127.0.0.1", port);
    if (!fd_ || route == Route::gateway) return;
    ssl_ = SSL_new(tls);
    SSL_set_fd(ssl_, fd_.get());
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    if (SSL_connect(ssl_) != 1) fd_.reset();
  }
  ~Client() {
    if (ssl_) SSL_free(ssl_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  bool ok() const { return static_cast<bool>(fd_); }

  bool send(const std::string& data) {
    if (!ssl_) return cc::test::send_all(fd_.get(), data, 10000);
    return SSL_write(ssl_, data.data(), static_cast<int>(data.size())) == static_cast<int>(data.size());
  }
  // Appends what arrives; false at the end or on error.
  bool receive(std::string* out) {
    char buf[16384];
    long n = ssl_ ? SSL_read(ssl_, buf, sizeof buf) : ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n <= 0) return false;
    out->append(buf, static_cast<std::size_t>(n));
    return true;
  }

 private:
  UniqueFd fd_;
  SSL* ssl_ = nullptr;
};

struct World {
  std::unique_ptr<cc::test::MessagesStandIn> api;
  std::unique_ptr<cc::test::GatewayHarness> gateway;
  SSL_CTX* tls = nullptr;
  std::map<std::string, double> direct;  // direct-route percentiles, per mode, for "added"

  // Built on first use, torn down at exit: the stand-in's CA and the audit log live in
  // temporary directories that must not outlive the benchmark.
  static World& get() {
    static World world;
    return world;
  }

  World() {
    api = std::make_unique<cc::test::MessagesStandIn>();
    // A reply of a few dozen words: a short answer's worth of content_block_delta events.
    api->set_reply("The gateway relays each server-sent event as it arrives, so the first words of a reply "
                   "reach the agent while the rest is still being generated upstream.");
    api->start();
    cc::net::GatewayOptions options;
    options.upstream = "https://127.0.0.1:" + std::to_string(api->port());
    options.extra_ca_pem = api->ca_pem();
    options.credential.value = "sk-ant-api03-bench-0000000000000000000000000000000000";
    gateway = std::make_unique<cc::test::GatewayHarness>(std::move(options));
    tls = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(tls, SSL_VERIFY_PEER, nullptr);
    BIO* bio = BIO_new_mem_buf(api->ca_pem().data(), static_cast<int>(api->ca_pem().size()));
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(tls), ca);
    X509_free(ca);
    BIO_free(bio);
  }
  ~World() {
    gateway.reset();
    api.reset();
    SSL_CTX_free(tls);
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;
};

double percentile(std::vector<double> v, int p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, v.size() * static_cast<std::size_t>(p) / 100)];
}

// One streamed request: microseconds to the first event (message_start) and to the stream's end.
bool streamed_request(Client& client, const std::string& request, double* first_us, double* total_us) {
  auto start = Clock::now();
  if (!client.send(request)) return false;
  std::string in;
  bool first = false;
  while (true) {
    if (!client.receive(&in)) return false;
    if (!first && in.find("event: message_start") != std::string::npos) {
      first = true;
      *first_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    }
    if (in.size() >= 7 && in.compare(in.size() - 7, 7, "\r\n0\r\n\r\n") == 0) break;
  }
  *total_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  return first && in.find("event: message_stop") != std::string::npos;
}

void BM_GatewayStream(benchmark::State& state, Route route, bool warm) {
  World& w = World::get();
  std::uint16_t port = route == Route::direct ? w.api->port() : w.gateway->port();
  std::string host = "127.0.0.1:" + std::to_string(port);
  std::string request = cc::test::messages_request(host, "x-api-key: sk-ant-api03-placeholder\r\n", true);
  std::unique_ptr<Client> kept;
  if (warm) {
    kept = std::make_unique<Client>(route, port, w.tls);
    double a, b;  // open the upstream connection before timing
    if (!kept->ok() || !streamed_request(*kept, request, &a, &b)) {
      state.SkipWithError("cannot open the route");
      return;
    }
  }
  std::vector<double> first, total;
  for (auto _ : state) {
    auto start = Clock::now();
    std::unique_ptr<Client> fresh;
    if (!warm) fresh = std::make_unique<Client>(route, port, w.tls);
    Client& c = warm ? *kept : *fresh;
    double f = 0, t = 0;
    if (!c.ok() || !streamed_request(c, request, &f, &t)) {
      state.SkipWithError("request failed");
      return;
    }
    double connect_us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() - t;
    first.push_back(f + connect_us);
    total.push_back(t + connect_us);
    state.SetIterationTime(total.back() / 1e6);
  }
  const std::string mode = warm ? "warm" : "cold";
  state.counters["first_event_p50_us"] = percentile(first, 50);
  state.counters["first_event_p99_us"] = percentile(first, 99);
  state.counters["stream_p50_us"] = percentile(total, 50);
  state.counters["stream_p99_us"] = percentile(total, 99);
  if (route == Route::direct) {
    w.direct[mode + "first50"] = percentile(first, 50);
    w.direct[mode + "first99"] = percentile(first, 99);
    w.direct[mode + "total50"] = percentile(total, 50);
    w.direct[mode + "total99"] = percentile(total, 99);
  } else if (w.direct.count(mode + "first50")) {
    state.counters["added_first_p50_us"] = percentile(first, 50) - w.direct[mode + "first50"];
    state.counters["added_first_p99_us"] = percentile(first, 99) - w.direct[mode + "first99"];
    state.counters["added_stream_p50_us"] = percentile(total, 50) - w.direct[mode + "total50"];
    state.counters["added_stream_p99_us"] = percentile(total, 99) - w.direct[mode + "total99"];
  }
}

}  // namespace

BENCHMARK_CAPTURE(BM_GatewayStream, direct_warm, Route::direct, true)->UseManualTime()->Iterations(iterations(2000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GatewayStream, gateway_warm, Route::gateway, true)->UseManualTime()->Iterations(iterations(2000))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GatewayStream, direct_cold, Route::direct, false)->UseManualTime()->Iterations(iterations(500))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GatewayStream, gateway_cold, Route::gateway, false)->UseManualTime()->Iterations(iterations(500))->Unit(benchmark::kMicrosecond);
