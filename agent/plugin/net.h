// Sockets on the loop, for socket inputs: stream listeners and connections (TCP and Unix domain)
// and UDP sockets. Thin wrappers over libuv handles: loop thread only, every callback on the
// loop thread and none after close() (or destruction, which closes). Each object's handle memory
// is freed in its close callback, so an object may be destroyed at any time, also from inside
// its own callback; close(done) says when the handle is really gone (the loop must run for
// that). Addresses are IP literals ("127.0.0.1", "::1", "0.0.0.0"): no name lookups, which
// would block the loop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/core/status.h"

namespace ingestd {

class Loop;

// One stream: accepted by a StreamListener or connected with connectTcp() / connectUnix().
class StreamConnection {
 public:
  // Connects to ip:port. on_connected(status) runs once, never inside this call, unless close()
  // came first. read() may be called right away (reading starts once connected); write() only
  // after on_connected reported OK. An error here: `ip` is not an IP address.
  static Result<std::unique_ptr<StreamConnection>> connectTcp(
      Loop& loop, const std::string& ip, int port, std::function<void(Status)> on_connected);
  static std::unique_ptr<StreamConnection> connectUnix(Loop& loop, const std::string& path,
                                                       std::function<void(Status)> on_connected);
  // Reads an inherited descriptor (stdin) that the loop can poll: a pipe, a socket or a
  // terminal; `name` is its peer() ("stdin"). close() closes the descriptor. A regular file or
  // a device cannot be polled: kInvalidArgument (read those with fileWork instead). The caller
  // owns `fd` until this returns OK. read-only: write() is not for these.
  static Result<std::unique_ptr<StreamConnection>> openFd(Loop& loop, int fd, std::string name);

  ~StreamConnection();
  StreamConnection(const StreamConnection&) = delete;
  StreamConnection& operator=(const StreamConnection&) = delete;

  // Starts reading. on_data(bytes) for each read (at most 64 KiB; the bytes are valid during the
  // call only); on_end(status) once, at the peer's end of stream (OK) or on a read error
  // (kNetwork), after which nothing more is read. At most once per connection.
  void read(std::function<void(std::string_view)> on_data, std::function<void(Status)> on_end);
  // Stops taking bytes from the kernel until resumeReading(): the kernel's buffer fills and the
  // sender sees backpressure. Both are no-ops before read() and after on_end.
  void pauseReading();
  void resumeReading();

  // Queues `data`; done(status) (may be empty) once the kernel took it all, or it failed; never
  // inside this call.
  void write(std::string data, std::function<void(Status)> done);

  // Closes the connection; done (may be empty) runs once the handle is closed. At most once.
  void close(std::function<void()> done);

  // The peer: "127.0.0.1:40312", "[::1]:40312", or for Unix sockets the socket's path.
  const std::string& peer() const;

 private:
  friend class StreamListener;
  struct State;  // the uv_tcp_t / uv_pipe_t and the callbacks (agent/plugin/net.cpp)
  explicit StreamConnection(State* state) : state_(state) {}
  State* state_;
  bool closed_ = false;
};

// A listening stream socket. Each accepted connection is handed over (not yet reading).
class StreamListener {
 public:
  // A connection, or why accepting one failed (e.g. out of file descriptors: kUnavailable).
  using OnConnection = std::function<void(Result<std::unique_ptr<StreamConnection>>)>;

  // Listens on ip:port; port 0 lets the OS choose (see port()). Errors: a bad address
  // (kInvalidArgument), the address in use or not available (kUnavailable), else kNetwork.
  static Result<std::unique_ptr<StreamListener>> listenTcp(Loop& loop, const std::string& ip,
                                                           int port, OnConnection on_connection);
  // Listens on a Unix domain socket at `path` (removed again when the listener closes). A file
  // already at `path` is an error (kUnavailable): the caller decides whether it is stale.
  static Result<std::unique_ptr<StreamListener>> listenUnix(Loop& loop, const std::string& path,
                                                            OnConnection on_connection);

  ~StreamListener();
  StreamListener(const StreamListener&) = delete;
  StreamListener& operator=(const StreamListener&) = delete;

  int port() const;                    // TCP: the bound port; Unix: 0
  const std::string& address() const;  // "127.0.0.1:5170", "[::1]:5170" or the socket path
  // Stops accepting; done (may be empty) once the handle is closed. Accepted connections stay
  // open: they belong to whoever took them. At most once.
  void close(std::function<void()> done);

 private:
  struct State;
  explicit StreamListener(State* state) : state_(state) {}
  State* state_;
  bool closed_ = false;
};

// A bound UDP socket.
class UdpSocket {
 public:
  struct Datagram {
    std::string_view data;   // valid during the callback only
    std::string peer;        // "127.0.0.1:40312"
    bool truncated = false;  // longer than 64 KiB: the rest was dropped by the kernel
  };

  // Binds ip:port; port 0 lets the OS choose (see port()). Errors as StreamListener::listenTcp.
  static Result<std::unique_ptr<UdpSocket>> bind(Loop& loop, const std::string& ip, int port);

  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  int port() const;
  const std::string& address() const;
  // The socket's inode (its line in /proc/net/udp, where the kernel counts its drops).
  std::uint64_t inode() const;
  // Asks the kernel for a receive buffer of `bytes` (SO_RCVBUF; capped by net.core.rmem_max)
  // and returns what it granted, which Linux reports doubled for its bookkeeping.
  Result<std::size_t> setReceiveBuffer(std::size_t bytes);

  // on_datagram runs for each datagram received until stopReceiving() or close(). Receive
  // errors (e.g. an ICMP error reported for an earlier send) are skipped.
  Status startReceiving(std::function<void(const Datagram&)> on_datagram);
  void stopReceiving();

  // Sends one datagram to ip:port; done(status) (may be empty) once the kernel took it, or it
  // failed. A bad address fails through done, like any other error.
  void send(std::string data, const std::string& ip, int port, std::function<void(Status)> done);

  // Closes the socket; done (may be empty) once the handle is closed. At most once.
  void close(std::function<void()> done);

 private:
  struct State;
  explicit UdpSocket(State* state) : state_(state) {}
  State* state_;
  bool closed_ = false;
};

// A bound Unix datagram socket (what /dev/log is), read with non-blocking recv() when the loop
// says it is readable. The kernel does not drop for a full queue here: a sender blocks (or gets
// EAGAIN) instead, so nothing is lost silently.
class UnixDatagramSocket {
 public:
  // Binds `path` (removed again at close). A file already at `path` is an error (kUnavailable):
  // the caller decides whether it is stale.
  static Result<std::unique_ptr<UnixDatagramSocket>> bind(Loop& loop, const std::string& path);

  ~UnixDatagramSocket();
  UnixDatagramSocket(const UnixDatagramSocket&) = delete;
  UnixDatagramSocket& operator=(const UnixDatagramSocket&) = delete;

  const std::string& path() const;
  // on_datagram for each datagram (peer: the sender's bound path, or "" when it has none; longer
  // than 64 KiB: truncated), at most 256 per loop wakeup so one busy sender cannot hold the
  // loop, until stopReceiving() or close().
  Status startReceiving(std::function<void(const UdpSocket::Datagram&)> on_datagram);
  void stopReceiving();
  // Closes the socket and removes its file; done (may be empty) once the handle is closed.
  void close(std::function<void()> done);

 private:
  struct State;
  explicit UnixDatagramSocket(State* state) : state_(state) {}
  State* state_;
  bool closed_ = false;
};

}  // namespace ingestd
