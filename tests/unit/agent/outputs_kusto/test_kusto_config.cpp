// Unit tests of KustoOutput::parse(): defaults, derived values (endpoint, scope), and each
// configuration error with its message.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "plugins/outputs/kusto/kusto_output.h"

using namespace ingestd;
using ingestd::outputs::KustoOutput;
using namespace std::chrono_literals;

namespace {

Result<KustoOutput::Settings> parseYaml(const std::string& text) {
  ConfigNode node(YAML::Load(text), std::make_shared<const std::string>("test.yaml"), "outputs[0]");
  return KustoOutput::parse(node);
}

std::string errorOf(const std::string& text) {
  auto r = parseYaml(text);
  REQUIRE_FALSE(r.isOk());
  return r.error().message;
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

const std::string kBase =
    "name: adx\ntype: kusto\ncluster: https://mycluster.westeurope.kusto.windows.net\n"
    "database: Logs\ntable: Nginx\n";

}  // namespace

TEST_CASE("kusto config: minimal settings and defaults") {
  auto r = parseYaml(kBase);
  REQUIRE(r.isOk());
  const auto& s = r.value();
  CHECK(s.endpoint == "https://mycluster.westeurope.kusto.windows.net");
  CHECK(s.database == "Logs");
  CHECK(s.table == "Nginx");
  CHECK(s.format == "multijson");
  CHECK(s.mapping.empty());
  CHECK(s.auth.method == "none");
  CHECK(s.tls_verify);
  CHECK(s.timeout == 630000ms);
  CHECK(s.retry_after_max == 60000ms);
  CHECK(s.app_name == "ingestd");
  CHECK(s.request_id_prefix == "ingestd");
  CHECK(s.ingest_prefix_strip);
  CHECK(s.concurrency == 4);
}

TEST_CASE("kusto config: a full configuration") {
  auto r = parseYaml(
      "name: adx\ntype: kusto\nmatch: [\"nginx.*\"]\n"
      "cluster: https://ingest-mycluster.westeurope.kusto.windows.net/\n"
      "database: Logs\ntable: Nginx\nformat: csv\nmapping: m1\ncolumns: [timestamp, message]\n"
      "auth:\n  method: client_secret\n  tenant_id: tid\n  client_id: cid\n"
      "  client_secret: shh\n"
      "tls: {ca_file: /etc/ssl/ca.pem, verify: true}\ntimeout: 2m\napp_name: myapp\n"
      "request_id_prefix: MyApp\nbatch: {max_bytes: 1MiB}\nconcurrency: 16\n"
      "retry: {initial: 1s}\n");
  REQUIRE(r.isOk());
  const auto& s = r.value();
  CHECK(s.endpoint == "https://mycluster.westeurope.kusto.windows.net");  // ingest- stripped
  CHECK(s.format == "csv");
  CHECK(s.columns == std::vector<std::string>{"timestamp", "message"});
  CHECK(s.auth.method == "client_secret");
  CHECK(s.auth.client_secret.value == "shh");
  CHECK(s.auth.authority_host == "https://login.microsoftonline.com");
  CHECK(s.auth.scope == "https://mycluster.westeurope.kusto.windows.net/.default");
  CHECK(s.ca_file == "/etc/ssl/ca.pem");
  CHECK(s.timeout == 120000ms);
  CHECK(s.concurrency == 16);
}

TEST_CASE("kusto config: ingest_prefix_strip false keeps the host") {
  auto r = parseYaml(
      "cluster: https://ingest-c.kusto.windows.net\ndatabase: d\ntable: t\n"
      "ingest_prefix_strip: false\n");
  REQUIRE(r.isOk());
  CHECK(r->endpoint == "https://ingest-c.kusto.windows.net");
}

TEST_CASE("kusto config: http:// only for loopback unless allowed") {
  CHECK(parseYaml("cluster: http://127.0.0.1:8080\ndatabase: d\ntable: t\n").isOk());
  CHECK(parseYaml("cluster: http://localhost:8080\ndatabase: d\ntable: t\n").isOk());
  CHECK(parseYaml("cluster: http://[::1]:8080\ndatabase: d\ntable: t\n").isOk());
  auto msg = errorOf("cluster: http://10.1.2.3:8080\ndatabase: d\ntable: t\n");
  CHECK(msg ==
        "test.yaml:1:10: 'outputs[0].cluster': plain http:// is only allowed for localhost, "
        "127.0.0.1 and ::1; use https:// (or set allow_insecure_http: true to send to "
        "'10.1.2.3' unencrypted, credentials included)");
  CHECK(parseYaml("cluster: http://10.1.2.3:8080\ndatabase: d\ntable: t\n"
                  "allow_insecure_http: true\n")
            .isOk());
}

TEST_CASE("kusto config: errors name the key") {
  CHECK(contains(errorOf("database: d\ntable: t\n"), "'outputs[0].cluster': missing required key"));
  CHECK(contains(errorOf("cluster: https://c\ntable: t\n"),
                 "'outputs[0].database': missing required key"));
  CHECK(contains(errorOf("cluster: https://c\ndatabase: d\n"),
                 "'outputs[0].table': missing required key"));
  CHECK(contains(errorOf("cluster: https://c/v1/rest\ndatabase: d\ntable: t\n"),
                 "'outputs[0].cluster': 'https://c/v1/rest' is not a valid URL: it must not have "
                 "a path"));
  CHECK(contains(errorOf("cluster: mycluster\ndatabase: d\ntable: t\n"),
                 "'outputs[0].cluster': 'mycluster' is not a valid URL: expected "
                 "https://<host>[:port]"));
  CHECK(contains(errorOf(kBase + "format: parquet\n"), "'outputs[0].format'"));
  CHECK(contains(errorOf(kBase + "tabel: x\n"), "tabel"));
  CHECK(errorOf(kBase + "columns: [a, b]\n") ==
        "test.yaml:6:10: 'outputs[0].columns': is only used with format csv or tsv (format is "
        "'multijson')");
  CHECK(contains(errorOf(kBase + "request_id_prefix: \"a;b\"\n"),
                 "'outputs[0].request_id_prefix': must be non-empty, without ';' or spaces"));
  CHECK(contains(errorOf(kBase + "tls: {verfy: false}\n"), "verfy"));
  CHECK(contains(errorOf(kBase + "timeout: 0s\n"), "'outputs[0].timeout'"));
}

TEST_CASE("kusto config: auth errors") {
  CHECK(contains(errorOf(kBase + "auth:\n  method: managed_identity\n"),
                 "'outputs[0].auth.method': auth method 'managed_identity' is not supported in "
                 "this version yet (use token or client_secret)"));
  CHECK(contains(errorOf(kBase + "auth:\n  method: workload_identity\n"), "not supported"));
  CHECK(contains(errorOf(kBase + "auth:\n  method: certificate\n"), "not supported"));
  CHECK(contains(errorOf(kBase + "auth:\n  method: kerberos\n"), "'outputs[0].auth.method'"));
  CHECK(contains(errorOf(kBase + "auth:\n  method: token\n"),
                 "'outputs[0].auth': method 'token' needs 'token' or 'token_file'"));
  CHECK(contains(errorOf(kBase + "auth:\n  method: client_secret\n  client_id: c\n"
                                 "  client_secret: s\n"),
                 "'outputs[0].auth': method 'client_secret' needs 'tenant_id'"));
  CHECK(contains(errorOf(kBase + "auth:\n  method: client_secret\n  tenant_id: t\n"
                                 "  client_secret: s\n"),
                 "method 'client_secret' needs 'client_id'"));
  CHECK(contains(errorOf(kBase + "auth:\n  method: client_secret\n  tenant_id: t\n"
                                 "  client_id: c\n"),
                 "method 'client_secret' needs 'client_secret' or 'client_secret_file'"));
  CHECK(contains(errorOf(kBase + "auth:\n  method: none\n  token: abc\n"),
                 "'outputs[0].auth.token': is only used with method: token (method is 'none')"));
  CHECK(contains(errorOf(kBase + "auth:\n  method: token\n  token: abc\n  tenant_id: t\n"),
                 "'outputs[0].auth.tenant_id': is only used with method: client_secret"));
  CHECK(contains(errorOf(kBase + "auth:\n  method: client_secret\n  tenant_id: t\n"
                                 "  client_id: c\n  client_secret: s\n"
                                 "  authority_host: http://login.example.com\n"),
                 "'outputs[0].auth.authority_host': plain http:// is only allowed"));
  CHECK(contains(errorOf(kBase + "auth: token\n"), "'outputs[0].auth': must be a mapping"));
  CHECK(contains(errorOf(kBase + "auth:\n  method: token\n  token: a\n  token_file: /f\n"),
                 "not both"));
}

TEST_CASE("kusto config: secrets never appear in errors") {
  auto msg = errorOf(kBase + "auth:\n  method: none\n  client_secret: VERY-SECRET\n");
  CHECK_FALSE(contains(msg, "VERY-SECRET"));
  auto msg2 = errorOf(kBase + "auth:\n  method: token\n  token: TOPSECRET\n  scope: x\n");
  CHECK_FALSE(contains(msg2, "TOPSECRET"));
}

TEST_CASE("kusto config: token file and client secret file") {
  auto t = parseYaml(kBase + "auth:\n  method: token\n  token_file: /run/secrets/adx\n");
  REQUIRE(t.isOk());
  CHECK(t->auth.token.file == "/run/secrets/adx");
  CHECK(t->auth.token.value.empty());
  auto c = parseYaml(kBase +
                     "auth:\n  method: client_secret\n  tenant_id: t\n  client_id: c\n"
                     "  client_secret_file: /run/secrets/cs\n"
                     "  authority_host: http://127.0.0.1:9999/\n  scope: api://x/.default\n");
  REQUIRE(c.isOk());
  CHECK(c->auth.client_secret.file == "/run/secrets/cs");
  CHECK(c->auth.authority_host == "http://127.0.0.1:9999");
  CHECK(c->auth.scope == "api://x/.default");
}

TEST_CASE("kusto config: describe (ingestd check) shows the destination, never a secret") {
  auto c = parseYaml(kBase +
                     "mapping: m1\nauth:\n  method: client_secret\n  tenant_id: t1\n"
                     "  client_id: c1\n  client_secret: VERY-SECRET\n");
  REQUIRE(c.isOk());
  const std::string d = KustoOutput::describe(c.value());
  CHECK(contains(d, "Logs.Nginx, format multijson, mapping \"m1\""));
  CHECK(contains(d, "      auth:        client_secret, tenant t1, client c1\n"));
  CHECK(contains(d, "      client_secret: from the config\n"));
  CHECK_FALSE(contains(d, "VERY-SECRET"));
  auto t = parseYaml(kBase + "auth:\n  method: token\n  token: TOPSECRET\n");
  REQUIRE(t.isOk());
  CHECK_FALSE(contains(KustoOutput::describe(t.value()), "TOPSECRET"));
}

TEST_CASE("kusto config: a NUL byte in ca_file or a secret file is an error naming the key") {
  CHECK(errorOf(kBase + "tls:\n  ca_file: \"/etc/ssl/ca\\0.pem\"\n") ==
        "test.yaml:7:12: 'outputs[0].tls.ca_file': contains a NUL byte (\\0); a path cannot hold "
        "one");
  CHECK(errorOf(kBase + "auth:\n  method: token\n  token_file: \"/run/t\\0\"\n") ==
        "test.yaml:8:15: 'outputs[0].auth.token_file': contains a NUL byte (\\0); a path cannot "
        "hold one");
  CHECK(errorOf(kBase + "auth:\n  method: client_secret\n  tenant_id: t\n  client_id: c\n"
                        "  client_secret_file: \"/run/s\\0\"\n") ==
        "test.yaml:10:23: 'outputs[0].auth.client_secret_file': contains a NUL byte (\\0); a path "
        "cannot hold one");
}

namespace {

// A directory for the files validate() looks at, removed at the end of the test.
struct TempDirForTest {
  std::string path = (std::filesystem::temp_directory_path() /
                      fmt::format("ingestd-kusto-validate-{}", ::getpid()))
                         .string();
  TempDirForTest() { std::filesystem::create_directories(path); }
  ~TempDirForTest() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path + "/" + name) << content;
    return path + "/" + name;
  }
};

}  // namespace

