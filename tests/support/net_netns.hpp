#pragma once
// A process parked in its own user and network namespace (loopback up), standing in for a
// sandbox in the network tests that do not need the whole engine; and a way to run a probe in
// that namespace. Needs root (or unprivileged user namespaces).
#include <sys/types.h>

#include <functional>
#include <string>

#include "util/unique_fd.hpp"

namespace cc::test {

class NetnsChild {
 public:
  NetnsChild();
  ~NetnsChild();
  NetnsChild(const NetnsChild&) = delete;
  NetnsChild& operator=(const NetnsChild&) = delete;
  bool ok() const { return pid_ > 0 && error_.empty(); }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }
  void terminate();  // kills and reaps the parked process (the namespace goes away)

  // Forks a process that joins this namespace and returns probe()'s result (0..255), or -1 when
  // it could not join, or 128+signal / 137 after `timeout_seconds`.
  int run_inside(const std::function<int()>& probe, int timeout_seconds = 20) const;

 private:
  pid_t pid_ = -1;
  UniqueFd release_;  // closing it lets the parked process exit
  std::string error_;
};

// errno of a TCP connect to address:port (0 when it connected), with a deadline.
int tcp_connect_errno(const std::string& address, unsigned port, int timeout_ms = 3000);

}  // namespace cc::test
