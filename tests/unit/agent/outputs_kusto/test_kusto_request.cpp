// Unit tests of the kusto output's pure request building: cluster URLs, the ingest URL and its
// escaping, and every header with its exact value.
#include <doctest/doctest.h>

#include <map>

#include "plugins/outputs/kusto/kusto_request.h"

using namespace ingestd::outputs::kusto;

namespace {

std::map<std::string, std::string> asMap(const Headers& h) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : h) {
    REQUIRE(m.count(k) == 0);  // no header twice
    m[k] = v;
  }
  return m;
}

}  // namespace

TEST_CASE("kusto request: cluster URL parsing") {
  auto u = parseClusterUrl("https://MyCluster.westeurope.kusto.windows.net");
  REQUIRE(u.isOk());
  CHECK(u->scheme == "https");
  CHECK(u->host == "mycluster.westeurope.kusto.windows.net");
  CHECK(u->port == 0);
  CHECK(u->base() == "https://mycluster.westeurope.kusto.windows.net");
  CHECK(u->origin() == "https://mycluster.westeurope.kusto.windows.net");

  auto t = parseClusterUrl("HTTP://127.0.0.1:8080/");
  REQUIRE(t.isOk());
  CHECK(t->scheme == "http");
  CHECK(t->port == 8080);
  CHECK(t->base() == "http://127.0.0.1:8080");
  CHECK(t->origin() == "http://127.0.0.1");

  auto v6 = parseClusterUrl("http://[::1]:9000");
  REQUIRE(v6.isOk());
  CHECK(v6->host == "::1");
  CHECK(v6->base() == "http://[::1]:9000");

  CHECK_FALSE(parseClusterUrl("mycluster.kusto.windows.net").isOk());
  CHECK_FALSE(parseClusterUrl("ftp://host").isOk());
  CHECK_FALSE(parseClusterUrl("https://").isOk());
  CHECK_FALSE(parseClusterUrl("https://host/v1/rest").isOk());
  CHECK_FALSE(parseClusterUrl("https://host?x=1").isOk());
  CHECK_FALSE(parseClusterUrl("https://user:pw@host").isOk());
  CHECK_FALSE(parseClusterUrl("https://host:0").isOk());
  CHECK_FALSE(parseClusterUrl("https://host:70000").isOk());
  CHECK_FALSE(parseClusterUrl("https://host:").isOk());
  CHECK_FALSE(parseClusterUrl("https://ho st").isOk());
  CHECK(parseClusterUrl("https://host/path").error().message ==
        "'https://host/path' is not a valid URL: it must not have a path, query or fragment "
        "(just https://<host>[:port])");
}

TEST_CASE("kusto request: ingest- prefix stripping and reserved hosts") {
  CHECK(stripIngestPrefix("ingest-mycluster.westeurope.kusto.windows.net") ==
        "mycluster.westeurope.kusto.windows.net");
  CHECK(stripIngestPrefix("mycluster.kusto.windows.net") == "mycluster.kusto.windows.net");
  CHECK(stripIngestPrefix("localhost") == "localhost");
  CHECK(stripIngestPrefix("onebox.dev.kusto.windows.net") == "onebox.dev.kusto.windows.net");
  CHECK(isReservedHost("10.0.0.1"));
  CHECK(isReservedHost("::1"));
  CHECK_FALSE(isReservedHost("ingest-x.kusto.windows.net"));
  CHECK(isLoopbackHost("localhost"));
  CHECK(isLoopbackHost("127.0.0.1"));
  CHECK(isLoopbackHost("127.1.2.3"));
  CHECK(isLoopbackHost("::1"));
  CHECK_FALSE(isLoopbackHost("10.0.0.1"));
  CHECK_FALSE(isLoopbackHost("127.0.0.1.example.com"));
}

