// Integration tests of the kusto output on a real loop against a scripted local server standing
// in for the cluster and the Entra ID token endpoint: the exact request (line, headers, gzip
// body), outcomes for 200/429/400/dropped connections, client_secret tokens with a 401 that
// forces one refresh and one retry, token files, and stop() with a send in flight.
#include <doctest/doctest.h>

#include <fstream>
#include <optional>

#include <yaml-cpp/yaml.h>

#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "plugins/outputs/kusto/kusto_output.h"
#include "tests/integration/fake_http_server.h"
#include "tests/support/http_client.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
using ingestd::fakehttp::FakeHttpServer;
using ingestd::fakehttp::Reply;
using ingestd::fakehttp::Request;
using ingestd::fakehttp::runUntil;
using ingestd::outputs::KustoOutput;

namespace {

struct Harness {
  ingestd::Loop loop;
  ingestd::WorkerPool workers{loop, 1};
  ingestd::SystemClock clock;
  ingestd::Logger log{ingestd::LogLevel::kError};
  ingestd::Metrics metrics;
  ingestd::OutputMetrics output_metrics = metrics.forOutput("adx", "T");
  ingestd::PluginContext ctx{"kusto/adx", "adx",  loop,    workers, clock,
                             log,         "/tmp", "host1", nullptr, &output_metrics};
  std::unique_ptr<ingestd::Output> output;

  explicit Harness(const std::string& yaml) {
    ingestd::Loop::markLoopThread();
    ingestd::ConfigNode node(YAML::Load(yaml), std::make_shared<const std::string>("t.yaml"),
                             "outputs[0]");
    auto settings = KustoOutput::parse(node);
    REQUIRE_MESSAGE(settings.isOk(), settings.error().message);
    auto created = KustoOutput::create(settings.value(), ctx);
    REQUIRE(created.isOk());
    output = std::move(created).value();
    REQUIRE(output->start().isOk());
  }

  std::optional<ingestd::SendOutcome> send(const std::string& raw, const std::string& block_id,
                                           std::uint32_t attempt = 0,
                                           std::chrono::milliseconds timeout = 10s) {
    ingestd::Payload p;
    p.block_id = block_id;
    p.attempt = attempt;
    p.body = std::make_shared<const std::string>(ingestd::test::gzipCompress(raw, 1));
    p.raw_bytes = raw.size();
    p.records = 1;
    std::optional<ingestd::SendOutcome> out;
    output->send(std::move(p), [&](ingestd::SendOutcome o) { out = std::move(o); });
    runUntil(
        loop, [&] { return out.has_value(); }, timeout);
    return out;
  }

  bool stopAll() {
    bool stopped = false;
    output->stop([&] { stopped = true; });
    runUntil(
        loop, [&] { return stopped; }, 5s);
    output.reset();
    return stopped && loop.shutdown() == 0;
  }
};

std::string config(const FakeHttpServer& server, const std::string& extra = "") {
  return "name: adx\ntype: kusto\ncluster: " + server.url() +
         "\ndatabase: Logs\ntable: T\nmapping: t_json\n" + extra;
}

bool isIngest(const Request& r) { return r.target.starts_with("/v1/rest/ingest/"); }

}  // namespace

TEST_CASE("kusto output: the request is exactly what the SDKs send, 200 is delivered") {
  FakeHttpServer server([](const Request&) {
    Reply r;
    r.body = R"({"Tables":[{"TableName":"Table_0","Columns":[],"Rows":[[1]]}]})";
    return r;
  });
  Harness h(config(server));
  const std::string raw = "{\"message\":\"hello\"}\n{\"message\":\"w\xC3\xB6rld\"}\n";
  auto out = h.send(raw, "blk-0001", 2);
  REQUIRE(out.has_value());
  CHECK(out->delivery == ingestd::Delivery::kDelivered);
  CHECK(out->http_status == 200);

  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  const Request& r = reqs[0];
  CHECK(r.method == "POST");
  CHECK(r.target == "/v1/rest/ingest/Logs/T?streamFormat=multijson&mappingName=t_json");
  CHECK(ingestd::test::gunzip(r.body) == raw);
  CHECK(r.headers.count("authorization") == 0);  // auth none
  CHECK(r.headers.at("content-encoding") == "gzip");
  CHECK(r.headers.at("content-type") == "application/octet-stream");
  CHECK(r.headers.at("accept") == "application/json");
  CHECK(r.headers.at("accept-encoding") == "gzip,deflate");
  CHECK(r.headers.at("connection") == "Keep-Alive");
  CHECK(r.headers.at("x-ms-version") == "2024-12-12");
  CHECK(r.headers.at("x-ms-client-request-id") == "ingestd.executeStreamingIngest;blk-0001;2");
  CHECK(r.headers.at("x-ms-client-version").starts_with("Kusto.ingestd:{"));
  CHECK(r.headers.at("x-ms-client-version").find("|Runtime.cpp:{") != std::string::npos);
  CHECK(r.headers.at("x-ms-app") == "ingestd");
  CHECK_FALSE(r.headers.at("x-ms-user").empty());
  CHECK(r.headers.count("expect") == 0);
  CHECK(r.headers.at("content-length") == std::to_string(r.body.size()));
  CHECK(h.output_metrics.requests(200).Value() == 1);
  CHECK(h.stopAll());
}

