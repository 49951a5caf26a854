// libFuzzer harness: TlsSession (plugins/common/tls_server.h), the server side of a TLS
// listener fed with whatever a client sends. The first byte chooses how the bytes are cut into
// reads and whether client certificates are required; the rest is the "ciphertext" (the seeds are
// real ClientHellos, so handshakes get far). Invariants: no crash or leak, no plaintext before
// the handshake is done, and once feed() failed it keeps failing without producing anything.
#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "plugins/common/tls_server.h"
#include "tests/support/tls_test.h"

namespace {

using ingestd::inputs::TlsClientAuth;
using ingestd::inputs::TlsServerContext;
using ingestd::inputs::TlsSession;
using ingestd::inputs::TlsSettings;

void check(bool ok, const char* what, int line) {
  if (!ok) {
    std::fprintf(stderr, "tls session invariant failed: %s (line %d)\n", what, line);
    std::abort();
  }
}
#define CHECK(c) check((c), #c, __LINE__)

std::shared_ptr<TlsServerContext> context(bool require_client) {
  static const ingestd::test::TestCertFiles certs = [] {
    auto dir =
        std::filesystem::temp_directory_path() / ("ingestd-fuzz-tls-" + std::to_string(::getpid()));
    return ingestd::test::makeTestCerts(dir.string());
  }();
  auto make = [&](TlsClientAuth auth) {
    TlsSettings s{certs.server_cert, certs.server_key, certs.ca, auth};
    auto c = TlsServerContext::create(s);
    CHECK(c.isOk());
    return c.value();
  };
  static const auto none = make(TlsClientAuth::kNone);
  static const auto required = make(TlsClientAuth::kRequired);
  return require_client ? required : none;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  const std::uint8_t mode = data[0];
  std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  TlsSession session(context((mode & 0x80) != 0));
  const std::size_t piece = (mode & 0x7f) == 0 ? bytes.size() + 1 : (mode & 0x7f);
  bool failed = false;
  std::string plain;
  for (std::size_t off = 0; off < bytes.size(); off += piece) {
    std::string to_peer;
    std::size_t got = 0;
    auto st = session.feed(
        bytes.substr(off, piece),
        [&](std::string_view p) {
          CHECK(session.handshakeDone());
          got += p.size();
        },
        to_peer);
    if (failed) {
      CHECK(!st.isOk());
      CHECK(got == 0);
    }
    if (!st.isOk()) {
      failed = true;
    }
  }
  (void)session.describe();
  return 0;
}
