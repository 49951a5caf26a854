// SocketInput: listeners, connections and datagrams into record chunks (see socket_input.h).
#include "plugins/inputs/socket/socket_input.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "agent/core/assert.h"
#include "plugins/common/framing_config.h"
#include "plugins/common/record_push.h"
#include "plugins/common/udp_drops.h"


namespace ingestd::inputs {

namespace {

// Splits "IP:PORT" / "[IPv6]:PORT" (an IP literal: names would need a blocking lookup).
bool splitHostPort(const std::string& text, std::string& ip, int& port) {
  std::string host;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      return false;
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (host.empty() || port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  port = std::stoi(port_text);
  if (port > 65535) {
    return false;
  }
  unsigned char addr[sizeof(in6_addr)];
  if (::inet_pton(AF_INET, host.c_str(), addr) != 1 &&
      ::inet_pton(AF_INET6, host.c_str(), addr) != 1) {
    return false;
  }
  ip = host;
  return true;
}

// The address part of a peer: "127.0.0.1:40312" -> "127.0.0.1", "[::1]:40312" -> "::1".
std::string peerHost(const std::string& peer) {
  if (!peer.empty() && peer.front() == '[') {
    const auto close = peer.find(']');
    return close == std::string::npos ? peer : peer.substr(1, close - 1);
  }
  const auto colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

// A datagram's one trailing LF (or CRLF) is the sender's line end, not part of the message.
std::string_view trimDatagram(std::string_view d) {
  if (!d.empty() && d.back() == '\n') {
    d.remove_suffix(1);
    if (!d.empty() && d.back() == '\r') {
      d.remove_suffix(1);
    }
  }
  return d;
}

// Removes a socket file left at `path` by an earlier run; true when it did. Any other kind of
// file there stays (an error for the caller). A live socket is not told apart here: a daemon
// owning the path is what the state_dir lock is for.
bool removeStaleSocket(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && ::unlink(path.c_str()) == 0;
}

constexpr std::size_t kMaxUdpSources = 4096;  // peers remembered (their SourceInfo)
constexpr std::size_t kDatagramChunkBytes = 256u << 10;

}  // namespace

std::string_view socketProtocolName(SocketProtocol p) {
  switch (p) {
    case SocketProtocol::kTcp: return "tcp";
    case SocketProtocol::kUdp: return "udp";
    case SocketProtocol::kUnix: return "unix";
    case SocketProtocol::kUnixgram: return "unixgram";
  }
  return "?";
}

Result<SocketSettings> parseSocketSettings(const ConfigNode& node, std::string_view type) {
  MapReader r(node);
  r.allow(kCoreInputKeys);
  SocketSettings s;
  s.type = std::string(type);
  s.tag = r.string("tag", r.string("name"));
  std::string proto = std::string(type);
  if (type == "syslog") {
    proto = r.oneOf("protocol", "udp", {"tcp", "udp", "unix", "unixgram"});
  }
  s.protocol = proto == "tcp"        ? SocketProtocol::kTcp
               : proto == "udp"      ? SocketProtocol::kUdp
               : proto == "unixgram" ? SocketProtocol::kUnixgram
                                     : SocketProtocol::kUnix;
  if (s.protocol == SocketProtocol::kUnix || s.protocol == SocketProtocol::kUnixgram) {
    s.path = r.path("path");
    if (r.status().isOk() && (s.path.empty() || s.path.front() != '/')) {
      r.fail(
          node["path"].error("must be an absolute path to the socket file (e.g. "
                             "/run/ingestd/log.sock)"));
    }
    if (r.status().isOk() && s.path.size() > 107) {
      r.fail(node["path"].error("is longer than a Unix socket path may be (107 bytes)"));
    }
    s.remove_stale = r.boolean("remove_stale", true);
  } else {
    const std::string def =
        type == "syslog" ? (proto == "tcp" ? "0.0.0.0:601" : "0.0.0.0:514") : std::string();
    std::string listen = def.empty() ? r.requiredString("listen") : r.string("listen", def);
    if (r.status().isOk() && !splitHostPort(listen, s.ip, s.port)) {
      r.fail(node["listen"].error(
          "expected IP:PORT with an IP address (e.g. 127.0.0.1:5170, 0.0.0.0:514, [::1]:5170; "
          "port 0 lets the OS pick)"));
    }
  }
  if (!isDatagram(s.protocol)) {
    s.framing =
        readFramingSettings(r, type == "syslog" ? FramingMode::kAuto : FramingMode::kNewline);
    s.max_connections = static_cast<std::size_t>(r.integer("max_connections", 1024, 1, 1'000'000));
    s.idle_timeout = r.duration("idle_timeout", std::chrono::minutes(5));
    // multiline: the frames of one connection joined into records (stack traces).
    s.multiline = readMultilineSettings(r);
    if (r.has("tls")) {
      ConfigNode tls = r.child("tls");
      if (s.protocol != SocketProtocol::kTcp) {
        r.fail(
            tls.error("TLS is for tcp listeners; a Unix socket's peers are local (use file "
                      "permissions on its path)"));
      } else if (auto t = parseTlsSettings(tls); !t) {
        r.fail(t.error());
      } else {
        s.tls = std::move(t).value();
      }
    }
  } else {
    s.framing.max_message_bytes = r.size("max_message_bytes", 64u << 10, 1, 64u << 10);
    // receive_buffer (udp): SO_RCVBUF, room for bursts while the loop is busy (capped by the
    // kernel's net.core.rmem_max); the kernel's own drops are counted either way.
    if (s.protocol == SocketProtocol::kUdp) {
      s.receive_buffer = r.size("receive_buffer", 0, 0, 1u << 30);
    }
    if (r.has("tls")) {
      r.fail(r.child("tls").error(fmt::format(
          "TLS needs a stream protocol (tcp): over {} use DTLS elsewhere, or send over tcp",
          proto)));
    }
    if (r.has("multiline")) {
      (void)r.child("multiline");
      r.fail(node["multiline"].error(
          fmt::format("multiline needs a stream protocol (tcp or unix): over {} each datagram "
                      "is one message",
                      proto)));
    }
  }
  INGESTD_RETURN_IF_ERROR(r.finish());
  return s;
}

std::string describeSocketSettings(const SocketSettings& s) {
  std::string where =
      s.protocol == SocketProtocol::kUnix || s.protocol == SocketProtocol::kUnixgram
          ? s.path
          : fmt::format("{}:{}", s.ip.find(':') != std::string::npos ? "[" + s.ip + "]" : s.ip,
                        s.port);
  std::string out =
      fmt::format("      listen:      {} {}\n", socketProtocolName(s.protocol), where);
  if (!isDatagram(s.protocol)) {
    out += fmt::format(
        "      framing:     {}, max {} bytes per message; at most {} connections, idle "
        "timeout {}\n",
        framingModeName(s.framing.mode), s.framing.max_message_bytes, s.max_connections,
        s.idle_timeout.count() == 0 ? std::string("none") : formatDuration(s.idle_timeout));
    if (s.multiline) {
      out += fmt::format("      multiline:   {}\n", describeMultiline(*s.multiline));
    }
    if (s.tls) {
      out += fmt::format("      tls:         {}\n", describeTls(*s.tls));
    }
  } else {
    out += fmt::format("      datagrams:   max {} bytes per message; receive buffer {}\n",
                       s.framing.max_message_bytes,
                       s.receive_buffer == 0 ? std::string("the system's default")
                                             : formatSize(s.receive_buffer));
  }
  return out;
}

Status validateSocketSettings(const ConfigNode& node, const SocketSettings& s,
                              ValidationReport& report) {
  if (!s.tls) {
    return Status::ok();
  }
  const ConfigNode tls = node["tls"];
  auto check = [&](const char* key, const std::string& path) -> Status {
    if (path.empty()) {
      return Status::ok();
    }
    const ConfigNode at = tls[key].defined() ? tls[key] : tls["cert_file"];
    auto found =
        key == std::string_view("ca_file") ? checkCaFile(at, path) : checkReadableFile(at, path);
    if (!found) {
      return found.error();
    }
    report.files[path] = found.value();
    return Status::ok();
  };
  INGESTD_RETURN_IF_ERROR(check("cert_file", s.tls->cert_file));
  INGESTD_RETURN_IF_ERROR(check("key_file", s.tls->key_file));
  INGESTD_RETURN_IF_ERROR(check("ca_file", s.tls->ca_file));
  // The files are there: do they make a working TLS server (key matches, PEM parses)?
  std::string key;
  auto loaded = TlsServerContext::create(*s.tls, &key);
  if (!loaded) {
    // At the key that names the file (key_file may be implied by cert_file).
    const ConfigNode at = !key.empty() && tls[key].defined() ? tls[key] : tls["cert_file"];
    return at.error(loaded.error().message);
  }
  report.files[s.tls->cert_file] += "; " + loaded.value()->summary();
  return Status::ok();
}

struct SocketInput::Conn {
  std::uint64_t id = 0;
  std::unique_ptr<StreamConnection> stream;
  StreamFramer framer;
  std::shared_ptr<const SourceInfo> source;
  std::chrono::steady_clock::time_point last_activity;
  std::optional<Multiline> ml;      // multiline: the record being built (made at the first frame)
  std::uint64_t ml_offset = 0;      // bytes of frames pushed into it (its ranges)
  std::unique_ptr<TlsSession> tls;  // tls: what turns the peer's bytes into plaintext
  bool failed = false;              // tls: the session failed, the connection is closing
  explicit Conn(const FramingSettings& f) : framer(f) {}
};

SocketInput::SocketInput(SocketSettings settings, PluginContext& ctx,
                         std::shared_ptr<TlsServerContext> tls)
    : settings_(std::move(settings)),
      ctx_(ctx),
      tls_(std::move(tls)),
      component_("input " + ctx.instance) {
  INGESTD_ASSERT(!settings_.tls || tls_ != nullptr);
  format_ = ctx_.parser_name == "json" ? RecordFormat::kFramedJson : RecordFormat::kFramed;
}

SocketInput::~SocketInput() { *alive_ = false; }

void SocketInput::count(std::string_view event, std::uint64_t n) {
  if (ctx_.input_metrics != nullptr && n > 0) {
    ctx_.input_metrics->socketEvent(event).Increment(static_cast<double>(n));
  }
}

Status SocketInput::start(RecordSink& sink) {
  sink_ = &sink;
  switch (settings_.protocol) {
    case SocketProtocol::kTcp:
    case SocketProtocol::kUnix: {
      auto on_conn = [this](Result<std::unique_ptr<StreamConnection>> c) {
        onAccept(std::move(c));
      };
      Result<std::unique_ptr<StreamListener>> l =
          settings_.protocol == SocketProtocol::kTcp
              ? StreamListener::listenTcp(ctx_.loop, settings_.ip, settings_.port, on_conn)
              : StreamListener::listenUnix(ctx_.loop, settings_.path, on_conn);
      if (!l && settings_.protocol == SocketProtocol::kUnix && settings_.remove_stale &&
          l.error().code == ErrorCode::kUnavailable) {
        if (removeStaleSocket(settings_.path)) {
          l = StreamListener::listenUnix(ctx_.loop, settings_.path, on_conn);
        }
      }
      if (!l) {
        return Error{l.error().code,
                     fmt::format("{}: cannot listen on {}: {}", component_,
                                 settings_.protocol == SocketProtocol::kTcp
                                     ? settings_.ip + ":" + std::to_string(settings_.port)
                                     : settings_.path,
                                 l.error().message)};
      }
      listener_ = std::move(l).value();
      ++open_handles_;
      bound_port_ = listener_->port();
      ctx_.log.info(component_, "Listening on {} {}{}.", socketProtocolName(settings_.protocol),
                    listener_->address(),
                    tls_ ? fmt::format(" with TLS (certificate {})", tls_->summary()) : "");
      if (settings_.idle_timeout.count() > 0) {
        idle_timer_ = std::make_unique<Timer>(ctx_.loop);
        auto every = std::max(std::chrono::milliseconds(50), settings_.idle_timeout / 4);
        idle_timer_->startRepeating(every, [this] { sweepIdle(); });
      }
      if (settings_.multiline && settings_.multiline->timeout.count() > 0) {
        // A record is emitted between timeout and 1.25 x timeout after its last line: one
        // sweep over the connections per quarter timeout, whatever their number.
        multiline_timer_ = std::make_unique<Timer>(ctx_.loop);
        auto every = std::max(std::chrono::milliseconds(20), settings_.multiline->timeout / 4);
        multiline_timer_->startRepeating(every, [this] { sweepMultiline(); });
      }
      break;
    }
    case SocketProtocol::kUnixgram: {
      INGESTD_RETURN_IF_ERROR(startUnixgram());
      break;
    }
    case SocketProtocol::kUdp: {
      auto u = UdpSocket::bind(ctx_.loop, settings_.ip, settings_.port);
      if (!u) {
        return Error{u.error().code, fmt::format("{}: cannot bind udp {}:{}: {}", component_,
                                                 settings_.ip, settings_.port, u.error().message)};
      }
      udp_ = std::move(u).value();
      ++open_handles_;
      bound_port_ = udp_->port();
      if (settings_.receive_buffer > 0) {
        auto got = udp_->setReceiveBuffer(settings_.receive_buffer);
        if (!got) {
          ctx_.log.warn(component_, "{}", got.error().message);
        } else if (got.value() / 2 < settings_.receive_buffer) {
          ctx_.log.warn(component_,
                        "Asked for a receive buffer of {} bytes, the kernel granted {} (raise "
                        "net.core.rmem_max for more).",
                        settings_.receive_buffer, got.value() / 2);
        }
      }
      udp_inode_ = udp_->inode();
      drops_timer_ = std::make_unique<Timer>(ctx_.loop);
      kernel_drops_ = 0;  // a new socket: the kernel's count starts at 0
      drops_timer_->startRepeating(std::chrono::seconds(2), [this] { sampleKernelDrops(); });
      if (auto st = udp_->startReceiving([this](const UdpSocket::Datagram& d) { onDatagram(d); });
          !st) {
        return st;
      }
      ctx_.log.info(component_, "Listening on udp {}.", udp_->address());
      break;
    }
  }
  if (ctx_.input_metrics != nullptr) {
    InputMetrics& m = *ctx_.input_metrics;
    m.listenPort().Set(bound_port_);
    // Every known label value exists from the start.
    for (const char* e : {"accepted", "refused", "accept_failed", "idle_closed", "framing_error"}) {
      m.socketEvent(e);
    }
    if (tls_) {
      m.socketEvent("tls_failed");
    }
    for (const char* r : {"incomplete", "buffer_full", "receive_queue_full"}) {
      m.dropped(r);
    }
    if (!isDatagram(settings_.protocol)) {
      m.connections().Set(0);
    }
  }
  return Status::ok();
}

Status SocketInput::startUnixgram() {
  auto u = UnixDatagramSocket::bind(ctx_.loop, settings_.path);
  if (!u && settings_.remove_stale && u.error().code == ErrorCode::kUnavailable) {
    if (removeStaleSocket(settings_.path)) {
      u = UnixDatagramSocket::bind(ctx_.loop, settings_.path);
    }
  }
  if (!u) {
    return Error{u.error().code, fmt::format("{}: cannot bind unixgram {}: {}", component_,
                                             settings_.path, u.error().message)};
  }
  unixgram_ = std::move(u).value();
  ++open_handles_;
  if (auto st = unixgram_->startReceiving([this](const UdpSocket::Datagram& d) { onDatagram(d); });
      !st) {
    return st;
  }
  ctx_.log.info(component_, "Listening on unixgram {}.", settings_.path);
  return Status::ok();
}

std::shared_ptr<const SourceInfo> SocketInput::sourceFor(const std::string& peer) {
  auto s = std::make_shared<SourceInfo>();
  s->input = ctx_.name;
  s->tag = settings_.tag;
  s->source = peer;
  if (settings_.type == "syslog" &&
      (settings_.protocol == SocketProtocol::kTcp || settings_.protocol == SocketProtocol::kUdp)) {
    // A message without a HOSTNAME (RFC 3164 variants, RFC 5424's "-") is from the peer.
    s->host = peerHost(peer);
  }
  s->format = format_;
  s->parser = ctx_.parser;
  return s;
}

void SocketInput::onAccept(Result<std::unique_ptr<StreamConnection>> accepted) {
  if (!accepted) {
    count("accept_failed");
    ctx_.log.logLimited(LogLevel::kWarn, ctx_.instance + "/accept", std::chrono::seconds(60),
                        component_,
                        fmt::format("Cannot accept a connection: {}.", accepted.error().message));
    return;
  }
  auto stream = std::move(accepted).value();
  if (stopping_ || conns_.size() >= settings_.max_connections) {
    count("refused");
    ctx_.log.logLimited(LogLevel::kWarn, ctx_.instance + "/refused", std::chrono::seconds(60),
                        component_,
                        fmt::format("Refused a connection from {}: {} connections are open "
                                    "(max_connections).",
                                    stream->peer(), conns_.size()));
    ++open_handles_;
    stream->close([this, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.expired()) {
        --open_handles_;
        handleClosed();
      }
    });
    // The handle's memory is released in its close callback; the object may go now.
    return;
  }
  count("accepted");
  auto conn = std::make_unique<Conn>(settings_.framing);
  conn->id = next_conn_++;
  conn->stream = std::move(stream);
  conn->source = sourceFor(conn->stream->peer());
  if (tls_) {
    conn->tls = std::make_unique<TlsSession>(tls_);
  }
  conn->last_activity = std::chrono::steady_clock::now();
  Conn& c = *conn;
  const std::uint64_t id = c.id;
  conns_[id] = std::move(conn);
  ++open_handles_;
  if (ctx_.input_metrics != nullptr) {
    ctx_.input_metrics->connections().Set(static_cast<double>(conns_.size()));
  }
  c.stream->read([this, &c](std::string_view bytes) { onData(c, bytes); },
                 [this, id](const Status& st) { onEnd(id, st); });
  if (paused_) {
    c.stream->pauseReading();
  }
}

void SocketInput::addFrame(std::string& data, std::uint64_t& records, std::string_view frame) {
  appendFramed(data, frame);
  ++records;
}

void SocketInput::frameBytes(Conn& c, std::string_view bytes, std::string& data,
                             std::uint64_t& records) {
  if (ctx_.input_metrics != nullptr) {
    ctx_.input_metrics->bytes->Increment(static_cast<double>(bytes.size()));
  }
  if (settings_.multiline) {
    c.framer.feed(bytes, [&](const Frame& f) { pushLine(c, f.data, data, records); });
  } else {
    c.framer.feed(bytes, [&](const Frame& f) { addFrame(data, records, f.data); });
  }
}

void SocketInput::onData(Conn& c, std::string_view bytes) {
  if (c.failed) {
    return;  // a failed TLS session: its connection is closing
  }
  c.last_activity = std::chrono::steady_clock::now();
  std::string data;
  // Room for the frames of this read and their 4-byte lengths (messages of 32 bytes or more)
  // at once: growing the string by doubling copied and page-faulted it several times per read.
  data.reserve(bytes.size() + bytes.size() / 8 + 64);
  std::uint64_t records = 0;
  const FramerStats before = c.framer.stats();
  if (c.tls) {
    std::string to_peer;
    const bool was_done = c.tls->handshakeDone();
    Status st = c.tls->feed(
        bytes, [&](std::string_view plain) { frameBytes(c, plain, data, records); }, to_peer);
    if (!was_done && c.tls->handshakeDone()) {
      ctx_.log.debug(component_, "TLS from {}: {}.", c.stream->peer(), c.tls->describe());
    }
    if (!st) {
      // What arrived before the failure was decrypted and authenticated: it is kept.
      push(c.source, std::move(data), records);
      onTlsFailed(c.id, st, std::move(to_peer));
      return;
    }
    if (!to_peer.empty()) {
      c.stream->write(std::move(to_peer), nullptr);
    }
  } else {
    frameBytes(c, bytes, data, records);
  }
  const FramerStats& after = c.framer.stats();
  if (ctx_.input_metrics != nullptr && after.truncated > before.truncated) {
    ctx_.input_metrics->dropped("truncated")
        .Increment(static_cast<double>(after.truncated - before.truncated));
  }
  count("framing_error", after.framing_errors - before.framing_errors);
  push(c.source, std::move(data), records);
}

void SocketInput::onTlsFailed(std::uint64_t id, const Status& st, std::string alert) {
  auto it = conns_.find(id);
  if (it == conns_.end()) {
    return;
  }
  Conn& c = *it->second;
  c.failed = true;
  count("tls_failed");
  ctx_.log.logLimited(LogLevel::kWarn, ctx_.instance + "/tls", std::chrono::seconds(60), component_,
                      fmt::format("Closing the connection from {}: {}.", c.stream->peer(),
                                  st.message()));
  c.stream->pauseReading();
  if (alert.empty()) {
    closeConn(id, "");
    return;
  }
  // The alert tells the client why; the connection closes once the kernel took it.
  c.stream->write(std::move(alert), [this, id, alive = std::weak_ptr<bool>(alive_)](Status) {
    if (!alive.expired()) {
      closeConn(id, "");
    }
  });
}

void SocketInput::pushLine(Conn& c, std::string_view frame, std::string& data,
                           std::uint64_t& records) {
  if (!c.ml) {
    auto ml = Multiline::create(*settings_.multiline);
    INGESTD_ASSERT(ml.isOk());  // the patterns compiled when the config was parsed
    c.ml.emplace(std::move(ml).value());
  }
  const ByteRange range{c.ml_offset, c.ml_offset + frame.size() + 1};
  c.ml_offset = range.end;
  c.ml->push(frame, range, ctx_.clock.now(),
             [&](const MultilineRecord& rec) { addFrame(data, records, rec.text); });
}

void SocketInput::flushMultiline(Conn& c) {
  if (!c.ml || !c.ml->hasPending()) {
    return;
  }
  std::string data;
  std::uint64_t records = 0;
  c.ml->flush([&](const MultilineRecord& rec) { addFrame(data, records, rec.text); });
  push(c.source, std::move(data), records);
}

void SocketInput::sweepMultiline() {
  if (paused_) {
    return;  // the connection's next line may be waiting unread: it may continue the record
  }
  const auto now = ctx_.clock.now();
  for (auto& [id, c] : conns_) {
    if (!c->ml) {
      continue;
    }
    if (auto due = c->ml->deadline(); !due || *due > now) {
      continue;
    }
    std::string data;
    std::uint64_t records = 0;
    c->ml->flushExpired(now,
                        [&](const MultilineRecord& rec) { addFrame(data, records, rec.text); });
    push(c->source, std::move(data), records);
  }
}

void SocketInput::push(const std::shared_ptr<const SourceInfo>& source, std::string data,
                       std::uint64_t records) {
  pushRecords(*sink_, ctx_, source, std::move(data), records);
}

void SocketInput::onEnd(std::uint64_t id, const Status& st) {
  auto it = conns_.find(id);
  if (it == conns_.end()) {
    return;
  }
  Conn& c = *it->second;
  // A frame cut by the close is counted, not guessed at: its bytes are not a record.
  bool incomplete = false;
  c.framer.finish([&](const Frame& f) { incomplete = incomplete || f.incomplete; });
  if (c.framer.stats().incomplete_at_close > 0 && ctx_.input_metrics != nullptr) {
    ctx_.input_metrics->dropped("incomplete")
        .Increment(static_cast<double>(c.framer.stats().incomplete_at_close));
  }
  if (!st) {
    ctx_.log.debug(component_, "Connection from {} ended: {}.", c.stream->peer(), st.message());
  }
  closeConn(id, "");
}

void SocketInput::closeConn(std::uint64_t id, std::string_view why) {
  auto it = conns_.find(id);
  if (it == conns_.end()) {
    return;
  }
  std::unique_ptr<Conn> conn = std::move(it->second);
  conns_.erase(it);
  flushMultiline(*conn);  // connection closed, idle or stopping: the last record is whole
  if (!why.empty()) {
    ctx_.log.debug(component_, "Closing the connection from {}: {}.", conn->stream->peer(), why);
  }
  if (ctx_.input_metrics != nullptr) {
    ctx_.input_metrics->connections().Set(static_cast<double>(conns_.size()));
  }
  // The handle is freed in its close callback, which runs even once the object is gone. The
  // Conn goes after this loop iteration: we may be inside its stream's callback.
  conn->stream->close([this, alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.expired()) {
      --open_handles_;
      handleClosed();
    }
  });
  ctx_.post([keep = std::shared_ptr<Conn>(std::move(conn))] {});
}

void SocketInput::sweepIdle() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> idle;
  for (const auto& [id, c] : conns_) {
    if (now - c->last_activity >= settings_.idle_timeout) {
      idle.push_back(id);
    }
  }
  for (auto id : idle) {
    count("idle_closed");
    auto it = conns_.find(id);
    if (it != conns_.end()) {
      Conn& c = *it->second;
      c.framer.finish([](const Frame&) {});
      if (c.framer.stats().incomplete_at_close > 0 && ctx_.input_metrics != nullptr) {
        ctx_.input_metrics->dropped("incomplete")
            .Increment(static_cast<double>(c.framer.stats().incomplete_at_close));
      }
    }
    closeConn(id, "idle for longer than idle_timeout");
  }
}

