// Socket inputs: tcp, unix (stream), udp, unixgram, and syslog (any of the four with syslog
// framing and the syslog parser by default). One SocketInput per input section; the plugin types
// below differ only in their name and defaults. Loop thread only.
//
// Each stream connection has its own StreamFramer (plugins/common); the frames of one read
// become one RecordChunk (RecordFormat::kFramed, so a frame may hold '\n'), with the peer as
// its source. Datagrams are one frame each. Backpressure: pause() stops reading every stream
// connection (the kernel buffers fill and senders block); datagrams that arrive while paused are
// dropped and counted (reason buffer_full). Socket data lives in memory until it is delivered:
// a crash loses what was received and not yet acknowledged (README "Delivery guarantees").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/plugin/context.h"
#include "agent/plugin/loop.h"
#include "agent/plugin/net.h"
#include "agent/plugin/plugin.h"
#include "plugins/common/multiline.h"
#include "plugins/common/stream_framer.h"
#include "plugins/common/tls_server.h"

namespace ingestd::inputs {

enum class SocketProtocol : std::uint8_t { kTcp, kUdp, kUnix, kUnixgram };

// Datagram protocols: one message per datagram, no connections.
inline bool isDatagram(SocketProtocol p) {
  return p == SocketProtocol::kUdp || p == SocketProtocol::kUnixgram;
}

std::string_view socketProtocolName(SocketProtocol p);

struct SocketSettings {
  std::string type;  // the plugin type (tcp, udp, unix, unixgram, syslog)
  std::string tag;
  SocketProtocol protocol = SocketProtocol::kTcp;
  std::string ip;            // tcp/udp: the address to bind ("0.0.0.0", "::", "127.0.0.1")
  int port = 0;              // tcp/udp: 0 = the OS picks (logged and exported)
  std::string path;          // unix, unixgram: the socket's path
  bool remove_stale = true;  // unix: an existing socket file at path is removed first
  FramingSettings framing;   // stream protocols
  std::size_t max_connections = 1024;
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};  // 0 = never
  std::size_t receive_buffer = 0;  // udp: SO_RCVBUF to ask for (0: the system's default)
  // Stream protocols: frames are joined into multiline records, one Multiline per connection.
  std::optional<MultilineSettings> multiline;
  // tcp: TLS on every accepted connection (RFC 5425 for syslog).
  std::optional<TlsSettings> tls;
};

// Parses an input section of one of the socket types (`type` picks the defaults: syslog frames
// with `auto` and parses with the syslog parser, the others frame with `newline`).
Result<SocketSettings> parseSocketSettings(const ConfigNode& node, std::string_view type);
std::string describeSocketSettings(const SocketSettings& s);
// `ingestd check` and start-up: the TLS files exist and load (certificate, matching key, CAs).
Status validateSocketSettings(const ConfigNode& node, const SocketSettings& s,
                              ValidationReport& report);

class SocketInput : public Input {
 public:
  // `tls`: the loaded certificate when settings.tls is set (TlsServerContext::create).
  SocketInput(SocketSettings settings, PluginContext& ctx,
              std::shared_ptr<TlsServerContext> tls = nullptr);
  ~SocketInput() override;

  Status start(RecordSink& sink) override;
  void pause() override;
  void resume() override;
  void stop(std::function<void()> done) override;

  // For tests: the bound port (tcp/udp) and the open stream connections.
  int port() const { return bound_port_; }
  std::size_t connectionsForTest() const { return conns_.size(); }