TEST_CASE("kusto output: 429 with Retry-After, permanent 400, dropped connection") {
  std::atomic<int> n{0};
  FakeHttpServer server([&](const Request&) {
    Reply r;
    switch (n++) {
      case 0:
        r.status = 429;
        r.headers = {{"Retry-After", "3"}};
        r.body = R"({"error":{"code":"Throttling","@permanent":false}})";
        break;
      case 1:
        r.status = 400;
        r.body = R"({"error":{"code":"BadRequest_MappingReferenceWasNotFound",)"
                 R"("@message":"Mapping reference 't_json' wasn't found.","@permanent":true}})";
        break;
      default: r.action = Reply::Action::kDropConnection; break;
    }
    return r;
  });
  Harness h(config(server));
  auto throttled = h.send("{}", "b1");
  REQUIRE(throttled.has_value());
  CHECK(throttled->delivery == ingestd::Delivery::kRetry);
  CHECK(throttled->http_status == 429);
  CHECK(throttled->error_code == "Throttling");
  REQUIRE(throttled->retry_after.has_value());
  CHECK(*throttled->retry_after == 3000ms);

  auto rejected = h.send("{}", "b2");
  REQUIRE(rejected.has_value());
  CHECK(rejected->delivery == ingestd::Delivery::kRejected);
  CHECK(rejected->error_code == "BadRequest_MappingReferenceWasNotFound");
  CHECK(rejected->message.starts_with("Ingestion mapping 't_json' was not found on table 'T'"));

  auto dropped = h.send("{}", "b3");
  REQUIRE(dropped.has_value());
  CHECK(dropped->delivery == ingestd::Delivery::kRetry);
  CHECK(dropped->http_status == 0);
  CHECK(dropped->error_code == "ConnectionDropped");
  CHECK(h.output_metrics.requests(429, "Throttling").Value() == 1);
  CHECK(h.output_metrics.requests(400, "BadRequest_MappingReferenceWasNotFound").Value() == 1);
  // No response: the transport error kind is the label, not a lump code="0".
  CHECK(h.output_metrics.requests(0, "ConnectionDropped").Value() == 1);
  CHECK(h.output_metrics.requests(0).Value() == 0);
  CHECK(h.stopAll());
}

TEST_CASE("kusto output: client_secret token, 401 forces one refresh and one retry") {
  std::atomic<int> tokens{0};
  FakeHttpServer server([&](const Request& req) {
    Reply r;
    if (req.target == "/tenant-1/oauth2/v2.0/token") {
      int n = ++tokens;
      r.body = "{\"token_type\":\"Bearer\",\"expires_in\":\"3599\",\"access_token\":\"tok-" +
               std::to_string(n) + "\"}";
      return r;
    }
    if (req.headers.count("authorization") == 0 ||
        req.headers.at("authorization") == "Bearer tok-1") {
      r.status = 401;
      return r;
    }
    return r;
  });
  Harness h(config(server,
                   "auth:\n  method: client_secret\n  tenant_id: tenant-1\n  client_id: cid\n"
                   "  client_secret: s3cr+t\n  authority_host: " +
                       server.url() + "\n"));
  REQUIRE(runUntil(
      h.loop, [&] { return h.output->ready(); }, 5s));
  auto out = h.send("{\"a\":1}", "blk-auth", 0);
  REQUIRE(out.has_value());
  CHECK(out->delivery == ingestd::Delivery::kDelivered);

  auto reqs = server.requests();
  std::vector<Request> token_reqs;
  std::vector<Request> ingest_reqs;
  for (const auto& r : reqs) {
    (isIngest(r) ? ingest_reqs : token_reqs).push_back(r);
  }
  REQUIRE(token_reqs.size() == 2);
  REQUIRE(ingest_reqs.size() == 2);
  CHECK(token_reqs[0].method == "POST");
  CHECK(token_reqs[0].headers.at("content-type") == "application/x-www-form-urlencoded");
  CHECK(token_reqs[0].body ==
        "grant_type=client_credentials&client_id=cid&client_secret=s3cr%2Bt&scope=http%3A%2F%2F"
        "127.0.0.1%2F.default");
  CHECK(ingest_reqs[0].headers.at("authorization") == "Bearer tok-1");
  CHECK(ingest_reqs[1].headers.at("authorization") == "Bearer tok-2");
  CHECK(ingest_reqs[0].headers.at("x-ms-client-request-id") ==
        ingest_reqs[1].headers.at("x-ms-client-request-id"));
  CHECK(h.output_metrics.tokenRefresh("ok").Value() == 2);
  CHECK(h.output_metrics.requests(401, "Unauthorized").Value() == 1);
  CHECK(h.output_metrics.requests(200).Value() == 1);
  CHECK(h.stopAll());
}

