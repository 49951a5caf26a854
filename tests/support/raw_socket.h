// RawSocket: a plain TCP client connection to 127.0.0.1:port for tests that need exact bytes on
// the wire (bare LF, pipelining, idle or half-sent requests). Non-blocking after connect, so a
// test can pump it from a runLoopUntil() condition while the server runs on the same thread.
// Header-only.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ingestd::test {

class RawSocket {
 public:
  // Connects (blocking: on loopback the kernel completes the handshake before the server
  // accepts). Throws std::runtime_error when the connection cannot be made.
  explicit RawSocket(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) {
      throw std::runtime_error("socket() failed");
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect() failed");
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~RawSocket() { close(); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  // Queues bytes in the kernel; waits up to a second for buffer space (requests of a few tens
  // of KiB fit the loopback buffers without the server reading). Returns false when the
  // connection is gone or there was no space.
  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      pollfd p{fd_, POLLOUT, 0};
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ||
          (errno != EINTR && ::poll(&p, 1, 1000) <= 0)) {
        return false;
      }
    }
    return true;
  }

  // Reads whatever has arrived without blocking. Returns received().
  const std::string& pump() {
    char buf[16384];
    while (fd_ >= 0 && !peer_closed_) {
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        in_.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        peer_closed_ = true;  // EOF or reset
      } else if (errno != EINTR) {
        break;
      }
    }
    return in_;
  }

  // Everything received so far, and whether the peer has closed (both updated by pump()).
  const std::string& received() const { return in_; }
  bool peerClosed() const { return peer_closed_; }
  // Pumps, then says whether `needle` occurs at least `times` times in what arrived.
  bool has(std::string_view needle, int times = 1) {
    pump();
    int n = 0;
    for (auto pos = in_.find(needle); pos != std::string::npos; pos = in_.find(needle, pos + 1)) {
      ++n;
    }
    return n >= times;
  }
  // Pumps, then says whether the peer has closed.
  bool closedByPeer() {
    pump();
    return peer_closed_;
  }
  void clear() { in_.clear(); }
  void close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  int fd_;
  std::string in_;
  bool peer_closed_ = false;
};

}  // namespace ingestd::test