void SocketInput::onDatagram(const UdpSocket::Datagram& d) {
  if (ctx_.input_metrics != nullptr) {
    ctx_.input_metrics->bytes->Increment(static_cast<double>(d.data.size()));
  }
  if (paused_ || stopping_) {
    // Nowhere to keep it: counted, so a missing message is always accounted for.
    if (ctx_.input_metrics != nullptr) {
      ctx_.input_metrics->dropped("buffer_full").Increment();
    }
    return;
  }
  std::string_view msg = trimDatagram(d.data);
  if (msg.empty()) {
    return;
  }
  if (d.truncated || msg.size() > settings_.framing.max_message_bytes) {
    msg = msg.substr(0, std::min(msg.size(), settings_.framing.max_message_bytes));
    if (ctx_.input_metrics != nullptr) {
      ctx_.input_metrics->dropped("truncated").Increment();
    }
  }
  // Unix datagrams: the source is the socket's path, as for unix stream connections.
  const std::string& peer = unixgram_ ? settings_.path : d.peer;
  Pending& p = pending_[peer];
  if (!p.source) {
    auto known = udp_sources_.find(peer);
    if (known == udp_sources_.end()) {
      if (udp_sources_.size() >= kMaxUdpSources) {
        udp_sources_.clear();
      }
      known = udp_sources_.emplace(peer, sourceFor(peer)).first;
    }
    p.source = known->second;
  }
  addFrame(p.data, p.records, msg);
  if (p.data.size() >= kDatagramChunkBytes) {
    push(p.source, std::move(p.data), p.records);
    p.data.clear();
    p.records = 0;
  }
  if (!flush_posted_) {
    flush_posted_ = true;
    ctx_.post([this, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.expired()) {
        flushDatagrams();
      }
    });
  }
}

