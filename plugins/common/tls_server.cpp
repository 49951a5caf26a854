// TlsServerContext and TlsSession on OpenSSL (see tls_server.h).
#include "plugins/common/tls_server.h"

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <utility>

#include <fmt/format.h>

namespace ingestd::inputs {

namespace {

// OpenSSL's reason for the last failure on this thread ("no certificate or crl found"), and
// clears its queue so the next call starts clean. Never key material: only library reasons.
std::string sslReason() {
  std::string reason;
  while (unsigned long e = ERR_get_error()) {
    if (reason.empty()) {
      const char* r = ERR_reason_error_string(e);
      reason = r != nullptr ? r : fmt::format("error {:#x}", e);
    }
  }
  return reason.empty() ? std::string("unknown reason") : reason;
}

std::string nameText(const X509_NAME* name) {
  if (name == nullptr) {
    return {};
  }
  BIO* b = BIO_new(BIO_s_mem());
  if (b == nullptr) {
    return {};
  }
  X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data != nullptr && n > 0 ? std::string(data, static_cast<std::size_t>(n)) : "");
  BIO_free(b);
  return out;
}

std::string timeText(const ASN1_TIME* t) {
  BIO* b = BIO_new(BIO_s_mem());
  if (b == nullptr || t == nullptr) {
    BIO_free(b);
    return {};
  }
  ASN1_TIME_print(b, t);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data != nullptr && n > 0 ? std::string(data, static_cast<std::size_t>(n)) : "");
  BIO_free(b);
  return out;
}

// An encrypted key would make OpenSSL prompt on the terminal for a passphrase; a daemon must
// fail instead, with a message.
int noPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

}  // namespace

std::string_view tlsClientAuthName(TlsClientAuth a) {
  switch (a) {
    case TlsClientAuth::kNone: return "none";
    case TlsClientAuth::kOptional: return "optional";
    case TlsClientAuth::kRequired: return "required";
  }
  return "?";
}

Result<TlsSettings> parseTlsSettings(const ConfigNode& node) {
  if (!node.isMap()) {
    return node.error(
        "expected a mapping: { cert_file: ..., key_file: ..., ca_file: ..., client_auth: "
        "none|optional|required }");
  }
  MapReader r(node);
  TlsSettings s;
  s.cert_file = r.path("cert_file");
  s.key_file = r.path("key_file");
  s.ca_file = r.path("ca_file");
  const std::string auth = r.oneOf("client_auth", "none", {"none", "optional", "required"});
  s.client_auth = auth == "required"   ? TlsClientAuth::kRequired
                  : auth == "optional" ? TlsClientAuth::kOptional
                                       : TlsClientAuth::kNone;
  INGESTD_RETURN_IF_ERROR(r.finish());
  if (s.cert_file.empty()) {
    return node.error("needs cert_file: the server certificate (PEM)");
  }
  if (s.key_file.empty()) {
    s.key_file = s.cert_file;  // one PEM file with the certificate and its key
  }
  if (s.client_auth != TlsClientAuth::kNone && s.ca_file.empty()) {
    return node["client_auth"].error(
        fmt::format("client_auth: {} needs ca_file, the CAs that client certificates must chain "
                    "to",
                    tlsClientAuthName(s.client_auth)));
  }
  return s;
}

std::string describeTls(const TlsSettings& s) {
  std::string out = fmt::format("TLS 1.2+, certificate {}", s.cert_file);
  if (s.key_file != s.cert_file) {
    out += fmt::format(", key {}", s.key_file);
  }
  out += fmt::format("; client certificates: {}", tlsClientAuthName(s.client_auth));
  if (!s.ca_file.empty()) {
    out += fmt::format(" (CA {})", s.ca_file);
  }
  return out;
}

Result<std::shared_ptr<TlsServerContext>> TlsServerContext::create(const TlsSettings& settings,
                                                                   std::string* failed_key) {
  ERR_clear_error();
  auto at = [failed_key](const char* key) {
    if (failed_key != nullptr) {
      *failed_key = key;
    }
  };
  std::shared_ptr<TlsServerContext> c(new TlsServerContext());
  c->ctx_ = SSL_CTX_new(TLS_server_method());
  if (c->ctx_ == nullptr) {
    return Error{ErrorCode::kInternal, "cannot create a TLS context: " + sslReason()};
  }
  SSL_CTX* ctx = c->ctx_;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // No renegotiation (a client could make the server redo handshakes at will) and no
  // compression (CRIME).
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_default_passwd_cb(ctx, noPassphrase);
  // An idle connection holds no record buffers (~34 KiB each otherwise): 1,000 idle TLS
  // clients cost a few MiB, not 30.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(ctx, settings.cert_file.c_str()) != 1) {
    at("cert_file");
    return Error{ErrorCode::kInvalidArgument, fmt::format("cannot load the certificate {}: {}",
                                                          settings.cert_file, sslReason())};
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, settings.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const std::string reason = sslReason();
    at("key_file");
    if (reason.find("mismatch") != std::string::npos) {
      return Error{ErrorCode::kInvalidArgument,
                   fmt::format("the private key {} does not belong to the certificate {}",
                               settings.key_file, settings.cert_file)};
    }
    return Error{ErrorCode::kInvalidArgument,
                 fmt::format("cannot load the private key {} (PEM, not encrypted): {}",
                             settings.key_file, reason)};
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    at("key_file");
    return Error{ErrorCode::kInvalidArgument,
                 fmt::format("the private key {} does not belong to the certificate {}",
                             settings.key_file, settings.cert_file)};
  }
  if (!settings.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, settings.ca_file.c_str(), nullptr) != 1) {
      at("ca_file");
      return Error{ErrorCode::kInvalidArgument,
                   fmt::format("cannot load the CA file {}: {}", settings.ca_file, sslReason())};
    }
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(settings.ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
    }
    ERR_clear_error();
  }
  int mode = SSL_VERIFY_NONE;
  if (settings.client_auth == TlsClientAuth::kOptional) {
    mode = SSL_VERIFY_PEER;
  } else if (settings.client_auth == TlsClientAuth::kRequired) {
    mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  }
  SSL_CTX_set_verify(ctx, mode, nullptr);
  // Sessions resumed by a client that was verified stay valid across connections.
  static constexpr unsigned char kSessionContext[] = "ingestd";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  if (X509* cert = SSL_CTX_get0_certificate(ctx)) {
    c->summary_ = fmt::format("{}, expires {}", nameText(X509_get_subject_name(cert)),
                              timeText(X509_get0_notAfter(cert)));
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
      c->summary_ += " (expired: clients that verify it will refuse the connection)";
    }
  }
  return c;
}

