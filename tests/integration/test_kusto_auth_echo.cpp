// Integration tests of secret scrubbing in the kusto output's auth path, on a real loop against
// a hostile token endpoint and cluster that echo the whole request (line, headers, form body
// with client_secret=..., Authorization header) back in their error messages. The secret and
// the token must appear nowhere: not in the log, not in errors handed to the pipeline.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <optional>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "agent/http/http_client.h"
#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "plugins/outputs/kusto/kusto_auth.h"
#include "plugins/outputs/kusto/kusto_output.h"
#include "tests/integration/fake_http_server.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
using ingestd::fakehttp::FakeHttpServer;
using ingestd::fakehttp::Reply;
using ingestd::fakehttp::Request;
using ingestd::fakehttp::runUntil;

namespace {

// The secret has characters that the form encoding changes (space, '/', '+', '"', '&') so that
// the echo holds an encoded form of it, not the text as configured.
constexpr const char* kSecret = "Sup3r/Secr3t+Value with \"quotes\" & more";
constexpr const char* kSecretEncoded = "Sup3r%2FSecr3t%2BValue%20with%20%22quotes%22%20%26%20more";

// Everything the request carried, as a proxy or a hostile endpoint might echo it.
std::string echoOf(const Request& req) {
  std::string out = req.method + " " + req.target + " ";
  for (const auto& [name, value] : req.headers) {
    out.append(name).append(": ").append(value).append("; ");
  }
  return out + "body: " + req.body;
}

// A temp file closed last: the logger below, whose writer thread writes to it until the
// logger is destroyed, is declared after it and so destroyed before it.
struct TempFile {
  std::FILE* file = std::tmpfile();
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { std::fclose(file); }
};

// A logger that writes to a temp file the test reads back.
struct CapturedLog {
  TempFile tmp;
  std::FILE* file = tmp.file;
  ingestd::Logger log{ingestd::LogLevel::kDebug, ingestd::Logger::Format::kText, file};
  // Everything logged so far: the writer thread is waited for first.
  std::string text() {
    log.flush();
    std::fflush(file);
    std::string out;
    std::rewind(file);
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) {
      out.append(buf, n);
    }
    std::fseek(file, 0, SEEK_END);
    return out;
  }
};

// Time the test moves by hand: the provider's 30 s wait for a token passes at once.
class ManualClock final : public ingestd::Clock {
 public:
  Monotonic now() const override { return std::chrono::steady_clock::now() + offset; }
  Wall wallNow() const override { return std::chrono::system_clock::now() + offset; }
  std::chrono::seconds offset{0};
};

void checkNoSecret(const std::string& text) {
  CAPTURE(text);
  CHECK(text.find("Sup3r") == std::string::npos);
  CHECK(text.find("Secr3t") == std::string::npos);
  CHECK(text.find(kSecretEncoded) == std::string::npos);
}

}  // namespace

TEST_CASE(
    "kusto auth: a token endpoint echoing the request never gets the secret into logs or "
    "errors") {
  std::atomic<int> token_requests{0};
  FakeHttpServer server([&](const Request& req) {
    ++token_requests;
    Reply r;
    r.status = 401;
    // Echoed as sent (form-encoded) and decoded, as a proxy that pretty-prints might.
    nlohmann::json body = {
        {"error", "invalid_client"},
        {"error_description", "AADSTS7000215: Invalid client secret provided. Request was: " +
                                  echoOf(req) + " (client_secret=" + kSecret + ")"},
    };
    r.body = body.dump();
    return r;
  });

  ingestd::Loop::markLoopThread();
  ingestd::Loop loop;
  CapturedLog captured;
  ManualClock clock;
  ingestd::Metrics metrics;
  ingestd::OutputMetrics output_metrics = metrics.forOutput("adx", "T");
  std::optional<ingestd::Result<std::string>> first;
  {
    ingestd::CurlHttpClient http(loop, captured.log, ingestd::HttpClientOptions{});
    ingestd::outputs::kusto::AuthSettings auth;
    auth.method = "client_secret";
    auth.tenant_id = "tenant-1";
    auth.client_id = "cid";
    auth.client_secret.value = kSecret;
    auth.authority_host = server.url();
    auth.scope = "https://c.kusto.windows.net/.default";
    auto provider = ingestd::outputs::kusto::makeTokenProvider(
        auth, ingestd::outputs::kusto::AuthEnv{loop, captured.log, clock, http, "output kusto/adx",
                                               &output_metrics});
    provider->start();
    REQUIRE(runUntil(
        loop, [&] { return output_metrics.tokenRefresh("error").Value() >= 1; }, 10s));
    // The server really received the secret, and echoed it.
    REQUIRE(server.requestCount() >= 1);
    CHECK(server.requests().at(0).body.find(kSecretEncoded) != std::string::npos);

    // A send that waits for a token past kTokenWaitTimeout gets the last error.
    provider->get([&](ingestd::Result<std::string> r) { first = std::move(r); });
    clock.offset = ingestd::outputs::kusto::kTokenWaitTimeout + 1s;
    provider->get([](const ingestd::Result<std::string>&) {});
    REQUIRE(runUntil(
        loop, [&] { return first.has_value(); }, 10s));
    provider->stop();
    bool closed = false;
    http.close([&] { closed = true; });
    REQUIRE(runUntil(
        loop, [&] { return closed; }, 5s));
  }
  CHECK(loop.shutdown() == 0);

  REQUIRE_FALSE(first->isOk());
  const std::string error = first->error().message;
  CHECK(error.find("invalid_client") != std::string::npos);  // the useful part is still there
  checkNoSecret(error);
  const std::string log = captured.text();
  CHECK(log.find("Cannot get an access token") != std::string::npos);
  CHECK(log.find("***") != std::string::npos);
  checkNoSecret(log);
}

