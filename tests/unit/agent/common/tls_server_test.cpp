// Unit tests of TlsServerContext and TlsSession: a client SSL on memory BIOs talks to the
// server session in process (no sockets). Handshakes with and without client certificates, data
// cut into 1-byte reads, close_notify, every way a handshake fails, and the config reader.
#include <doctest/doctest.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "plugins/common/tls_server.h"
#include "tests/support/tls_test.h"

namespace ingestd::inputs {
namespace {

using test::TestCertFiles;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// One PKI for the whole file (key generation is the slow part).
const TestCertFiles& certs() {
  static const TestCertFiles files = [] {
    auto dir =
        std::filesystem::temp_directory_path() / ("ingestd-tls-unit-" + std::to_string(::getpid()));
    return test::makeTestCerts(dir.string());
  }();
  // Removed when the test process exits.
  static const struct Cleanup {
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::path(files.ca).parent_path(), ec);
    }
  } cleanup;
  return files;
}

std::shared_ptr<TlsServerContext> server(TlsClientAuth auth = TlsClientAuth::kNone,
                                         const std::string& ca = {}) {
  TlsSettings s;
  s.cert_file = certs().server_cert;
  s.key_file = certs().server_key;
  s.ca_file = ca.empty() && auth != TlsClientAuth::kNone ? certs().ca : ca;
  s.client_auth = auth;
  auto c = TlsServerContext::create(s);
  REQUIRE_MESSAGE(c.isOk(), c.error().message);
  return c.value();
}

// A client SSL on memory BIOs, pumped against a TlsSession.
struct MemClient {
  SSL_CTX* ctx;
  SSL* ssl;
  BIO* in;   // from the server
  BIO* out;  // to the server
  explicit MemClient(SSL_CTX* c) : ctx(c), ssl(SSL_new(c)) {
    in = BIO_new(BIO_s_mem());
    out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in, -1);
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
    SSL_set_tlsext_host_name(ssl, "localhost");
  }
  ~MemClient() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
  std::string takeOutput() {
    char* data = nullptr;
    long n = BIO_get_mem_data(out, &data);
    std::string s(data, static_cast<std::size_t>(n > 0 ? n : 0));
    (void)BIO_reset(out);
    return s;
  }
  void give(const std::string& bytes) {
    if (!bytes.empty()) {
      BIO_write(in, bytes.data(), static_cast<int>(bytes.size()));
    }
  }
};

// Runs the handshake (client steps, server feeds, `piece` bytes per feed); returns the server's
// status; plaintext goes to `plain`.
struct Pump {
  TlsSession& server;
  MemClient& client;
  std::string plain;
  std::size_t piece = 1u << 20;
  Status last;

  // Moves the client's pending output to the server and the server's answer back.
  bool step() {
    std::string c2s = client.takeOutput();
    std::string s2c;
    for (std::size_t off = 0; off < c2s.size() && last.isOk(); off += piece) {
      last = server.feed(
          std::string_view(c2s).substr(off, piece), [&](std::string_view p) { plain.append(p); },
          s2c);
    }
    client.give(s2c);
    return !c2s.empty() || !s2c.empty();
  }
  // True when the client finished its handshake and the server did not fail.
  bool handshake() {
    for (int i = 0; i < 20 && last.isOk(); ++i) {
      // SSL_get_error() reads this thread's OpenSSL error queue: whatever an earlier test on
      // this thread left there would turn a "want read" into a failure.
      ERR_clear_error();
      const int r = SSL_do_handshake(client.ssl);
      const int err = r == 1 ? SSL_ERROR_NONE : SSL_get_error(client.ssl, r);
      step();
      if (r == 1) {
        // TLS 1.3: the server's verdict on a client certificate comes after the client's
        // Finished; one more round delivers it.
        step();
        SSL_read_ex(client.ssl, nullptr, 0, nullptr);
        return last.isOk();
      }
      if (err != SSL_ERROR_WANT_READ) {
        MESSAGE("client handshake failed: "
                << std::string(ERR_error_string(ERR_get_error(), nullptr))
                << "; server: " << last.message());
        return false;
      }
    }
    MESSAGE("handshake did not finish; server: " << last.message());
    return false;
  }
  bool send(const std::string& data) {
    ERR_clear_error();
    std::size_t n = 0;
    if (SSL_write_ex(client.ssl, data.data(), data.size(), &n) != 1 || n != data.size()) {
      return false;
    }
    step();
    return last.isOk();
  }
};

}  // namespace