TlsServerContext::~TlsServerContext() { SSL_CTX_free(ctx_); }

TlsSession::TlsSession(std::shared_ptr<TlsServerContext> context) : context_(std::move(context)) {
  ssl_ = SSL_new(context_->native());
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || in_ == nullptr || out_ == nullptr) {
    BIO_free(in_);
    BIO_free(out_);
    in_ = out_ = nullptr;
    failed_ = true;
    return;
  }
  // An empty memory BIO reports "retry", not end of file: more ciphertext may come.
  BIO_set_mem_eof_return(in_, -1);
  SSL_set_bio(ssl_, in_, out_);
  SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

void TlsSession::drainOutput(std::string& to_peer) {
  char* data = nullptr;
  long n = BIO_get_mem_data(out_, &data);
  if (n > 0 && data != nullptr) {
    to_peer.append(data, static_cast<std::size_t>(n));
  }
  (void)BIO_reset(out_);
}

Status TlsSession::feed(std::string_view ciphertext,
                        const std::function<void(std::string_view)>& on_plaintext,
                        std::string& to_peer) {
  if (failed_) {
    return Error{ErrorCode::kNetwork, "the TLS session has failed"};
  }
  ERR_clear_error();
  while (!ciphertext.empty()) {
    std::size_t written = 0;
    if (BIO_write_ex(in_, ciphertext.data(), ciphertext.size(), &written) != 1 || written == 0) {
      failed_ = true;
      return Error{ErrorCode::kNetwork, "TLS: cannot buffer the peer's bytes: " + sslReason()};
    }
    ciphertext.remove_prefix(written);
  }
  std::array<char, 16384> buf;  // one TLS record's plaintext at most
  while (!peer_closed_) {
    std::size_t n = 0;
    const int ok = SSL_read_ex(ssl_, buf.data(), buf.size(), &n);
    if (!handshake_done_ && SSL_is_init_finished(ssl_) == 1) {
      handshake_done_ = true;
    }
    if (ok == 1) {
      on_plaintext(std::string_view(buf.data(), n));
      continue;
    }
    const int err = SSL_get_error(ssl_, ok);
    if (err == SSL_ERROR_WANT_READ) {
      break;
    }
    if (err == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      break;
    }
    failed_ = true;
    drainOutput(to_peer);  // the alert that tells the peer why
    std::string reason = sslReason();
    if (!handshake_done_) {
      const long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        reason += fmt::format(" (client certificate: {})", X509_verify_cert_error_string(verify));
      }
    }
    return Error{ErrorCode::kNetwork,
                 fmt::format("TLS {}: {}", handshake_done_ ? "error" : "handshake failed", reason)};
  }
  drainOutput(to_peer);
  // A memory BIO keeps the buffer of its largest write (a 64 KiB read) for good: once all of it
  // was decrypted, a fresh one goes in, so an idle connection does not hold it.
  BUF_MEM* held = nullptr;
  if (BIO_ctrl_pending(in_) == 0 && BIO_get_mem_ptr(in_, &held) == 1 && held != nullptr &&
      held->max > (16u << 10)) {
    if (BIO* fresh = BIO_new(BIO_s_mem())) {
      BIO_set_mem_eof_return(fresh, -1);
      SSL_set0_rbio(ssl_, fresh);  // frees the old one
      in_ = fresh;
    }
  }
  return Status::ok();
}

std::string TlsSession::describe() const {
  if (ssl_ == nullptr || !handshake_done_) {
    return "handshake not done";
  }
  std::string out = fmt::format("{} {}", SSL_get_version(ssl_), SSL_get_cipher_name(ssl_));
  if (X509* peer = SSL_get0_peer_certificate(ssl_)) {
    out += ", client " + nameText(X509_get_subject_name(peer));
  }
  return out;
}

}  // namespace ingestd::inputs