TEST_CASE("kusto output: a cluster echoing the Authorization header does not leak the token") {
  constexpr const char* kToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.c2VjcmV0LXRva2Vu.sig";
  FakeHttpServer server([&](const Request& req) {
    Reply r;
    if (!req.target.starts_with("/v1/rest/ingest/")) {
      r.body = nlohmann::json{{"expires_in", 3600}, {"access_token", kToken}}.dump();
      return r;
    }
    r.status = 401;
    // The gzip body is not UTF-8: replaced, so that the rest of the echo stays readable.
    r.body = nlohmann::json{{"error",
                             {{"code", "Unauthorized"},
                              {"message", "Bad credentials: " + echoOf(req)},
                              {"@permanent", false}}}}
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
  });

  ingestd::Loop::markLoopThread();
  ingestd::Loop loop;
  ingestd::WorkerPool workers{loop, 1};
  ingestd::SystemClock clock;
  CapturedLog captured;
  ingestd::Metrics metrics;
  ingestd::OutputMetrics output_metrics = metrics.forOutput("adx", "T");
  ingestd::PluginContext ctx{"kusto/adx",  "adx",  loop,    workers, clock,
                             captured.log, "/tmp", "host1", nullptr, &output_metrics};
  ingestd::ConfigNode node(
      YAML::Load("name: adx\ntype: kusto\ncluster: " + server.url() +
                 "\ndatabase: Logs\ntable: T\nmapping: t_json\nauth:\n  method: client_secret\n"
                 "  tenant_id: t\n  client_id: c\n  client_secret: some-client-secret\n"
                 "  authority_host: " +
                 server.url() + "\n"),
      std::make_shared<const std::string>("t.yaml"), "outputs[0]");
  auto settings = ingestd::outputs::KustoOutput::parse(node);
  REQUIRE_MESSAGE(settings.isOk(), settings.error().message);
  auto created = ingestd::outputs::KustoOutput::create(settings.value(), ctx);
  REQUIRE(created.isOk());
  auto output = std::move(created).value();
  REQUIRE(output->start().isOk());

  ingestd::Payload p;
  p.block_id = "blk";
  p.body = std::make_shared<const std::string>(ingestd::test::gzipCompress("{}", 1));
  p.raw_bytes = 2;
  p.records = 1;
  std::optional<ingestd::SendOutcome> out;
  output->send(std::move(p), [&](ingestd::SendOutcome o) { out = std::move(o); });
  // One 401, a refresh (at least kMinRefreshInterval later) and a second 401.
  REQUIRE(runUntil(
      loop, [&] { return out.has_value(); }, 20s));
  CHECK(out->http_status == 401);
  CAPTURE(out->message);
  CHECK(out->message.find("Bad credentials") != std::string::npos);
  CHECK(out->message.find("c2VjcmV0LXRva2Vu") == std::string::npos);
  CHECK(captured.text().find("c2VjcmV0LXRva2Vu") == std::string::npos);
  bool stopped = false;
  output->stop([&] { stopped = true; });
  REQUIRE(runUntil(
      loop, [&] { return stopped; }, 5s));
  output.reset();
  CHECK(loop.shutdown() == 0);
}
