#include "integrations/git_broker.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "integrations/git_setup.hpp"
#include "util/error.hpp"
#include "util/file_io.hpp"

namespace cc::integrations {

namespace {

constexpr std::size_t kMaxRequest = 16 * 1024;  // git's credential request is a few short lines
constexpr int kMaxRelays = 32;                  // concurrent agent connections

bool fill_address(const std::string& path, sockaddr_un& addr) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  path.copy(addr.sun_path, path.size());
  return true;
}

UniqueFd listen_unix(const std::filesystem::path& path) {
  sockaddr_un addr{};
  if (!fill_address(path.string(), addr)) throw Error("the socket path " + path.string() + " is too long.");
  ::unlink(path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd.get(), 64) != 0) {
    throw_errno("cannot create the git socket " + path.string());
  }
  // As root the container's root is a subordinate id, "other" to this file; the directory
  // above the git directory is 0700, so nobody else on the host reaches it.
  ::chmod(path.c_str(), 0666);
  return fd;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Reads one small HTTP request and returns its body, or nothing when it is malformed or too big.
bool read_request_body(int fd, std::string& body) {
  std::string data;
  char buf[4096];
  std::size_t head_end = std::string::npos;
  std::size_t length = 0;
  for (;;) {
    if (head_end == std::string::npos) {
      head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = lower(data.substr(0, head_end));
        auto pos = head.find("\r\ncontent-length:");
        if (pos == std::string::npos) return false;
        pos += 17;
        while (pos < head.size() && head[pos] == ' ') ++pos;
        std::size_t digits = 0;
        while (pos < head.size() && std::isdigit(static_cast<unsigned char>(head[pos])) && digits < 6) {
          length = length * 10 + static_cast<std::size_t>(head[pos++] - '0');
          ++digits;
        }
        if (digits == 0 || length > kMaxRequest) return false;
      }
    }
    if (head_end != std::string::npos && data.size() >= head_end + 4 + length) {
      body = data.substr(head_end + 4, length);
      return true;
    }
    if (data.size() > 2 * kMaxRequest) return false;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.append(buf, static_cast<std::size_t>(n));
  }
}

void relay(UniqueFd inside, UniqueFd agent, int wake) {
  char buf[16384];
  for (;;) {
    pollfd fds[3] = {{inside.get(), POLLIN, 0}, {agent.get(), POLLIN, 0}, {wake, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[2].revents != 0) return;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) return;
      if (!write_all(fds[1 - i].fd, std::string_view(buf, static_cast<std::size_t>(n)))) return;
    }
  }
}

}  // namespace

GitBroker::GitBroker(GitBrokerOptions options) : options_(std::move(options)) {
  wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_) throw_errno("eventfd");
  if (options_.token != nullptr) credential_listener_ = listen_unix(options_.dir / kGitCredentialSocketName);
  if (!options_.agent_socket.empty()) agent_listener_ = listen_unix(options_.dir / kGitAgentSocketName);
}

GitBroker::~GitBroker() {
  stop();
  std::lock_guard<std::mutex> lock(relays_mutex_);
  for (auto& r : relays_) {
    if (r.thread.joinable()) r.thread.join();
  }
}

void GitBroker::stop() {
  stopping_ = true;
  std::uint64_t one = 1;
  ssize_t ignored = ::write(wake_.get(), &one, sizeof(one));
  (void)ignored;
}

std::string GitBroker::answer(const std::string& request, const std::string& host, const std::string& token) {
  std::string protocol, asked_host, username;
  std::size_t start = 0;
  while (start < request.size()) {
    auto end = request.find('\n', start);
    if (end == std::string::npos) end = request.size();
    std::string line = request.substr(start, end - start);
    start = end + 1;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "protocol") protocol = value;
    else if (key == "host") asked_host = value;
    else if (key == "username") username = value;
  }
  if (protocol != "https" || lower(asked_host) != lower(host) || token.empty()) return "";
  if (username.empty() || username.find_first_of("\r\n") != std::string::npos) username = "x-access-token";
  return "username=" + username + "\npassword=" + token + "\n";
}

void GitBroker::serve_credential(UniqueFd client) {
  timeval tv{2, 0};
  ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  std::string body;
  std::string reply;
  if (!read_request_body(client.get(), body)) {
    reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  } else {
    std::string text = answer(body, options_.host, *options_.token);
    reply = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(text.size()) +
            "\r\nConnection: close\r\n\r\n" + text;
    explicit_bzero(text.data(), text.size());
  }
  write_all(client.get(), reply);
  explicit_bzero(reply.data(), reply.size());
}

void GitBroker::start_relay(UniqueFd client) {
  if (active_relays_ >= kMaxRelays) return;  // closes it: the agent client sees EOF
  sockaddr_un addr{};
  if (!fill_address(options_.agent_socket, addr)) return;
  UniqueFd agent(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!agent || ::connect(agent.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
  std::lock_guard<std::mutex> lock(relays_mutex_);
  // Join the relays that ended, so their threads do not pile up over a long session.
  for (auto it = relays_.begin(); it != relays_.end();) {
    if (*it->done) {
      it->thread.join();
      it = relays_.erase(it);
    } else {
      ++it;
    }
  }
  ++active_relays_;
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread thread([this, done, inside = std::move(client), agent = std::move(agent)]() mutable {
    relay(std::move(inside), std::move(agent), wake_.get());
    --active_relays_;
    *done = true;
  });
  relays_.push_back({std::move(thread), std::move(done)});
}

void GitBroker::run() {
  while (!stopping_) {
    pollfd fds[3] = {{wake_.get(), POLLIN, 0},
                     {credential_listener_ ? credential_listener_.get() : -1, POLLIN, 0},
                     {agent_listener_ ? agent_listener_.get() : -1, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;
    if (fds[1].revents & POLLIN) {
      int c = ::accept4(credential_listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) serve_credential(UniqueFd(c));
    }
    if (fds[2].revents & POLLIN) {
      int c = ::accept4(agent_listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) start_relay(UniqueFd(c));
    }
  }
}

}  // namespace cc::integrations
