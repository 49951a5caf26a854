// Tests of loadConfigText / loadConfigFile with fake plugins: a full valid file, defaults, and
// every error the loader itself produces (each message checked with file:line:col and key).
#include <doctest/doctest.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "agent/config/describe.h"
#include "agent/config/settings.h"
#include "tests/unit/agent/config/fake_plugins.h"

namespace ingestd {
namespace {

using config_test::FakeKusto;
using config_test::fakeRegistry;
using config_test::FakeTail;
using config_test::load;
using config_test::loadError;
using std::chrono::milliseconds;

// The smallest valid output section, for tests about other parts.
constexpr const char* kOutputs = R"(
outputs:
  - name: adx
    type: kusto
    cluster: http://127.0.0.1:8080
)";

std::string withOutputs(std::string_view text) {
  return std::string(text) + std::string(kOutputs).substr(1);
}

TEST_CASE("config: a full configuration loads into typed settings") {
  ::setenv("INGESTD_TEST_CLIENT_SECRET", "s3cr3t-value", 1);
  auto r = load(R"(
service:
  state_dir: /tmp/ingestd-state
  log_level: debug
  log_format: json
  memory_limit: 64MiB
  shutdown_timeout: 10s
  workers: 2
  http:
    listen: "[::1]:0"
  checkpoint_interval: 500ms
  hostname: web-1
inputs:
  - name: nginx
    type: tail
    tag: nginx.access
    paths: [/var/log/nginx/access.log*]
    read_from: head
    max_line_bytes: 64KiB
  - name: app
    type: tcp
    listen: 0.0.0.0:5170
outputs:
  - name: adx
    type: kusto
    match: ["nginx.*", "app"]
    cluster: https://c.kusto.windows.net
    table: NginxAccess
    auth:
      method: client_secret
      client_secret: ${INGESTD_TEST_CLIENT_SECRET}
    batch: { max_bytes: 1MiB, max_records: 5000, max_delay: 250ms }
    concurrency: 8
    retry: { initial: 500ms, max: 30s, max_elapsed: 1h }
    buffer: { type: memory }
    compression: { codec: zlib, level: 6 }
  - name: all
    type: kusto
    match: "*"
    cluster: http://127.0.0.1:8080
    compression: { level: adaptive }
)");
  ::unsetenv("INGESTD_TEST_CLIENT_SECRET");
  REQUIRE_MESSAGE(r.isOk(), r.error().message);
  const Config& c = r.value();
  CHECK(c.file == "test.yaml");
  CHECK(c.service.state_dir == "/tmp/ingestd-state");
  CHECK(c.service.log_level == LogLevel::kDebug);
  CHECK(c.service.log_format == "json");
  CHECK(c.service.memory_limit == 64u << 20);
  CHECK(c.service.shutdown_timeout == milliseconds(10000));
  CHECK(c.service.workers == 2);
  CHECK(c.service.http_listen == "[::1]:0");
  CHECK(c.service.checkpoint_interval == milliseconds(500));
  CHECK(c.service.hostname == "web-1");

  REQUIRE(c.inputs.size() == 2);
  CHECK(c.inputs[0].name == "nginx");
  CHECK(c.inputs[0].type == "tail");
  CHECK(c.inputs[0].tag == "nginx.access");
  const auto& tail = std::any_cast<const FakeTail::Settings&>(c.inputs[0].settings);
  CHECK(tail.paths == std::vector<std::string>{"/var/log/nginx/access.log*"});
  CHECK(tail.read_from == "head");
  CHECK(tail.max_line_bytes == 64 * 1024);
  CHECK(c.inputs[1].tag == "app");  // defaults to the name
  CHECK(c.inputs[1].node.path() == "inputs[1]");

  REQUIRE(c.outputs.size() == 2);
  const PluginSection& adx = c.outputs[0];
  CHECK(adx.match == std::vector<std::string>{"nginx.*", "app"});
  const OutputPipelineSettings& p = adx.pipeline;
  CHECK(p.batch_max_bytes == 1u << 20);
  CHECK(p.batch_max_records == 5000);
  CHECK(p.batch_max_delay == milliseconds(250));
  CHECK(p.concurrency == 8);
  CHECK(p.retry_initial == milliseconds(500));
  CHECK(p.retry_max == milliseconds(30000));
  CHECK(p.retry_max_elapsed == milliseconds(3600000));
  CHECK(p.buffer_type == "memory");
  CHECK(p.buffer_path.empty());
  CHECK(p.compression_codec == "zlib");
  CHECK(p.compression_level == 6);
  const auto& kusto = std::any_cast<const FakeKusto::Settings&>(adx.settings);
  CHECK(kusto.table == "NginxAccess");
  CHECK(kusto.method == "client_secret");
  CHECK(kusto.client_secret.value == "s3cr3t-value");
  CHECK(c.outputs[1].match == std::vector<std::string>{"*"});

  std::string summary = describeConfig(c);
  CHECK(summary.find("s3cr3t") == std::string::npos);
  CHECK(summary.find("memory_limit:        64MiB") != std::string::npos);
  CHECK(summary.find("- nginx (type tail), tag \"nginx.access\"") != std::string::npos);
  CHECK(summary.find("match:       [\"nginx.*\", \"app\"]") != std::string::npos);
  CHECK(summary.find("batch:       max_bytes 1MiB, max_records 5000, max_delay 250ms") !=
        std::string::npos);
  CHECK(summary.find("retry:       initial 500ms, max 30s, max_elapsed 1h") != std::string::npos);
  CHECK(summary.find("compression: gzip, codec zlib, level 6") != std::string::npos);
  CHECK_FALSE(p.compression_adaptive);
  CHECK(c.outputs[1].pipeline.compression_adaptive);
  CHECK(summary.find("compression: gzip, codec auto, level adaptive") != std::string::npos);
}

TEST_CASE("config: defaults when only an output is given") {
  auto r = load(kOutputs);
  REQUIRE_MESSAGE(r.isOk(), r.error().message);
  const Config& c = r.value();
  ServiceSettings d;
  CHECK(c.service.state_dir == d.state_dir);
  CHECK(c.service.log_level == LogLevel::kInfo);
  CHECK(c.service.memory_limit == 256u << 20);
  CHECK(c.service.http_listen == "127.0.0.1:9464");
  CHECK(c.service.workers == 0);
  CHECK(c.service.deadletter_max_size == 1ull << 30);  // 1 GiB (issue 6)
  CHECK(c.inputs.empty());  // allowed here: `send` needs no input; `run` checks for itself
  REQUIRE(c.outputs.size() == 1);
  const OutputPipelineSettings& p = c.outputs[0].pipeline;
  CHECK(p.batch_max_bytes == 4u << 20);
  CHECK(p.batch_max_records == 0);
  CHECK(p.batch_max_delay == milliseconds(1000));
  CHECK(p.concurrency == 4);
  CHECK(p.retry_initial == milliseconds(1000));
  CHECK(p.retry_max == milliseconds(60000));
  CHECK(p.retry_max_elapsed == milliseconds(0));
  CHECK(p.buffer_type == "memory");
  CHECK(p.compression_codec == "auto");
  CHECK(p.compression_level == 1);
  CHECK(c.outputs[0].match == std::vector<std::string>{"*"});
  std::string summary = describeConfig(c);
  CHECK(summary.find("inputs (0):\n  (none)") != std::string::npos);
  CHECK(summary.find("http.listen:         127.0.0.1:9464") != std::string::npos);
  CHECK(summary.find("max_elapsed unlimited") != std::string::npos);
}

TEST_CASE("config: document-level errors") {
  CHECK(loadError("") == "test.yaml: the configuration is empty; at least one output is required");
  CHECK(loadError("# only a comment\n") ==
        "test.yaml: the configuration is empty; at least one output is required");
  CHECK(loadError("- a\n- b\n") ==
        "test.yaml:1:1: expected a mapping with the sections 'service', 'inputs' and 'outputs'");
  CHECK(loadError(R"(
service:
  workers: 1
outputs: [
)") == "test.yaml:4:1: invalid YAML: end of sequence flow not found");
  CHECK(loadError(R"(
service:
  workers: 1
   bad: indent
)") == "test.yaml:3:7: invalid YAML: illegal map value");
  CHECK(loadError(withOutputs("---\nservice: {}\n---\nservice: {}\n")) ==
        "test.yaml:3:1: only one YAML document is allowed");
  // yaml-cpp 0.7's LoadAll would loop forever on these (jbeder/yaml-cpp#1040).
  CHECK(loadError(",") == "test.yaml:1:1: invalid YAML: unexpected character");
  CHECK(loadError(",service:\n  workers: 1\n") ==
        "test.yaml:1:1: invalid YAML: unexpected character");
  CHECK(loadError("service: {}\n---\n,\n") == "test.yaml:2:1: only one YAML document is allowed");
  CHECK(loadError(withOutputs("\nservices:\n  workers: 1\n")) ==
        "test.yaml:1:1: unknown key 'services' (did you mean 'service'?)");
  CHECK(loadError(withOutputs("\nfilters: []\n")) ==
        "test.yaml:1:1: unknown key 'filters' (known keys: inputs, outputs, service)");
  CHECK(loadError("service: {}\n") ==
        "test.yaml:1:1: at least one output is required under 'outputs:'");
  CHECK(loadError("outputs: []\n") ==
        "test.yaml:1:10: 'outputs': at least one output is required under 'outputs:'");
  CHECK(loadError("outputs: {name: x}\n") ==
        "test.yaml:1:10: 'outputs': expected a list of outputs, each item starting with "
        "'- name: ...'");
  CHECK(loadError(withOutputs("\ninputs: nginx\n")) ==
        "test.yaml:1:9: 'inputs': expected a list of inputs, each item starting with "
        "'- name: ...'");
}

TEST_CASE("config: anchors and aliases work, merge keys are reported") {
  const char* head = R"(
outputs:
  - name: a
    type: kusto
    cluster: http://x
    retry: &retry {initial: 2s, max: 20s}
  - name: b
    type: kusto
    cluster: http://y
)";
  auto r = load(std::string(head) + "    retry: *retry\n");
  REQUIRE_MESSAGE(r.isOk(), r.error().message);
  CHECK(r->outputs[1].pipeline.retry_initial == milliseconds(2000));
  CHECK(r->outputs[1].pipeline.retry_max == milliseconds(20000));
  CHECK(loadError(std::string(head) + "    retry: {<<: *retry, max_elapsed: 1h}\n") ==
        "test.yaml:9:13: 'outputs[1].retry': YAML merge keys ('<<') are not supported; use an "
        "alias for a whole value instead (e.g. 'auth: *adx_auth')");
}

TEST_CASE("config: service section errors") {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"service:\n  memory_limit: 8MiB\n",
       "test.yaml:2:17: 'service.memory_limit': must be at least 16MiB"},
      {"service:\n  memory_limit: lots\n",
       "test.yaml:2:17: 'service.memory_limit': expected a size such as 4MiB, 512KiB, 10MB or "
       "1024 (bytes)"},
      {"service:\n  workers: 65\n", "test.yaml:2:12: 'service.workers': must be between 0 and 64"},
      {"service:\n  workers: -1\n", "test.yaml:2:12: 'service.workers': must be between 0 and 64"},
      {"service:\n  log_level: verbose\n",
       "test.yaml:2:14: 'service.log_level': expected one of: trace, debug, info, warn, error"},
      {"service:\n  log_format: xml\n",
       "test.yaml:2:15: 'service.log_format': expected one of: text, json"},
      {"service:\n  shutdown_timeout: 30\n",
       "test.yaml:2:21: 'service.shutdown_timeout': expected a duration such as 500ms, 5s, 2m, "
       "1h or 1m30s"},
      {"service:\n  shutdown_timeout: 2h\n",
       "test.yaml:2:21: 'service.shutdown_timeout': must be at most 1h"},
      {"service:\n  checkpoint_interval: 1ms\n",
       "test.yaml:2:24: 'service.checkpoint_interval': must be at least 10ms"},
      {"service:\n  state_dir: \"\"\n", "test.yaml:2:14: 'service.state_dir': must not be empty"},
      {"service:\n  http:\n    listen: 9464\n",
       "test.yaml:3:13: 'service.http.listen': expected IP:PORT such as 127.0.0.1:9464 or "
       "[::1]:9464 (an address, not a host name), or \"\" to disable"},
      {"service:\n  http:\n    listen: \"127.0.0.1:70000\"\n",
       "test.yaml:3:13: 'service.http.listen': expected IP:PORT such as 127.0.0.1:9464 or "
       "[::1]:9464 (an address, not a host name), or \"\" to disable"},
      {"service:\n  http:\n    listen: \"localhost:9464\"\n",
       "test.yaml:3:13: 'service.http.listen': expected IP:PORT such as 127.0.0.1:9464 or "
       "[::1]:9464 (an address, not a host name), or \"\" to disable"},
      {"service:\n  http:\n    listen: \"::1:9464\"\n",
       "test.yaml:3:13: 'service.http.listen': expected IP:PORT such as 127.0.0.1:9464 or "
       "[::1]:9464 (an address, not a host name), or \"\" to disable"},
      {"service:\n  http:\n    lisen: x\n",
       "test.yaml:3:5: 'service.http': unknown key 'lisen' (did you mean 'listen'?)"},
      {"service:\n  http: on\n",
       "test.yaml:2:9: 'service.http': expected a mapping (key: value pairs)"},
      {"service:\n  log_levle: info\n",
       "test.yaml:2:3: 'service': unknown key 'log_levle' (did you mean 'log_level'?)"},
      {"service: [a]\n", "test.yaml:1:10: 'service': expected a mapping (key: value pairs)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.yaml);
    CHECK(loadError(withOutputs(c.yaml)) == c.error);
  }
  for (const char* listen : {"0.0.0.0:9464", "127.0.0.1:0", "[::]:9464", "[::1]:65535"}) {
    CAPTURE(listen);
    CHECK(loadError(withOutputs(fmt::format("service:\n  http:\n    listen: \"{}\"\n", listen))) ==
          "OK");
  }
  auto ok = load(withOutputs("service:\n  http:\n    listen: \"\"\n  workers: 64\n"));
  REQUIRE_MESSAGE(ok.isOk(), ok.error().message);
  CHECK(ok->service.http_listen.empty());
  CHECK(ok->service.workers == 64);
  CHECK(describeConfig(ok.value()).find("http.listen:         disabled") != std::string::npos);
}

TEST_CASE("config: input section errors") {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"inputs:\n  - type: tail\n    paths: [/x]\n",
       "test.yaml:2:5: 'inputs[0].name': missing required key"},
      {"inputs:\n  - name: a\n    paths: [/x]\n",
       "test.yaml:2:5: 'inputs[0].type': missing required key"},
      {"inputs:\n  - name: \"\"\n    type: tail\n",
       "test.yaml:2:11: 'inputs[0].name': must not be empty"},
      {"inputs:\n  - name: a b\n    type: tail\n",
       "test.yaml:2:11: 'inputs[0].name': must be 1 to 128 letters, digits, '_', '-' or '.', not "
       "starting with '.' or '-'"},
      {"inputs:\n  - name: a\n    type: tial\n",
       "test.yaml:3:11: 'inputs[0].type': unknown input type 'tial' (did you mean 'tail'?); known "
       "types: tail, tcp"},
      {"inputs:\n  - name: a\n    type: kusto\n",
       "test.yaml:3:11: 'inputs[0].type': unknown input type 'kusto'; known types: tail, tcp"},
      {"inputs:\n  - name: a\n    type: tail\n    tag: \"\"\n    paths: [/x]\n",
       "test.yaml:4:10: 'inputs[0].tag': must not be empty"},
      {"inputs:\n  - just-a-string\n",
       "test.yaml:2:5: 'inputs[0]': expected a mapping with at least 'name' and 'type' for each "
       "input"},
      // Errors of the plugin's own parse() come back unchanged.
      {"inputs:\n  - name: a\n    type: tail\n    pths: [/x]\n",
       "test.yaml:4:5: 'inputs[0]': unknown key 'pths' (did you mean 'paths'?)"},
      {"inputs:\n  - name: a\n    type: tail\n    paths: [/x]\n    read_from: middle\n",
       "test.yaml:5:16: 'inputs[0].read_from': expected one of: head, tail"},
      {"inputs:\n  - name: a\n    type: tail\n",
       "test.yaml:2:5: 'inputs[0].paths': missing required key"},
      {"inputs:\n  - name: a\n    type: tcp\n",
       "test.yaml:2:5: 'inputs[0].listen': missing required key"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.yaml);
    CHECK(loadError(withOutputs(c.yaml)) == c.error);
  }
}