TEST_CASE("tls: handshake and data, also with the ciphertext cut into 1-byte reads") {
  for (std::size_t piece : {std::size_t{1} << 20, std::size_t{1}}) {
    CAPTURE(piece);
    TlsSession s(server());
    MemClient c(test::newClientContext(certs().ca));
    Pump p{s, c};
    p.piece = piece;
    REQUIRE(p.handshake());
    CHECK(s.handshakeDone());
    CHECK(SSL_get_verify_result(c.ssl) == X509_V_OK);  // the client trusts the server's chain
    std::string data;
    for (int i = 0; i < (piece == 1 ? 300 : 5000); ++i) {
      data += "seq=" + std::to_string(i) + " a line sent over TLS\n";
    }
    REQUIRE(p.send(data));
    CHECK(p.plain == data);
    CHECK(contains(s.describe(), "TLSv1.3"));
    CHECK_FALSE(s.peerClosed());
    SSL_shutdown(c.ssl);  // close_notify
    p.step();
    CHECK(p.last.isOk());
    CHECK(s.peerClosed());
  }
}

TEST_CASE("tls: TLS 1.2 is accepted, TLS 1.1 is refused") {
  {
    TlsSession s(server());
    MemClient c(test::newClientContext(certs().ca, {}, {}, TLS1_2_VERSION));
    Pump p{s, c};
    REQUIRE(p.handshake());
    CHECK(contains(s.describe(), "TLSv1.2"));
    REQUIRE(p.send("over tls 1.2\n"));
    CHECK(p.plain == "over tls 1.2\n");
  }
  {
    TlsSession s(server());
    MemClient c(test::newClientContext(certs().ca, {}, {}, TLS1_1_VERSION));
    Pump p{s, c};
    CHECK_FALSE(p.handshake());
    REQUIRE_FALSE(p.last.isOk());
    CHECK(contains(p.last.message(), "handshake failed"));
    CHECK(contains(p.last.message(), "unsupported protocol"));
    CHECK_FALSE(s.handshakeDone());
  }
}

TEST_CASE("tls: client_auth required takes a certificate of the CA, refuses none and others") {
  {
    TlsSession s(server(TlsClientAuth::kRequired));
    MemClient c(test::newClientContext(certs().ca, certs().client_cert, certs().client_key));
    Pump p{s, c};
    REQUIRE(p.handshake());
    REQUIRE(p.send("from a known client\n"));
    CHECK(p.plain == "from a known client\n");
    CHECK(contains(s.describe(), "CN=test-client"));
  }
  {
    TlsSession s(server(TlsClientAuth::kRequired));
    MemClient c(test::newClientContext(certs().ca));
    Pump p{s, c};
    p.handshake();
    p.send("nobody\n");
    REQUIRE_FALSE(p.last.isOk());
    CHECK(contains(p.last.message(), "certificate"));
    CHECK(p.plain.empty());
  }
  {
    TlsSession s(server(TlsClientAuth::kRequired));
    MemClient c(test::newClientContext(certs().ca, certs().rogue_cert, certs().rogue_key));
    Pump p{s, c};
    p.handshake();
    p.send("rogue\n");
    REQUIRE_FALSE(p.last.isOk());
    CHECK(contains(p.last.message(), "client certificate"));
    CHECK(p.plain.empty());
  }
}

TEST_CASE("tls: client_auth optional takes clients without a certificate, not a bad one") {
  {
    TlsSession s(server(TlsClientAuth::kOptional));
    MemClient c(test::newClientContext(certs().ca));
    Pump p{s, c};
    REQUIRE(p.handshake());
    REQUIRE(p.send("anonymous\n"));
    CHECK(p.plain == "anonymous\n");
  }
  {
    TlsSession s(server(TlsClientAuth::kOptional));
    MemClient c(test::newClientContext(certs().ca, certs().rogue_cert, certs().rogue_key));
    Pump p{s, c};
    p.handshake();
    p.send("rogue\n");
    CHECK_FALSE(p.last.isOk());
    CHECK(p.plain.empty());
  }
}

TEST_CASE("tls: bytes that are not TLS fail the session, which then stays failed") {
  TlsSession s(server());
  std::string to_peer;
  std::string plain;
  Status st = s.feed(
      "<13>1 2026-12-01T00:00:00Z host app - - - plain text\n",
      [&](std::string_view p) { plain.append(p); }, to_peer);
  REQUIRE_FALSE(st.isOk());
  CHECK(st.error().code == ErrorCode::kNetwork);
  CHECK(contains(st.message(), "handshake failed"));
  CHECK(plain.empty());
  CHECK_FALSE(s.feed(
                   "more", [&](std::string_view p) { plain.append(p); }, to_peer)
                  .isOk());
}