TEST_CASE("kusto config: validate checks ca_file and secret files, errors at the key") {
  TempDirForTest dir;
  const std::string pem = dir.write("ca.pem",
                                    "-----BEGIN CERTIFICATE-----\nMIIB\n"
                                    "-----END CERTIFICATE-----\n");
  const std::string secret = dir.write("secret", "VERY-SECRET-CONTENT\n");
  const std::string missing = dir.path + "/missing";
  auto validate = [](const std::string& yaml, ValidationReport& report) -> Status {
    ConfigNode node(YAML::Load(yaml), std::make_shared<const std::string>("test.yaml"),
                    "outputs[0]");
    auto s = KustoOutput::parse(node);
    REQUIRE_MESSAGE(s.isOk(), s.error().message);
    return KustoOutput::validate(node, s.value(), report);
  };
  const std::string cs = "auth:\n  method: client_secret\n  tenant_id: t\n  client_id: c\n";
  ValidationReport ok;
  REQUIRE(validate(kBase + "tls:\n  ca_file: " + pem + "\n" + cs +
                       "  client_secret_file: " + secret + "\n",
                   ok)
              .isOk());
  CHECK(ok.files.count(pem) == 1);
  CHECK(ok.files.count(secret) == 1);
  ConfigNode node(YAML::Load(kBase + "tls:\n  ca_file: " + pem + "\n" + cs +
                             "  client_secret_file: " + secret + "\n"),
                  std::make_shared<const std::string>("test.yaml"), "outputs[0]");
  const std::string d = KustoOutput::describe(KustoOutput::parse(node).value(), &ok);
  CHECK(contains(d, "      auth:        client_secret, tenant t, client c\n"));
  CHECK(contains(d, fmt::format("      client_secret: from file {} (exists, readable", secret)));
  CHECK(contains(d, fmt::format("      tls:         verify on, CA {} (exists, readable", pem)));
  CHECK_FALSE(contains(d, "VERY-SECRET"));

  ValidationReport r;
  Status no_ca = validate(kBase + "tls:\n  ca_file: " + missing + "\n", r);
  REQUIRE_FALSE(no_ca.isOk());
  CHECK(no_ca.message() == fmt::format("test.yaml:7:12: 'outputs[0].tls.ca_file': file \"{}\" "
                                       "does not exist",
                                       missing));
  Status not_pem = validate(kBase + "tls:\n  ca_file: " + secret + "\n", r);
  REQUIRE_FALSE(not_pem.isOk());
  CHECK(contains(not_pem.message(), "'outputs[0].tls.ca_file': CA file"));
  CHECK_FALSE(contains(not_pem.message(), "VERY-SECRET"));
  Status no_secret = validate(kBase + cs + "  client_secret_file: " + missing + "\n", r);
  REQUIRE_FALSE(no_secret.isOk());
  CHECK(no_secret.message() == fmt::format("test.yaml:10:23: 'outputs[0].auth.client_secret_file'"
                                           ": file \"{}\" does not exist",
                                           missing));
  Status no_token = validate(kBase + "auth:\n  method: token\n  token_file: " + missing + "\n", r);
  REQUIRE_FALSE(no_token.isOk());
  CHECK(contains(no_token.message(), "test.yaml:8:15: 'outputs[0].auth.token_file': file"));
  // Nothing to check: inline secrets, the system CA store.
  ValidationReport none;
  CHECK(validate(kBase + cs + "  client_secret: x\n", none).isOk());
  CHECK(none.files.empty());
}

TEST_CASE("kusto config: describe shows the TLS settings") {
  auto on = parseYaml(kBase);
  REQUIRE(on.isOk());
  CHECK(contains(KustoOutput::describe(on.value()),
                 "      tls:         verify on, CA system default\n"));
  auto ca = parseYaml(kBase + "tls: {ca_file: /etc/ssl/my-ca.pem}\n");
  REQUIRE(ca.isOk());
  CHECK(contains(KustoOutput::describe(ca.value()),
                 "      tls:         verify on, CA /etc/ssl/my-ca.pem\n"));
  auto off = parseYaml(kBase + "tls: {verify: false}\n");
  REQUIRE(off.isOk());
  CHECK(contains(KustoOutput::describe(off.value()), "      tls:         verify OFF (insecure)\n"));
  auto tok = parseYaml(kBase + "auth:\n  method: token\n  token_file: /run/t\n");
  REQUIRE(tok.isOk());
  CHECK(contains(KustoOutput::describe(tok.value()), "      token:       from file /run/t\n"));
}