void SocketInput::flushDatagrams() {
  flush_posted_ = false;
  for (auto& [peer, p] : pending_) {
    push(p.source, std::move(p.data), p.records);
  }
  pending_.clear();
}

void SocketInput::sampleKernelDrops() {
  if (drops_sampling_ || stopping_ || udp_inode_ == 0) {
    return;
  }
  drops_sampling_ = true;
  auto result = std::make_shared<std::optional<std::uint64_t>>();
  ctx_.fileWork([result, inode = udp_inode_] { *result = readUdpKernelDrops(inode); },
                [this, result, alive = std::weak_ptr<bool>(alive_)] {
                  if (alive.expired()) {
                    return;
                  }
                  drops_sampling_ = false;
                  if (!*result) {
                    return;  // not found (no /proc): nothing to report
                  }
                  const std::uint64_t now = **result;
                  const std::uint64_t before = kernel_drops_.value_or(now);
                  kernel_drops_ = now;
                  if (now > before && ctx_.input_metrics != nullptr) {
                    ctx_.input_metrics->dropped("receive_queue_full")
                        .Increment(static_cast<double>(now - before));
                    ctx_.log.logLimited(
                        LogLevel::kWarn, ctx_.instance + "/rxq", std::chrono::seconds(60),
                        component_,
                        fmt::format("The kernel dropped {} datagrams: the socket's receive "
                                    "queue was full (raise receive_buffer, or send over TCP).",
                                    now - before));
                  }
                });
}