TEST_CASE("kusto request: ingest URL with escaping") {
  CHECK(ingestUrl("https://c.kusto.windows.net", "Logs", "NginxAccess", "multijson", "nginx_v1") ==
        "https://c.kusto.windows.net/v1/rest/ingest/Logs/NginxAccess?streamFormat=multijson&"
        "mappingName=nginx_v1");
  CHECK(ingestUrl("http://127.0.0.1:1", "db", "t", "csv", "") ==
        "http://127.0.0.1:1/v1/rest/ingest/db/t?streamFormat=csv");
  CHECK(ingestUrl("http://h", "my db", "a/b?c", "json", "m&n=o p") ==
        "http://h/v1/rest/ingest/my%20db/a%2Fb%3Fc?streamFormat=json&mappingName=m%26n%3Do%20p");
  CHECK(percentEncode("A-z_0.9~") == "A-z_0.9~");
  CHECK(percentEncode("\xC3\xA9") == "%C3%A9");
}

TEST_CASE("kusto request: every header with its exact value") {
  RequestIdentity id;
  id.request_id_prefix = "ingestd";
  id.app = "ingestd";
  id.user = "alice";
  id.client_version = clientVersionHeader("0.1.0", "gcc 12.2.0");
  Headers h = ingestHeaders(id, "blk-7", 3, "tok123");
  REQUIRE(h.size() == 10);
  auto m = asMap(h);
  CHECK(m["Authorization"] == "Bearer tok123");
  CHECK(m["Content-Type"] == "application/octet-stream");
  CHECK(m["Content-Encoding"] == "gzip");
  CHECK(m["Accept"] == "application/json");
  CHECK(m["Connection"] == "Keep-Alive");
  CHECK(m["x-ms-version"] == "2024-12-12");
  CHECK(m["x-ms-client-request-id"] == "ingestd.executeStreamingIngest;blk-7;3");
  CHECK(m["x-ms-client-version"] == "Kusto.ingestd:{0.1.0}|Runtime.cpp:{gcc_12.2.0}");
  CHECK(m["x-ms-app"] == "ingestd");
  CHECK(m["x-ms-user"] == "alice");
  CHECK(h.front().first == "Authorization");
}

TEST_CASE("kusto request: no Authorization header without a token") {
  RequestIdentity id;
  id.client_version = clientVersionHeader("1", "x");
  auto m = asMap(ingestHeaders(id, "b", 0, ""));
  CHECK(m.count("Authorization") == 0);
  CHECK(m["x-ms-user"] == "[none]");
  CHECK(m.size() == 9);
}

TEST_CASE("kusto request: request id is stable across attempts, attempt number changes") {
  RequestIdentity id;
  id.request_id_prefix = "myapp";
  auto a0 = asMap(ingestHeaders(id, "0123abcd-42", 0, "t"))["x-ms-client-request-id"];
  auto a1 = asMap(ingestHeaders(id, "0123abcd-42", 1, "t"))["x-ms-client-request-id"];
  auto again = asMap(ingestHeaders(id, "0123abcd-42", 1, "other"))["x-ms-client-request-id"];
  CHECK(a0 == "myapp.executeStreamingIngest;0123abcd-42;0");
  CHECK(a1 == "myapp.executeStreamingIngest;0123abcd-42;1");
  CHECK(a1 == again);
  CHECK(clientRequestId("p", "b", 12) == "p.executeStreamingIngest;b;12");
}

TEST_CASE("kusto request: header values are ASCII only") {
  CHECK(asciiHeaderValue("plain") == "plain");
  CHECK(asciiHeaderValue("J\xC3\xBCrgen") == "J?rgen");  // one '?' per character
  CHECK(asciiHeaderValue("\xE2\x82\xAC"
                         "5") == "?5");                             // 3-byte sequence
  CHECK(asciiHeaderValue("\xF0\x9F\x98\x80") == "?");               // 4-byte sequence
  CHECK(asciiHeaderValue("a\r\nInjected: 1") == "a??Injected: 1");  // no header injection
  RequestIdentity id;
  id.user = "M\xC3\xBCller";
  id.app = "app\xC3\xA9";
  auto m = asMap(ingestHeaders(id, "b", 0, ""));
  CHECK(m["x-ms-user"] == "M?ller");
  CHECK(m["x-ms-app"] == "app?");
}

TEST_CASE("kusto request: client version format escapes its values") {
  CHECK(clientDetailValue("a b{c}|d\te") == "a_b_c__d_e");
  CHECK(clientVersionHeader("1.2.3", "gcc 12.2.0") ==
        "Kusto.ingestd:{1.2.3}|Runtime.cpp:{gcc_12.2.0}");
  CHECK_FALSE(compilerRuntime().empty());
}
