#pragma once
// The host side of git.credentials, run by the supervisor on a thread of its own:
//  - "pat": answers the credential helper inside (an HTTP POST over the unix socket
//    credential.sock carrying git's credential request) with the token, only when the request
//    is for protocol https and exactly git.host; anything else gets an empty answer;
//  - "ssh": relays each connection on ssh-agent.sock to the host's ssh-agent socket, so the
//    keys stay in the host's agent.
// Both sockets are made here, in the container's git directory (git_setup.hpp), which the
// container sees read-only; connecting to a socket needs no write access to the mount.
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/unique_fd.hpp"

namespace cc::integrations {

struct GitBrokerOptions {
  std::filesystem::path dir;        // the container's git directory (short: it names the sockets)
  std::string host;                 // git.host, as configured
  const std::string* token = nullptr;  // "pat": lives in the supervisor's spec, never copied
  std::string agent_socket;         // "ssh": the host's SSH_AUTH_SOCK
};

class GitBroker {
 public:
  // Creates the listening sockets. Throws cc::Error.
  explicit GitBroker(GitBrokerOptions options);
  ~GitBroker();
  GitBroker(const GitBroker&) = delete;
  GitBroker& operator=(const GitBroker&) = delete;

  void run();   // serves until stop()
  void stop();  // from another thread; run() returns and relays end

  // The answer to one credential request body (key=value lines), for tests: the token's lines
  // for protocol=https and host=<git.host>, else "".
  static std::string answer(const std::string& request, const std::string& host, const std::string& token);

 private:
  void serve_credential(UniqueFd client);
  void start_relay(UniqueFd client);

  GitBrokerOptions options_;
  UniqueFd credential_listener_, agent_listener_, wake_;
  std::atomic<bool> stopping_{false};
  std::mutex relays_mutex_;
  struct Relay {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Relay> relays_;
  std::atomic<int> active_relays_{0};
};

}  // namespace cc::integrations
