// Integration test of the kusto output against the real kusto-local binary: a gzip'd multijson
// block through a JSON mapping into a table with a streaming policy, authenticated with client
// credentials from kusto-local's own token endpoint; then the row count, as a user would query it.
#include <doctest/doctest.h>

#include <optional>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "plugins/outputs/kusto/kusto_output.h"
#include "tests/integration/fake_http_server.h"
#include "tests/support/http_client.h"
#include "tests/support/kusto_local.h"

using namespace std::chrono_literals;

TEST_CASE("kusto output: multijson block into a real kusto-local table with client_secret") {
  auto kl = ingestd::test::KustoLocal::start(
      {"--database", "Logs", "--auth", "aad", "--client", "ingestd-app:s3cr+t/x"});
  // A token for the test's own management commands.
  auto tok = ingestd::test::httpRequest(
      "POST", kl->url() + "/tenant-1/oauth2/v2.0/token",
      "grant_type=client_credentials&client_id=ingestd-app&client_secret=" +
          ingestd::test::urlEncode("s3cr+t/x") +
          "&scope=" + ingestd::test::urlEncode("http://127.0.0.1/.default"),
      {"Content-Type: application/x-www-form-urlencoded"});
  REQUIRE(tok.status == 200);
  kl->setBearerToken(nlohmann::json::parse(tok.body).at("access_token").get<std::string>());
  kl->createTableWithStreaming("Logs", "Events", "(Message:string, Seq:long, Host:string)");
  kl->mgmt("Logs",
           ".create table Events ingestion json mapping \"events_json\" "
           "'[{\"column\":\"Message\",\"Properties\":{\"Path\":\"$.message\"}},"
           "{\"column\":\"Seq\",\"Properties\":{\"Path\":\"$.seq\"}},"
           "{\"column\":\"Host\",\"Properties\":{\"Path\":\"$.host\"}}]'");

  ingestd::Loop loop;
  ingestd::Loop::markLoopThread();
  ingestd::WorkerPool workers{loop, 1};
  ingestd::SystemClock clock;
  ingestd::Logger log{ingestd::LogLevel::kError};
  ingestd::Metrics metrics;
  ingestd::OutputMetrics om = metrics.forOutput("adx", "Events");
  ingestd::PluginContext ctx{"kusto/adx", "adx",  loop,    workers, clock,
                             log,         "/tmp", "host1", nullptr, &om};
  const std::string yaml = fmt::format(
      "name: adx\ntype: kusto\ncluster: {0}\ndatabase: Logs\ntable: Events\n"
      "mapping: events_json\nauth:\n  method: client_secret\n  tenant_id: tenant-1\n"
      "  client_id: ingestd-app\n  client_secret: s3cr+t/x\n  authority_host: {0}\n",
      kl->url());
  ingestd::ConfigNode node(YAML::Load(yaml), std::make_shared<const std::string>("t.yaml"),
                           "outputs[0]");
  auto settings = ingestd::outputs::KustoOutput::parse(node);
  REQUIRE_MESSAGE(settings.isOk(), settings.error().message);
  auto created = ingestd::outputs::KustoOutput::create(settings.value(), ctx);
  REQUIRE(created.isOk());
  auto output = std::move(created).value();
  REQUIRE(output->start().isOk());

  constexpr int kRecords = 1000;
  std::string raw;
  for (int i = 0; i < kRecords; ++i) {
    raw +=
        fmt::format("{{\"message\":\"line {} caf\xC3\xA9\",\"seq\":{},\"host\":\"h1\"}}\n", i, i);
  }
  ingestd::Payload p;
  p.block_id = "local-block-1";
  p.body = std::make_shared<const std::string>(ingestd::test::gzipCompress(raw, 1));
  p.raw_bytes = raw.size();
  p.records = kRecords;
  std::optional<ingestd::SendOutcome> out;
  output->send(std::move(p), [&](ingestd::SendOutcome o) { out = std::move(o); });
  REQUIRE(ingestd::fakehttp::runUntil(
      loop, [&] { return out.has_value(); }, 20s));
  CHECK_MESSAGE(out->delivery == ingestd::Delivery::kDelivered, out->message);
  CHECK(out->http_status == 200);
  CHECK(kl->count("Logs", "Events") == kRecords);
  CHECK(om.tokenRefresh("ok").Value() == 1);

  // A block for a table that has no streaming policy is rejected with the explanation.
  kl->mgmt("Logs", ".create table NoPolicy (Message:string)");
  // (Same output type, other table: built through parse() like the first.)
  ingestd::ConfigNode node2(
      YAML::Load(fmt::format("cluster: {0}\ndatabase: Logs\ntable: NoPolicy\nauth:\n"
                             "  method: client_secret\n  tenant_id: t\n  client_id: ingestd-app\n"
                             "  client_secret: s3cr+t/x\n  authority_host: {0}\n",
                             kl->url())),
      std::make_shared<const std::string>("t.yaml"), "outputs[1]");
  auto s2 = ingestd::outputs::KustoOutput::parse(node2);
  REQUIRE(s2.isOk());
  auto o2 = std::move(ingestd::outputs::KustoOutput::create(s2.value(), ctx)).value();
  REQUIRE(o2->start().isOk());
  ingestd::Payload p2;
  p2.block_id = "local-block-2";
  p2.body =
      std::make_shared<const std::string>(ingestd::test::gzipCompress("{\"Message\":\"x\"}\n", 1));
  std::optional<ingestd::SendOutcome> out2;
  o2->send(std::move(p2), [&](ingestd::SendOutcome o) { out2 = std::move(o); });
  REQUIRE(ingestd::fakehttp::runUntil(
      loop, [&] { return out2.has_value(); }, 20s));
  CHECK(out2->delivery == ingestd::Delivery::kRejected);
  CHECK(out2->error_code == "BadRequest_StreamingIngestionPolicyNotEnabled");
  CHECK_MESSAGE(out2->message.starts_with("Streaming ingestion is not enabled on table 'NoPolicy'"),
                out2->message);

  int stopped = 0;
  output->stop([&] { ++stopped; });
  o2->stop([&] { ++stopped; });
  REQUIRE(ingestd::fakehttp::runUntil(
      loop, [&] { return stopped == 2; }, 5s));
  output.reset();
  o2.reset();
  CHECK(loop.shutdown() == 0);
  CHECK(kl->stop() == 0);
}
