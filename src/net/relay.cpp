#include "net/relay.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cc::net {
namespace {
constexpr int kRoundsPerPump = 8;  // bounded work per event, so one busy tunnel cannot starve others
}

void RelayDirection::start(bool zero_copy) {
  if (zero_copy && !chunked) {
    int p[2];
    if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0) {
      pipe_read_ = UniqueFd(p[0]);
      pipe_write_ = UniqueFd(p[1]);
      int size = ::fcntl(p[1], F_GETPIPE_SZ);
      if (size > 0) capacity_ = static_cast<std::size_t>(size);
      return;
    }
    // Out of pipes (fd or pipe-buffer limits): fall back to copying.
  }
}

RelayDirection::Result RelayDirection::fail(const char* what, int err) {
  error_ = std::string(what) + ": " + std::strerror(err);
  return Result::error;
}

std::size_t RelayDirection::read_room() const {
  std::size_t room = capacity_ - staged_;
  if (limit) room = static_cast<std::size_t>(std::min<std::uint64_t>(room, *limit));
  return room;
}

RelayDirection::Result RelayDirection::pump(int src, int dst) {
  for (int round = 0; round < kRoundsPerPump; ++round) {
    bool moved = false;
    // 1. What the proxy itself has to say first (a response line, a rewritten head).
    while (!prefix.empty()) {
      ssize_t n = ::send(dst, prefix.data(), prefix.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return Result::ok;
        return fail("write", errno);
      }
      prefix.erase(0, static_cast<std::size_t>(n));
      prefix_delivered_ += static_cast<std::uint64_t>(n);
      moved = true;
    }
    // 2. Staged bytes to dst.
    if (staged_ > 0) {
      ssize_t n;
      if (pipe_read_) {
        n = ::splice(pipe_read_.get(), nullptr, dst, nullptr, staged_, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      } else {
        n = ::send(dst, buffer_.data() + head_, staged_, MSG_NOSIGNAL);
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return Result::ok;
        return fail("write", errno);
      }
      staged_ -= static_cast<std::size_t>(n);
      head_ = staged_ == 0 ? 0 : head_ + static_cast<std::size_t>(n);
      src_delivered_ += static_cast<std::uint64_t>(n);
      staging_full_ = false;
      if (n > 0) moved = true;
      if (staged_ > 0) continue;
    }
    // 3. Fill from src.
    if (!src_done_ && (limit && *limit == 0)) src_done_ = true;
    if (!src_done_ && !staging_full_) {
      std::size_t room = read_room();
      ssize_t n;
      if (pipe_read_) {
        n = ::splice(src, nullptr, pipe_write_.get(), nullptr, room, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n < 0 && errno == EINVAL && staged_ == 0) {
          // This kernel or fd pair cannot splice: copy instead, from now on.
          pipe_read_.reset();
          pipe_write_.reset();
          continue;
        }
      } else {
        if (buffer_.size() < capacity_) buffer_.resize(capacity_);
        if (head_ > 0 && staged_ == 0) head_ = 0;
        if (head_ > 0) {
          std::memmove(buffer_.data(), buffer_.data() + head_, staged_);
          head_ = 0;
        }
        n = ::recv(src, buffer_.data() + staged_, room, 0);
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          // With data already in the pipe, EAGAIN can mean the pipe is out of slots rather than
          // the socket being empty: wait for dst to drain it instead of spinning on src.
          if (staged_ > 0) staging_full_ = true;
          return Result::ok;
        }
        return fail("read", errno);
      }
      if (n == 0) {
        src_done_ = true;
      } else {
        std::size_t got = static_cast<std::size_t>(n);
        if (chunked) {
          std::size_t body = chunked->consume(buffer_.data() + staged_, got);
          if (chunked->failed()) {
            error_ = "malformed chunked request body";
            return Result::error;
          }
          got = body;  // bytes after the body's end are dropped: one request per connection
          if (chunked->done()) src_done_ = true;
        }
        staged_ += got;
        if (limit) *limit -= std::min<std::uint64_t>(*limit, got);
        if (staged_ >= capacity_) staging_full_ = true;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return Result::ok;
}

}  // namespace cc::net
