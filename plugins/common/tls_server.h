// TLS for stream listeners (RFC 5425 syslog over TLS, TLS on tcp inputs), on OpenSSL with memory
// BIOs: the socket code moves bytes, a TlsSession turns the peer's ciphertext into plaintext and
// says what to send back (handshake, alerts). No sockets and no loop here; TlsServerContext's
// create() reads the certificate files (blocking: at config and start-up time, never the loop).
//
// TLS 1.2 is the oldest version accepted. client_auth: none (no client certificate asked),
// optional (asked, verified against ca_file when sent), required (a verified client certificate
// or the handshake fails).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "agent/core/status.h"
#include "agent/plugin/config.h"

struct ssl_ctx_st;
struct ssl_st;
struct bio_st;

namespace ingestd::inputs {

enum class TlsClientAuth : std::uint8_t { kNone, kOptional, kRequired };
std::string_view tlsClientAuthName(TlsClientAuth a);

struct TlsSettings {
  std::string cert_file;  // PEM: the server certificate (then its chain)
  std::string key_file;   // PEM: its private key (default: cert_file, when that holds the key)
  std::string ca_file;    // PEM: CAs that client certificates must chain to
  TlsClientAuth client_auth = TlsClientAuth::kNone;
};

// Reads the `tls:` mapping { cert_file, key_file, ca_file, client_auth }. cert_file is
// required; client_auth optional/required needs ca_file. Pure: the files are checked by
// checkTlsFiles() / TlsServerContext::create().
Result<TlsSettings> parseTlsSettings(const ConfigNode& node);
// For `ingestd check`: "cert /etc/..., key ..., client certificates: required (CA ...)".
std::string describeTls(const TlsSettings& s);

// The server side of TLS for one listener: the certificate, key and CAs loaded once, shared by
// every connection. Thread-compatible: create on any thread, use from one.
class TlsServerContext {
 public:
  // Loads and checks the files: the certificate parses, the key parses and matches it, the CA
  // file holds at least one certificate. Errors name the file and what is wrong (OpenSSL's
  // reason), never the key's bytes. `failed_key` (may be null) is set to the setting at fault:
  // "cert_file", "key_file" or "ca_file".
  static Result<std::shared_ptr<TlsServerContext>> create(const TlsSettings& settings,
                                                          std::string* failed_key = nullptr);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  ssl_ctx_st* native() const { return ctx_; }
  // The server certificate's subject and expiry, for logs: "CN=host, expires 2027-12-01".
  const std::string& summary() const { return summary_; }

 private:
  TlsServerContext() = default;
  ssl_ctx_st* ctx_ = nullptr;
  std::string summary_;
};

// One accepted connection's TLS state.
class TlsSession {
 public:
  explicit TlsSession(std::shared_ptr<TlsServerContext> context);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Takes `ciphertext` from the peer. Decrypted bytes go to on_plaintext (valid during the call
  // only; several calls per feed); bytes to send to the peer (handshake messages, alerts) are
  // appended to `to_peer`. An error (kNetwork) means the session is dead: a failed handshake
  // (no shared version or cipher, a client certificate missing or not trusted, not TLS at all)
  // or a corrupt record; `to_peer` may then hold the alert to send before closing.
  Status feed(std::string_view ciphertext,
              const std::function<void(std::string_view)>& on_plaintext, std::string& to_peer);

  bool handshakeDone() const { return handshake_done_; }
  // The peer sent close_notify: no more plaintext will come.
  bool peerClosed() const { return peer_closed_; }
  // After the handshake: "TLSv1.3 TLS_AES_256_GCM_SHA384" and, when the client sent a
  // certificate, its subject ("CN=client").
  std::string describe() const;

 private:
  void drainOutput(std::string& to_peer);
  std::shared_ptr<TlsServerContext> context_;
  ssl_st* ssl_ = nullptr;
  bio_st* in_ = nullptr;   // ciphertext from the peer (owned by ssl_)
  bio_st* out_ = nullptr;  // ciphertext to the peer (owned by ssl_)
  bool handshake_done_ = false;
  bool peer_closed_ = false;
  bool failed_ = false;
};

}  // namespace ingestd::inputs