TEST_CASE("config: an input whose tag no output matches is an error, unless unrouted: drop") {
  const std::string outputs = R"(outputs:
  - name: adx
    type: kusto
    match: ["app.*"]
    cluster: http://a
  - name: backup
    type: kusto
    match: [audit, "x?"]
    cluster: http://b
)";
  const std::string nginx =
      "inputs:\n  - name: web\n    type: tcp\n    tag: app.web\n    listen: x\n"
      "  - name: nginx\n    type: tail\n    tag: nginx.access\n    paths: [/x]\n";
  CHECK(loadError(nginx + outputs) ==
        "test.yaml:6:5: inputs[1] 'nginx': tag \"nginx.access\" matches no output's 'match' "
        "(outputs: adx [\"app.*\"], backup [\"audit\", \"x?\"]); fix 'match', or set "
        "'unrouted: drop' to drop its records on purpose.");
  // The tag defaults to the name, and that is what is matched.
  CHECK(loadError("inputs:\n  - {name: audit, type: tcp, listen: x}\n" + outputs) == "OK");
  CHECK(loadError("inputs:\n  - {name: xy, type: tcp, listen: x}\n" + outputs) == "OK");
  CHECK(loadError("inputs:\n  - {name: xyz, type: tcp, listen: x}\n" + outputs)
            .starts_with("test.yaml:2:5: inputs[0] 'xyz': tag \"xyz\" matches no output's"));

  // The opt-in: records of this input are dropped (and counted) on purpose.
  auto r = load(nginx + "    unrouted: drop\n" + outputs);
  REQUIRE_MESSAGE(r.isOk(), r.error().message);
  CHECK_FALSE(r->inputs[0].unrouted_drop);
  CHECK(r->inputs[1].unrouted_drop);
  CHECK(describeConfig(r.value()).find("unrouted: drop") != std::string::npos);
  CHECK(load(nginx + "    unrouted: error\n" + outputs).isOk() == false);
  CHECK(loadError(nginx + "    unrouted: ignore\n" + outputs) ==
        "test.yaml:10:15: 'inputs[1].unrouted': expected one of: error, drop");
  // `send` reads configurations without inputs: nothing to route, nothing to check.
  CHECK(loadError(outputs) == "OK");
}

