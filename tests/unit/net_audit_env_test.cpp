// The audit log's format and readers, and the proxy environment set inside the sandbox.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>
#include <sstream>

#include "net/audit_log.hpp"
#include "net/proxy_env.hpp"
#include "net/proxy_listener.hpp"
#include "support/temp_dir.hpp"
#include "util/file_io.hpp"

using namespace cc::net;

TEST(NetAuditLog, OneJsonLinePerRecord) {
  AuditRecord r;
  r.time_ms = 1700000000123;
  r.host = "api.example.com";
  r.port = 443;
  r.allowed = true;
  r.rule = "allow:*.example.com";
  r.method = "CONNECT";
  r.bytes_out = 10;
  r.bytes_in = 20;
  r.duration_ms = 30;
  std::string line = to_json_line(r);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(j["host"], "api.example.com");
  EXPECT_EQ(j["port"], 443);
  EXPECT_EQ(j["decision"], "allowed");
  EXPECT_EQ(j["rule"], "allow:*.example.com");
  EXPECT_EQ(j["method"], "CONNECT");
  EXPECT_EQ(j["bytes_out"], 10);
  EXPECT_EQ(j["bytes_in"], 20);
  EXPECT_EQ(j["duration_ms"], 30);
  EXPECT_EQ(j["error"], "");
}

TEST(NetAuditLog, HostileHostStaysOneLine) {
  AuditRecord r;
  r.host = "a\"b\nc\xff";
  std::string line = to_json_line(r);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_NO_THROW(nlohmann::json::parse(line));
}

TEST(NetAuditLog, WriterAppendsAndReadersCount) {
  cc::test::TempDir dir;
  auto path = dir / "network.jsonl";
  {
    AuditWriter w(path);
    AuditRecord denied;
    denied.host = "denied";  // a host named like the decision must not count
    denied.port = 443;
    denied.rule = "default-deny";
    denied.method = "CONNECT";
    w.write(denied);
    AuditRecord allowed = denied;
    allowed.allowed = true;
    allowed.rule = "policy:isolated";
    allowed.bytes_in = 5 << 20;
    w.write(allowed);
  }
  {
    AuditWriter again(path);
    AuditRecord more;
    more.host = "2001:db8::1";
    more.port = 80;
    more.method = "GET";
    more.rule = "deny:[2001:db8::1]";
    more.error = "";
    again.write(more);
  }
  EXPECT_EQ(count_denials(path), 2u);
  EXPECT_EQ(count_denials(dir / "missing.jsonl"), 0u);

  std::ostringstream out;
  print_audit_log(path, false, out);
  std::string text = out.str();
  EXPECT_NE(text.find("DESTINATION"), std::string::npos) << text;
  EXPECT_NE(text.find("DENY  CONNECT denied:443"), std::string::npos) << text;
  EXPECT_NE(text.find("ALLOW CONNECT denied:443"), std::string::npos) << text;
  EXPECT_NE(text.find("5.0M"), std::string::npos) << text;
  EXPECT_NE(text.find("[2001:db8::1]:80"), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
}

TEST(NetAuditLog, FollowShowsRecordsAppendedLater) {
  cc::test::TempDir dir;
  auto path = dir / "network.jsonl";
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(p[1], 1);
    print_audit_log(path, true, std::cout);  // the file does not exist yet: it waits
    _exit(0);
  }
  ::close(p[1]);
  {
    AuditWriter w(path);
    AuditRecord r;
    r.host = "later.example.org";
    r.port = 443;
    r.method = "CONNECT";
    r.rule = "default-deny";
    w.write(r);
  }
  std::string seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (seen.find("later.example.org") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{p[0], POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(p[0], buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "follow returned instead of waiting for more";
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  ::close(p[0]);
  EXPECT_NE(seen.find("DENY  CONNECT later.example.org:443"), std::string::npos) << seen;
}

TEST(NetProxyEnv, PointsEveryVariableAtTheProxy) {
  auto env = proxy_environment(kProxyPort);
  for (const char* k : {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"})
    EXPECT_EQ(env[k], "http://127.0.0.1:3128") << k;
  EXPECT_EQ(env["NO_PROXY"], "localhost,127.0.0.1,::1");
  EXPECT_EQ(env["no_proxy"], "localhost,127.0.0.1,::1");
  EXPECT_EQ(env["NODE_USE_ENV_PROXY"], "1");
  EXPECT_EQ(env.size(), 9u);
}
