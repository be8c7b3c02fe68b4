#pragma once
// One direction of a proxied connection: bytes from `src` to `dst`, zero-copy through a pipe
// with splice(2) where the kernel supports it for these fds, else through a user-space buffer.
// Never blocks (both fds are non-blocking); the caller re-arms epoll from wants_read/write.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/http_request.hpp"
#include "util/unique_fd.hpp"

namespace cc::net {

class RelayDirection {
 public:
  enum class Result { ok, error };

  // `zero_copy` false forces the buffered path (needed when the body must be inspected).
  void start(bool zero_copy);

  std::string prefix;                      // written to dst before any bytes from src
  std::optional<std::uint64_t> limit;      // bytes still to take from src; nullopt: until EOF
  std::optional<ChunkedBodyTracker> chunked;  // take exactly one chunked body from src (buffered)

  // Moves as much as possible without blocking. Returns error on a reset or other fatal
  // socket error; error_text() says which.
  Result pump(int src, int dst);

  bool wants_read() const { return !src_done_ && !staging_full_; }
  bool wants_write() const { return !prefix.empty() || staged_ > 0; }
  bool src_done() const { return src_done_; }
  bool finished() const { return src_done_ && prefix.empty() && staged_ == 0; }
  void mark_src_done() { src_done_ = true; }
  std::uint64_t src_bytes_delivered() const { return src_delivered_; }
  std::uint64_t prefix_bytes_delivered() const { return prefix_delivered_; }
  const std::string& error_text() const { return error_; }
  bool zero_copy() const { return pipe_read_.valid(); }

 private:
  Result fail(const char* what, int err);
  std::size_t read_room() const;

  UniqueFd pipe_read_, pipe_write_;
  std::size_t capacity_ = 64 * 1024;
  std::vector<char> buffer_;               // buffered mode: staged bytes are buffer_[head_, head_+staged_)
  std::size_t head_ = 0;
  std::size_t staged_ = 0;
  bool src_done_ = false;
  bool staging_full_ = false;
  std::uint64_t src_delivered_ = 0;
  std::uint64_t prefix_delivered_ = 0;
  std::string error_;
};

}  // namespace cc::net