void SocketInput::pause() {
  paused_ = true;
  if (unixgram_) {
    // Unix datagram senders block (or get EAGAIN) when the queue is full: not reading holds
    // them back, like TCP, and nothing is dropped.
    unixgram_->stopReceiving();
  }
  for (auto& [id, c] : conns_) {
    c->stream->pauseReading();
  }
}

void SocketInput::resume() {
  paused_ = false;
  if (unixgram_ && !stopping_) {
    (void)unixgram_->startReceiving([this](const UdpSocket::Datagram& d) { onDatagram(d); });
  }
  for (auto& [id, c] : conns_) {
    c->stream->resumeReading();
  }
}

void SocketInput::stop(std::function<void()> done) {
  stopping_ = true;
  stop_done_ = std::move(done);
  if (udp_ || unixgram_) {
    flushDatagrams();
  }
  if (idle_timer_) {
    idle_timer_->stop();
  }
  if (multiline_timer_) {
    multiline_timer_->stop();
  }
  if (drops_timer_) {
    drops_timer_->stop();
  }
  std::vector<std::uint64_t> ids;
  for (const auto& [id, c] : conns_) {
    ids.push_back(id);
  }
  for (auto id : ids) {
    closeConn(id, "");
  }
  auto closed = [this, alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.expired()) {
      --open_handles_;
      handleClosed();
    }
  };
  if (listener_) {
    listener_->close(closed);
  }
  if (udp_) {
    udp_->close(closed);
  }
  if (unixgram_) {
    unixgram_->close(closed);
  }
  handleClosed();
}

void SocketInput::handleClosed() {
  if (stopping_ && open_handles_ == 0 && stop_done_) {
    auto done = std::move(stop_done_);
    stop_done_ = nullptr;
    done();
  }
}

}  // namespace ingestd::inputs
