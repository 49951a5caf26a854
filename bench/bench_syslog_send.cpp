// bench_syslog_send: a load generator for the socket benchmark (bench/socket_bench.sh). Opens
// CONNS TCP connections to 127.0.0.1:PORT and writes TOTAL RFC 5424 messages of about 200 bytes,
// octet-counted (RFC 6587), spread round-robin over the connections, as fast as TCP lets it
// (blocking writes: when ingestd stops reading, this waits: backpressure). Each message carries
// its sequence number. Prints the bytes of messages sent (without the octet-count headers).
//   bench_syslog_send PORT TOTAL [CONNS=2]
//   bench_syslog_send --print 0 TOTAL   (the same messages, one per line, to stdout)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace {

int connectTo(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::perror("connect");
    std::exit(1);
  }
  return fd;
}

bool writeAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

std::string message(long long i) {
  static const char* const apps[] = {"billing", "nginx", "sshd", "kubelet"};
  return fmt::format(
      "<{}>1 2026-12-02T03:{:02}:{:02}.{:06}Z web-{:02}.example.net {} {} ID{} "
      "[origin@32473 ip=\"10.1.{}.{}\"] seq={} request handled in {} ms status={} "
      "path=/api/v1/items/{}",
      134 + (i % 6), (i / 60000) % 60, (i / 1000) % 60, i % 1000000, i % 40, apps[i % 4],
      1000 + i % 50000, i % 100, i % 256, (i * 7) % 256, i, i % 997, i % 10 == 0 ? 500 : 200,
      i % 100000);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_syslog_send PORT TOTAL [CONNS]\n");
    return 2;
  }
  if (std::string(argv[1]) == "--print") {  // the messages, one per line (gzip's yardstick)
    const long long n = std::atoll(argv[3 - (argc < 4)]);
    for (long long i = 0; i < n; ++i) {
      std::string m = message(i);
      m += '\n';
      std::fwrite(m.data(), 1, m.size(), stdout);
    }
    return 0;
  }
  const int port = std::atoi(argv[1]);
  const long long total = std::atoll(argv[2]);
  const int conns = argc > 3 ? std::atoi(argv[3]) : 2;
  std::vector<std::thread> threads;
  std::vector<unsigned long long> bytes(static_cast<std::size_t>(conns), 0);
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      const int fd = connectTo(port);
      std::string buf;
      buf.reserve(256 << 10);
      for (long long i = c; i < total; i += conns) {
        std::string msg = message(i);
        bytes[static_cast<std::size_t>(c)] += msg.size();
        buf += fmt::format("{} ", msg.size());
        buf += msg;
        if (buf.size() >= (240 << 10)) {
          if (!writeAll(fd, buf)) {
            std::perror("write");
            std::exit(1);
          }
          buf.clear();
        }
      }
      if (!buf.empty() && !writeAll(fd, buf)) {
        std::perror("write");
        std::exit(1);
      }
      ::close(fd);
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  unsigned long long sum = 0;
  for (auto b : bytes) {
    sum += b;
  }
  std::printf("%llu\n", sum);
  return 0;
}
