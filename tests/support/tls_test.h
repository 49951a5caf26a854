// TLS for tests: a throw-away PKI made in process (OpenSSL, EC P-256: a CA, a server certificate
// for localhost / 127.0.0.1 / ::1, a client certificate, and a second "rogue" CA with its own
// client certificate) and a blocking TLS client over a loopback TCP socket. Header-only, so unit
// tests (which cannot link tests/support) may use it too.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace ingestd::test {

struct TestCertFiles {
  std::string ca;           // the CA's certificate
  std::string server_cert;  // signed by the CA: CN=localhost, SAN localhost, 127.0.0.1, ::1
  std::string server_key;
  std::string server_pem;   // certificate and key in one file
  std::string client_cert;  // signed by the CA: CN=test-client
  std::string client_key;
  std::string rogue_ca;    // another CA, which the server does not trust
  std::string rogue_cert;  // signed by the rogue CA: CN=rogue-client
  std::string rogue_key;
  std::string expired_cert;   // signed by the CA, expired a day ago (key: server_key)
  std::string encrypted_key;  // server_key encrypted with a passphrase
};

namespace tls_detail {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

inline Key newKey() {
  Key k(EVP_EC_gen("P-256"));
  if (!k) {
    throw std::runtime_error("EVP_EC_gen failed");
  }
  return k;
}

inline void addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) {
    throw std::runtime_error("X509V3_EXT_conf_nid failed");
  }
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `key` named `cn`, signed by issuer/issuer_key (itself when null).
inline Cert newCert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
                    bool ca, const char* san, long not_before_s, long not_after_s, long serial) {
  Cert c(X509_new());
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), not_before_s);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), not_after_s);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* iss = issuer != nullptr ? issuer : c.get();
  X509_set_issuer_name(c.get(), X509_get_subject_name(iss));
  addExt(c.get(), iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  if (ca) {
    addExt(c.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    addExt(c.get(), iss, NID_key_usage, "critical,digitalSignature");
    addExt(c.get(), iss, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  if (san != nullptr) {
    addExt(c.get(), iss, NID_subject_alt_name, san);
  }
  addExt(c.get(), iss, NID_subject_key_identifier, "hash");
  if (X509_sign(c.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    throw std::runtime_error("X509_sign failed");
  }
  return c;
}

inline void writeCert(const std::string& path, X509* cert, bool append = false) {
  FILE* f = std::fopen(path.c_str(), append ? "a" : "w");
  PEM_write_X509(f, cert);
  std::fclose(f);
}

inline void writeKey(const std::string& path, EVP_PKEY* key, bool append = false,
                     const char* passphrase = nullptr) {
  FILE* f = std::fopen(path.c_str(), append ? "a" : "w");
  if (passphrase != nullptr) {
    PEM_write_PrivateKey(f, key, EVP_aes_256_cbc(), nullptr, 0, nullptr,
                         const_cast<char*>(passphrase));
  } else {
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  }
  std::fclose(f);
}

}  // namespace tls_detail

// Writes the test PKI into `dir` (created when missing).
inline TestCertFiles makeTestCerts(const std::string& dir) {
  using namespace tls_detail;
  std::filesystem::create_directories(dir);
  TestCertFiles f{dir + "/ca.pem",       dir + "/server.crt",          dir + "/server.key",
                  dir + "/server.pem",   dir + "/client.crt",          dir + "/client.key",
                  dir + "/rogue-ca.pem", dir + "/rogue.crt",           dir + "/rogue.key",
                  dir + "/expired.crt",  dir + "/server-encrypted.key"};
  const long day = 86400;
  Key ca_key = newKey();
  Cert ca =
      newCert(ca_key.get(), "ingestd test CA", nullptr, nullptr, true, nullptr, -day, 30 * day, 1);
  Key server_key = newKey();
  Cert server = newCert(server_key.get(), "localhost", ca.get(), ca_key.get(), false,
                        "DNS:localhost,IP:127.0.0.1,IP:::1", -day, 30 * day, 2);
  Key client_key = newKey();
  Cert client = newCert(client_key.get(), "test-client", ca.get(), ca_key.get(), false, nullptr,
                        -day, 30 * day, 3);
  Key rogue_ca_key = newKey();
  Cert rogue_ca =
      newCert(rogue_ca_key.get(), "rogue CA", nullptr, nullptr, true, nullptr, -day, 30 * day, 4);
  Key rogue_key = newKey();
  Cert rogue = newCert(rogue_key.get(), "rogue-client", rogue_ca.get(), rogue_ca_key.get(), false,
                       nullptr, -day, 30 * day, 5);
  Cert expired = newCert(server_key.get(), "localhost", ca.get(), ca_key.get(), false,
                         "DNS:localhost,IP:127.0.0.1", -30 * day, -day, 6);
  writeCert(f.ca, ca.get());
  writeCert(f.server_cert, server.get());
  writeKey(f.server_key, server_key.get());
  writeCert(f.server_pem, server.get());
  writeKey(f.server_pem, server_key.get(), true);
  writeCert(f.client_cert, client.get());
  writeKey(f.client_key, client_key.get());
  writeCert(f.rogue_ca, rogue_ca.get());
  writeCert(f.rogue_cert, rogue.get());
  writeKey(f.rogue_key, rogue_key.get());
  writeCert(f.expired_cert, expired.get());
  writeKey(f.encrypted_key, server_key.get(), false, "secret-passphrase");
  return f;
}

// A client SSL_CTX: verifies the server against `ca` when given; presents cert/key when given.
// max_version 0 = no cap (TLS1_1_VERSION makes an old client, with security level 0 so that
// OpenSSL lets it offer that version at all).
inline SSL_CTX* newClientContext(const std::string& ca, const std::string& cert = {},
                                 const std::string& key = {}, int max_version = 0) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ca.empty()) {
    SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  if (!cert.empty()) {
    SSL_CTX_use_certificate_chain_file(ctx, cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
  }
  if (max_version != 0) {
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_min_proto_version(ctx, 0);
    SSL_CTX_set_max_proto_version(ctx, max_version);
  }
  return ctx;
}

// A blocking TLS client on 127.0.0.1:port (10 s timeouts on every read and write).
class TlsTestClient {
 public:
  TlsTestClient(int port, SSL_CTX* ctx) : ctx_(ctx) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      error_ = "connect failed";
      return;
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    SSL_set1_host(ssl_, "localhost");
    if (SSL_connect(ssl_) != 1) {
      error_ = lastError();
      return;
    }
    connected_ = true;
  }
  ~TlsTestClient() {
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
    }
    if (fd_ >= 0) {
      ::close(fd_);
    }
    SSL_CTX_free(ctx_);
  }
  TlsTestClient(const TlsTestClient&) = delete;
  TlsTestClient& operator=(const TlsTestClient&) = delete;

  // The handshake completed (TLS 1.3: the server may still reject a client certificate after
  // this; send() or readUntilClosed() then fails).
  bool connected() const { return connected_; }
  const std::string& error() const { return error_; }
  std::string version() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

  bool send(const std::string& data) {
    if (!connected_) {
      error_ = "not connected: " + error_;
    }
    std::size_t off = 0;
    while (connected_ && off < data.size()) {
      std::size_t n = 0;
      if (SSL_write_ex(ssl_, data.data() + off, data.size() - off, &n) != 1) {
        error_ = lastError();
        return false;
      }
      off += n;
    }
    return connected_;
  }
  // Sends close_notify and waits (up to the read timeout) for the server to close: what was
  // sent has then been read by the server.
  bool closeAndWait() {
    if (!connected_) {
      return false;
    }
    SSL_shutdown(ssl_);
    ::shutdown(fd_, SHUT_WR);
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) {
        return true;
      }
      if (n < 0) {
        error_ = std::string("recv after close_notify: ") + std::strerror(errno);
        return false;
      }
    }
  }
  // Reads until the server closes or fails; true when the server closed with an error alert or
  // reset (for tests of rejected clients).
  bool rejectedByServer() {
    char buf[256];
    std::size_t n = 0;
    int r = SSL_read_ex(ssl_, buf, sizeof buf, &n);
    if (r == 1) {
      return false;
    }
    const int err = SSL_get_error(ssl_, r);
    error_ = lastError();
    return err == SSL_ERROR_SSL || err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN;
  }

 private:
  static std::string lastError() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
  }
  SSL_CTX* ctx_;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool connected_ = false;
  std::string error_;
};

}  // namespace ingestd::test