 private:
  struct Conn;
  void onAccept(Result<std::unique_ptr<StreamConnection>> accepted);
  void onData(Conn& c, std::string_view bytes);
  void frameBytes(Conn& c, std::string_view bytes, std::string& data, std::uint64_t& records);
  void onTlsFailed(std::uint64_t id, const Status& st, std::string alert);
  void onEnd(std::uint64_t id, const Status& st);
  void closeConn(std::uint64_t id, std::string_view why);
  void onDatagram(const UdpSocket::Datagram& d);
  void flushDatagrams();
  void sweepIdle();
  // Multiline: frames of `c` into its record builder; records it completes go into data.
  void pushLine(Conn& c, std::string_view frame, std::string& data, std::uint64_t& records);
  void flushMultiline(Conn& c);  // the connection ends: its record being built goes out
  void sweepMultiline();         // records whose timeout passed go out
  void sampleKernelDrops();      // udp: the kernel's receive-queue drops into the metrics
  void addFrame(std::string& data, std::uint64_t& records, std::string_view frame);
  void push(const std::shared_ptr<const SourceInfo>& source, std::string data,
            std::uint64_t records);
  std::shared_ptr<const SourceInfo> sourceFor(const std::string& peer);
  void handleClosed();
  void count(std::string_view event, std::uint64_t n = 1);

  SocketSettings settings_;
  PluginContext& ctx_;
  std::shared_ptr<TlsServerContext> tls_;
  std::string component_;
  RecordSink* sink_ = nullptr;
  RecordFormat format_ = RecordFormat::kFramed;
  std::unique_ptr<StreamListener> listener_;
  std::unique_ptr<UdpSocket> udp_;
  std::unique_ptr<UnixDatagramSocket> unixgram_;
  Status startUnixgram();
  std::map<std::uint64_t, std::unique_ptr<Conn>> conns_;
  std::uint64_t next_conn_ = 1;
  std::unique_ptr<Timer> idle_timer_;
  std::unique_ptr<Timer> multiline_timer_;
  std::unique_ptr<Timer> drops_timer_;
  std::uint64_t udp_inode_ = 0;
  std::optional<std::uint64_t> kernel_drops_;  // last count read (nullopt: not read yet)
  bool drops_sampling_ = false;
  int bound_port_ = 0;
  bool paused_ = false;
  bool stopping_ = false;
  int open_handles_ = 0;
  std::function<void()> stop_done_;
  // Datagrams received in this loop iteration, per peer, pushed together.
  struct Pending {
    std::shared_ptr<const SourceInfo> source;
    std::string data;
    std::uint64_t records = 0;
  };
  std::map<std::string, Pending> pending_;
  bool flush_posted_ = false;
  std::map<std::string, std::shared_ptr<const SourceInfo>> udp_sources_;  // by peer, bounded
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The plugin types. Each is a SocketInput with its own defaults.
inline constexpr char kTcpName[] = "tcp";
inline constexpr char kUdpName[] = "udp";
inline constexpr char kUnixName[] = "unix";
inline constexpr char kUnixgramName[] = "unixgram";
inline constexpr char kSyslogName[] = "syslog";

template <const char* Name>
struct SocketPlugin {
  static constexpr std::string_view kName = Name;
  // The parser when the section names none (the registry's P::kDefaultParser).
  static constexpr std::string_view kDefaultParser = kName == "syslog" ? "syslog" : "";
  using Settings = SocketSettings;
  static Result<Settings> parse(const ConfigNode& node) { return parseSocketSettings(node, kName); }
  static Result<std::unique_ptr<Input>> create(const Settings& s, PluginContext& ctx) {
    std::shared_ptr<TlsServerContext> tls;
    if (s.tls) {
      auto loaded = TlsServerContext::create(*s.tls);
      if (!loaded) {
        return Error{loaded.error().code,
                     "input " + ctx.instance + ": tls: " + loaded.error().message};
      }
      tls = std::move(loaded).value();
    }
    return std::unique_ptr<Input>(std::make_unique<SocketInput>(s, ctx, std::move(tls)));
  }
  static Status validate(const ConfigNode& node, const Settings& s, ValidationReport& report) {
    return validateSocketSettings(node, s, report);
  }
  static std::string describe(const Settings& s) { return describeSocketSettings(s); }
};


using TcpInput = SocketPlugin<kTcpName>;
using UdpInput = SocketPlugin<kUdpName>;
using UnixInput = SocketPlugin<kUnixName>;
using UnixgramInput = SocketPlugin<kUnixgramName>;
using SyslogInput = SocketPlugin<kSyslogName>;

}  // namespace ingestd::inputs