TEST_CASE("tls: a corrupt record after the handshake fails the session") {
  TlsSession s(server());
  MemClient c(test::newClientContext(certs().ca));
  Pump p{s, c};
  REQUIRE(p.handshake());
  std::size_t n = 0;
  REQUIRE(SSL_write_ex(c.ssl, "hello\n", 6, &n) == 1);
  std::string record = c.takeOutput();
  REQUIRE(record.size() > 10);
  record[record.size() - 3] ^= 0x55;  // the authentication tag no longer matches
  std::string to_peer;
  Status st = s.feed(
      record, [&](std::string_view q) { p.plain.append(q); }, to_peer);
  REQUIRE_FALSE(st.isOk());
  CHECK(contains(st.message(), "TLS error"));
  CHECK(p.plain.empty());
  CHECK_FALSE(to_peer.empty());  // the alert
}

TEST_CASE("tls: the context loads a combined PEM and reports what is wrong with bad files") {
  TlsSettings s;
  s.cert_file = certs().server_pem;
  s.key_file = certs().server_pem;
  auto ok = TlsServerContext::create(s);
  REQUIRE_MESSAGE(ok.isOk(), ok.error().message);
  CHECK(contains(ok.value()->summary(), "CN=localhost"));
  CHECK_FALSE(contains(ok.value()->summary(), "expired"));

  auto error = [](TlsSettings t) {
    auto r = TlsServerContext::create(t);
    REQUIRE_FALSE(r.isOk());
    return r.error().message;
  };
  TlsSettings missing{"/nonexistent/cert.pem", "/nonexistent/cert.pem", "", TlsClientAuth::kNone};
  CHECK(contains(error(missing), "cannot load the certificate /nonexistent/cert.pem"));

  TlsSettings mismatch{certs().server_cert, certs().client_key, "", TlsClientAuth::kNone};
  CHECK(contains(error(mismatch), "does not belong to the certificate"));

  // An encrypted key fails with a message instead of prompting for a passphrase.
  TlsSettings encrypted{certs().server_cert, certs().encrypted_key, "", TlsClientAuth::kNone};
  CHECK(contains(error(encrypted), "cannot load the private key"));

  const std::string garbage = certs().ca + ".garbage";
  std::ofstream(garbage) << "not a certificate\n";
  TlsSettings bad_ca{certs().server_cert, certs().server_key, garbage, TlsClientAuth::kRequired};
  CHECK(contains(error(bad_ca), "cannot load the CA file"));
  TlsSettings bad_cert{garbage, certs().server_key, "", TlsClientAuth::kNone};
  CHECK(contains(error(bad_cert), "cannot load the certificate"));

  TlsSettings expired{certs().expired_cert, certs().server_key, "", TlsClientAuth::kNone};
  auto exp = TlsServerContext::create(expired);
  REQUIRE(exp.isOk());
  CHECK(contains(exp.value()->summary(), "expired"));
}

TEST_CASE("tls config: keys, defaults and located errors") {
  auto parse = [](const std::string& yaml) {
    ConfigNode root(YAML::Load(yaml), std::make_shared<const std::string>("t.yaml"), "inputs[0]");
    return parseTlsSettings(root["tls"]);
  };
  auto ok = parse("tls: {cert_file: /etc/c.pem}\n");
  REQUIRE(ok.isOk());
  CHECK(ok->key_file == "/etc/c.pem");  // one file with both
  CHECK(ok->client_auth == TlsClientAuth::kNone);
  auto full = parse(
      "tls: {cert_file: /c.pem, key_file: /k.pem, ca_file: /ca.pem, client_auth: required}\n");
  REQUIRE(full.isOk());
  CHECK(full->key_file == "/k.pem");
  CHECK(full->client_auth == TlsClientAuth::kRequired);
  CHECK(describeTls(*full) ==
        "TLS 1.2+, certificate /c.pem, key /k.pem; client certificates: required (CA /ca.pem)");

  auto err = [&](const std::string& yaml) {
    auto r = parse(yaml);
    REQUIRE_FALSE(r.isOk());
    return r.error().message;
  };
  CHECK(contains(err("tls: {key_file: /k.pem}\n"), "needs cert_file"));
  CHECK(contains(err("tls: {cert_file: /c.pem, client_auth: required}\n"), "needs ca_file"));
  CHECK(contains(err("tls: {cert_file: /c.pem, client_auth: maybe}\n"), "client_auth"));
  CHECK(contains(err("tls: {cert_file: /c.pem, cert_fil: /x}\n"), "cert_fil"));
  CHECK(contains(err("tls: on\n"), "expected a mapping"));
  CHECK(contains(err("tls: {cert_file: /c.pem, client_auth: required}\n"), "t.yaml:1:"));
}

}  // namespace ingestd::inputs