TEST_CASE("config: a NUL byte in a path is an error naming the key") {
  CHECK(loadError(withOutputs("service:\n  state_dir: \"/var/lib/ingestd\\0/x\"\n")) ==
        "test.yaml:2:14: 'service.state_dir': contains a NUL byte (\\0); a path cannot hold one");
  CHECK(loadError(withOutputs("service:\n  state_dir: \"/var/lib/ingestd\"\n")) == "OK");
}

TEST_CASE("config: duplicate names name both locations") {
  CHECK(loadError(withOutputs(R"(
inputs:
  - name: app
    type: tcp
    listen: :1
  - name: web
    type: tail
    paths: [/x]
  - name: app
    type: tail
    paths: [/y]
)")) == "test.yaml:8:11: 'inputs[2].name': duplicate input name 'app' (first defined at "
        "test.yaml:2:11)");
  CHECK(loadError(R"(
outputs:
  - name: adx
    type: kusto
    cluster: http://a
  - name: adx
    type: kusto
    cluster: http://b
)") == "test.yaml:5:11: 'outputs[1].name': duplicate output name 'adx' (first defined at "
       "test.yaml:2:11)");
  // The same name may be used once as an input and once as an output.
  CHECK(loadError(withOutputs("inputs:\n  - {name: adx, type: tcp, listen: x}\n")) == "OK");
}

TEST_CASE("config: output section errors") {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const char* head = "outputs:\n  - name: adx\n    type: kusto\n    cluster: http://x\n";
  const Case cases[] = {
      {"    batch: {max_bytes: 5MiB}\n",
       "test.yaml:5:24: 'outputs[0].batch.max_bytes': must be at most 4MiB: Kusto streaming "
       "ingestion accepts at most 4 MB of uncompressed data per request, so larger blocks would "
       "be rejected"},
      {"    batch: {max_bytes: 4194305}\n",
       "test.yaml:5:24: 'outputs[0].batch.max_bytes': must be at most 4MiB: Kusto streaming "
       "ingestion accepts at most 4 MB of uncompressed data per request, so larger blocks would "
       "be rejected"},
      {"    batch: {max_bytes: 0}\n",
       "test.yaml:5:24: 'outputs[0].batch.max_bytes': must be at least 1B"},
      {"    batch: {max_records: -1}\n",
       "test.yaml:5:26: 'outputs[0].batch.max_records': must be at least 0"},
      {"    batch: {max_delay: 2h}\n",
       "test.yaml:5:24: 'outputs[0].batch.max_delay': must be at most 1h"},
      {"    batch: {max_size: 1MiB}\n",
       "test.yaml:5:13: 'outputs[0].batch': unknown key 'max_size' (known keys: max_bytes, "
       "max_delay, max_records)"},
      {"    batch: {max_byte: 1MiB}\n",
       "test.yaml:5:13: 'outputs[0].batch': unknown key 'max_byte' (did you mean 'max_bytes'?)"},
      {"    batch: 4MiB\n",
       "test.yaml:5:12: 'outputs[0].batch': expected a mapping (key: value pairs)"},
      {"    concurrency: 0\n",
       "test.yaml:5:18: 'outputs[0].concurrency': must be between 1 and 256"},
      {"    concurrency: 257\n",
       "test.yaml:5:18: 'outputs[0].concurrency': must be between 1 and 256"},
      {"    retry: {initial: 2m, max: 1m}\n",
       "test.yaml:5:22: 'outputs[0].retry.initial': retry.initial (2m) must not exceed retry.max "
       "(1m)"},
      {"    retry: {max: 100ms}\n",
       "test.yaml:5:18: 'outputs[0].retry.max': retry.initial (1s) must not exceed retry.max "
       "(100ms)"},
      {"    retry: {max_elapsed: forever}\n",
       "test.yaml:5:26: 'outputs[0].retry.max_elapsed': expected a duration such as 500ms, 5s, "
       "2m, 1h or 1m30s"},
      {"    buffer: {type: disk, path: /var/spool/ingestd}\n",
       "test.yaml:5:20: 'outputs[0].buffer.type': disk buffering is not available in this "
       "version; use type: memory (tail inputs lose nothing with it: unacknowledged data is read "
       "again from the files after a restart)"},
      {"    buffer: {type: memory, path: /x}\n",
       "test.yaml:5:34: 'outputs[0].buffer.path': only valid with type: disk"},
      {"    buffer: {max_size: 1GiB}\n",
       "test.yaml:5:24: 'outputs[0].buffer.max_size': only valid with type: disk (memory is "
       "bounded by service.memory_limit)"},
      {"    buffer: {type: file}\n",
       "test.yaml:5:20: 'outputs[0].buffer.type': expected one of: memory, disk"},
      {"    buffer: {type: disk, path: /x, max_size: 100KiB}\n",
       "test.yaml:5:46: 'outputs[0].buffer.max_size': must be at least 1MiB"},
      {"    compression: {codec: gzip}\n",
       "test.yaml:5:26: 'outputs[0].compression.codec': expected one of: auto, zlib, libdeflate, "
       "isal"},
      {"    compression: {level: 10}\n",
       "test.yaml:5:26: 'outputs[0].compression.level': must be between 0 and 9"},
      {"    compression: {level: fast}\n",
       "test.yaml:5:26: 'outputs[0].compression.level': expected a level from 0 to 9, or "
       "adaptive"},
      {"    compressoin: {level: 1}\n",
       "test.yaml:5:5: 'outputs[0]': unknown key 'compressoin' (did you mean 'compression'?)"},
      {"    match: []\n",
       "test.yaml:5:12: 'outputs[0].match': must list at least one tag pattern (\"*\" matches "
       "all)"},
      {"    match: [\"\"]\n", "test.yaml:5:12: 'outputs[0].match': tag patterns must not be empty"},
      {"    match: {a: b}\n",
       "test.yaml:5:12: 'outputs[0].match': expected a string or a list of strings"},
      {"    timeout: 0s\n", "test.yaml:5:14: 'outputs[0].timeout': must be at least 1s"},
      {"    verify_tls: sure\n",
       "test.yaml:5:17: 'outputs[0].verify_tls': expected a boolean: true or false (also yes/no, "
       "on/off)"},
      {"    auth: {method: token, client_secret: a, client_secret_file: /b}\n",
       "test.yaml:5:65: 'outputs[0].auth.client_secret_file': set either 'client_secret' or "
       "'client_secret_file', not both"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.yaml);
    CHECK(loadError(std::string(head) + c.yaml) == c.error);
  }
  CHECK(loadError("outputs:\n  - name: adx\n    type: kafka\n") ==
        "test.yaml:3:11: 'outputs[0].type': unknown output type 'kafka'; known types: kusto");
  CHECK(loadError("outputs:\n  - name: adx\n    type: kusto\n") ==
        "test.yaml:2:5: 'outputs[0].cluster': missing required key");
  CHECK(loadError(std::string(head) + "    batch: {max_bytes: 4MiB}\n") == "OK");
  CHECK(loadError(std::string(head) + "    batch: {max_bytes: 4194304}\n") == "OK");
  CHECK(loadError(std::string(head) + "    batch: {max_bytes: 4MB}\n") == "OK");
  CHECK(loadError(std::string(head) + "    batch:\n") == "OK");  // empty mapping
}

TEST_CASE("config: compression levels are checked per codec") {
  const char* head = "outputs:\n  - name: adx\n    type: kusto\n    cluster: http://x\n";
  CHECK(loadError(std::string(head) + "    compression: {codec: zlib, level: 9}\n") == "OK");
  CHECK(loadError(std::string(head) + "    compression: {codec: auto, level: 0}\n") == "OK");
#ifdef INGESTD_HAVE_ISAL
  CHECK(loadError(std::string(head) + "    compression: {codec: isal, level: 3}\n") == "OK");
  CHECK(loadError(std::string(head) + "    compression: {codec: isal, level: 4}\n") ==
        "test.yaml:5:39: 'outputs[0].compression.level': must be between 0 and 3 with codec "
        "isal");
#else
  CHECK(loadError(std::string(head) + "    compression: {codec: isal}\n")
            .find("codec 'isal' is not available in this build") != std::string::npos);
#endif
#ifdef INGESTD_HAVE_LIBDEFLATE
  CHECK(loadError(std::string(head) + "    compression: {codec: libdeflate, level: 9}\n") == "OK");
#else
  CHECK(loadError(std::string(head) + "    compression: {codec: libdeflate}\n")
            .find("codec 'libdeflate' is not available in this build") != std::string::npos);
#endif
}

TEST_CASE("config: secrets from the environment never appear in errors or the summary") {
  ::setenv("INGESTD_TEST_SECRET", "hunter2-s3cr3t", 1);
  const char* head = "outputs:\n  - name: adx\n    type: kusto\n    cluster: http://x\n";
  std::vector<std::string> errors = {
      loadError(std::string(head) + "    concurrency: ${INGESTD_TEST_SECRET}\n"),
      loadError(std::string(head) + "    batch: {max_bytes: \"${INGESTD_TEST_SECRET}\"}\n"),
      loadError(std::string(head) + "    auth: {method: \"${INGESTD_TEST_SECRET}\"}\n"),
      loadError(std::string(head) + "    verify_tls: ${INGESTD_TEST_SECRET}\n"),
      loadError(std::string(head) +
                "    auth: {client_secret: \"${INGESTD_TEST_SECRET}\", client_secret_file: /x}\n"),
  };
  CHECK(errors[0] == "test.yaml:5:18: 'outputs[0].concurrency': expected an integer");
  for (const std::string& e : errors) {
    CAPTURE(e);
    CHECK(e != "OK");
    CHECK(e.find("hunter2") == std::string::npos);
  }
  auto ok = load(std::string(head) + "    auth: {client_secret: \"${INGESTD_TEST_SECRET}\"}\n");
  REQUIRE_MESSAGE(ok.isOk(), ok.error().message);
  CHECK(describeConfig(ok.value()).find("hunter2") == std::string::npos);
  ::unsetenv("INGESTD_TEST_SECRET");
  CHECK(loadError(std::string(head) + "    auth: {client_secret: \"${INGESTD_TEST_SECRET}\"}\n") ==
        "test.yaml:5:27: 'outputs[0].auth.client_secret': environment variable "
        "'INGESTD_TEST_SECRET' is not set");
}

TEST_CASE("config: loadConfigFile reads a file and names it in errors") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / fmt::format("ingestd-config-test-{}", ::getpid());
  fs::create_directories(dir);
  fs::path good = dir / "good.yaml";
  fs::path bad = dir / "bad.yaml";
  {
    std::ofstream(good) << std::string(kOutputs).substr(1);
    std::ofstream(bad) << "outputs:\n  - name: adx\n    type: kusto\n    clustr: x\n";
  }
  auto r = loadConfigFile(good.string(), fakeRegistry());
  REQUIRE_MESSAGE(r.isOk(), r.error().message);
  CHECK(r->file == good.string());
  CHECK(describeConfig(r.value()).find(fmt::format("Configuration: {}\n", good.string())) == 0);

  auto b = loadConfigFile(bad.string(), fakeRegistry());
  REQUIRE_FALSE(b.isOk());
  CHECK(b.error().code == ErrorCode::kInvalidArgument);
  CHECK(b.error().message ==
        fmt::format("{}:4:5: 'outputs[0]': unknown key 'clustr' (did you mean 'cluster'?)",
                    bad.string()));

  auto missing = loadConfigFile((dir / "nope.yaml").string(), fakeRegistry());
  REQUIRE_FALSE(missing.isOk());
  CHECK(missing.error().code == ErrorCode::kNotFound);
  CHECK(missing.error().message == fmt::format("cannot open config file '{}': No such file or "
                                               "directory",
                                               (dir / "nope.yaml").string()));
  fs::remove_all(dir);
}

TEST_CASE("config: loadConfigFile refuses a file over 4 MiB before parsing it") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / fmt::format("ingestd-config-size-{}", ::getpid());
  fs::create_directories(dir);
  // A valid file made big by a long list: parsing it would cost tens of times its size.
  auto write = [&](const fs::path& p, std::size_t bytes) {
    std::string text = std::string(kOutputs).substr(1) + "    match:\n";
    while (text.size() + 11 <= bytes) {
      text += "      - a\n";
    }
    text += std::string(bytes - text.size() - 1, '#') + "\n";  // a comment fills the rest
    std::ofstream(p) << text;
  };
  fs::path big = dir / "big.yaml";
  write(big, 10 * (1u << 20) + (1u << 20) / 5);  // 10.2 MiB
  auto r = loadConfigFile(big.string(), fakeRegistry());
  REQUIRE_FALSE(r.isOk());
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(r.error().message ==
        fmt::format("{}: the configuration file is 10.2 MiB; the limit is 4 MiB.", big.string()));
  fs::path edge = dir / "edge.yaml";
  write(edge, (4u << 20) + 1);
  CHECK(loadConfigFile(edge.string(), fakeRegistry()).error().message ==
        fmt::format("{}: the configuration file is 4.1 MiB; the limit is 4 MiB.", edge.string()));
  fs::path ok = dir / "ok.yaml";
  write(ok, std::size_t{64} * 1024);
  auto small = loadConfigFile(ok.string(), fakeRegistry());
  CHECK_MESSAGE(small.isOk(), small.error().message);
  fs::remove_all(dir);
}


TEST_CASE("config: an input's parser is none, json, or a parser plugin by name or mapping") {
  constexpr std::string_view kOut = "outputs:\n  - {name: adx, type: kusto, cluster: http://x}\n";
  auto with = [&](std::string_view parser_yaml) {
    return load(fmt::format("inputs:\n  - name: app\n    type: tail\n    paths: [/a.log]\n{}{}",
                            parser_yaml, kOut));
  };
  {
    auto r = with("");
    REQUIRE_MESSAGE(r.isOk(), r.error().message);
    CHECK(r->inputs[0].parser_name == "none");
    CHECK(r->inputs[0].parser == nullptr);
  }
  {
    auto r = with("    parser: json\n");
    REQUIRE_MESSAGE(r.isOk(), r.error().message);
    CHECK(r->inputs[0].parser_name == "json");
    CHECK(r->inputs[0].parser == nullptr);
    CHECK(describeConfig(*r).find("parser json") != std::string::npos);
  }
  {
    auto r = with("    parser: fields\n");
    REQUIRE_MESSAGE(r.isOk(), r.error().message);
    REQUIRE(r->inputs[0].parser != nullptr);
    CHECK(r->inputs[0].parser->name() == " ");
  }
  {
    auto r = with("    parser: {type: fields, sep: \";\"}\n");
    REQUIRE_MESSAGE(r.isOk(), r.error().message);
    REQUIRE(r->inputs[0].parser != nullptr);
    CHECK(r->inputs[0].parser->name() == ";");
  }
  // Errors point at the key, with what is available.
  std::string unknown = loadError(fmt::format(
      "inputs:\n  - name: app\n    type: tail\n    paths: [/a.log]\n    parser: feilds\n{}", kOut));
  CHECK(unknown.find("test.yaml:5:13") != std::string::npos);
  CHECK(unknown.find("did you mean 'fields'") != std::string::npos);
  CHECK(unknown.find("none, json, fields") != std::string::npos);
  CHECK(loadError(fmt::format("inputs:\n  - name: app\n    type: tail\n    paths: [/a.log]\n"
                              "    parser: {{sep: x}}\n{}",
                              kOut))
            .find("needs 'type'") != std::string::npos);
  CHECK(loadError(fmt::format("inputs:\n  - name: app\n    type: tail\n    paths: [/a.log]\n"
                              "    parser: {{type: fields, sepp: x}}\n{}",
                              kOut))
            .find("sepp") != std::string::npos);
  CHECK(loadError(fmt::format("inputs:\n  - name: app\n    type: tail\n    paths: [/a.log]\n"
                              "    parser: {{type: json, x: 1}}\n{}",
                              kOut))
            .find("takes no settings") != std::string::npos);
}

}  // namespace
}  // namespace ingestd