TEST_CASE("kusto output: a second 401 after the refresh is retried later, not looped") {
  std::atomic<int> tokens{0};
  FakeHttpServer server([&](const Request& req) {
    Reply r;
    if (!isIngest(req)) {
      r.body = "{\"expires_in\":3600,\"access_token\":\"t" + std::to_string(++tokens) + "\"}";
      return r;
    }
    r.status = 401;
    return r;
  });
  Harness h(config(server,
                   "auth:\n  method: client_secret\n  tenant_id: x\n  client_id: c\n"
                   "  client_secret: s\n  authority_host: " +
                       server.url() + "\n"));
  // kMinRefreshInterval (5 s) separates the first token from the forced refresh.
  auto out = h.send("{}", "b", 0, 20s);
  REQUIRE(out.has_value());
  CHECK(out->delivery == ingestd::Delivery::kRetry);
  CHECK(out->http_status == 401);
  CHECK(out->error_code == "Unauthorized");
  CHECK(out->message.find("rejected the credentials") != std::string::npos);
  CHECK(tokens.load() == 2);
  CHECK(h.stopAll());
}

TEST_CASE("kusto output: token_file provides the bearer token") {
  ingestd::test::TempDir dir;
  {
    std::ofstream f(dir.file("token"));
    f << "  file-token-1\n";
  }
  FakeHttpServer server([](const Request&) { return Reply{}; });
  Harness h(config(server, "auth:\n  method: token\n  token_file: " + dir.file("token") + "\n"));
  REQUIRE(runUntil(
      h.loop, [&] { return h.output->ready(); }, 5s));
  auto out = h.send("{}", "b");
  REQUIRE(out.has_value());
  CHECK(out->delivery == ingestd::Delivery::kDelivered);
  CHECK(server.requests().at(0).headers.at("authorization") == "Bearer file-token-1");
  CHECK(h.stopAll());
}

TEST_CASE("kusto output: inline token") {
  FakeHttpServer server([](const Request&) { return Reply{}; });
  Harness h(config(server, "auth:\n  method: token\n  token: inline-tok\n"));
  auto out = h.send("{}", "b");
  REQUIRE(out.has_value());
  CHECK(out->delivery == ingestd::Delivery::kDelivered);
  CHECK(server.requests().at(0).headers.at("authorization") == "Bearer inline-tok");
  CHECK(h.stopAll());
}

TEST_CASE("kusto output: stop() with sends in flight cancels them without completions") {
  FakeHttpServer server([](const Request&) {
    Reply r;
    r.delay = 3s;
    return r;
  });
  Harness h(config(server));
  int completions = 0;
  for (int i = 0; i < 4; ++i) {
    ingestd::Payload p;
    p.block_id = "b" + std::to_string(i);
    p.body = std::make_shared<const std::string>(ingestd::test::gzipCompress("{}"));
    h.output->send(std::move(p), [&](const ingestd::SendOutcome&) { ++completions; });
  }
  REQUIRE(runUntil(
      h.loop, [&] { return server.requestCount() == 4; }, 5s));
  CHECK(h.stopAll());
  CHECK(completions == 0);
  server.stop();
}

TEST_CASE("kusto output: concurrent sends share keep-alive connections") {
  FakeHttpServer server([](const Request&) {
    Reply r;
    r.delay = 10ms;
    return r;
  });
  Harness h(config(server, "concurrency: 4\n"));
  int delivered = 0;
  for (int round = 0; round < 5; ++round) {
    int done = 0;
    for (int i = 0; i < 4; ++i) {
      ingestd::Payload p;
      p.block_id = "r" + std::to_string(round) + "-" + std::to_string(i);
      p.body = std::make_shared<const std::string>(ingestd::test::gzipCompress("{}"));
      h.output->send(std::move(p), [&](const ingestd::SendOutcome& o) {
        ++done;
        delivered += o.delivery == ingestd::Delivery::kDelivered ? 1 : 0;
      });
    }
    REQUIRE(runUntil(
        h.loop, [&] { return done == 4; }, 10s));
  }
  CHECK(delivered == 20);
  CHECK(server.connectionsAccepted() <= 4);
  CHECK(h.stopAll());
}
