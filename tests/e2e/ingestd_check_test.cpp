// E2E: `ingestd check`, `run` and `send` on configurations that used to pass `check` and then
// fail (or lose data) at run time: missing or non-PEM CA files, missing secret files, globs in
// directories that do not exist, inputs routed nowhere, `send` without --output.
#include <doctest/doctest.h>

#include <signal.h>

#include <fstream>
#include <string>

#include <fmt/format.h>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
using namespace ingestd::test;

namespace {

struct Ran {
  int code = -1000;
  std::string out;
  std::string err;
};

Ran runIngestd(std::vector<std::string> args) {
  args.insert(args.begin(), binPath("ingestd"));
  Process p(std::move(args));
  Ran r;
  r.code = p.wait(30s).value_or(-1000);
  r.out = p.stdoutText();
  r.err = p.stderrText();
  return r;
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

// A config in `dir` with one tail input and the given kusto output keys (indented by 4).
std::string writeConfig(const TempDir& dir, const std::string& input_paths,
                        const std::string& output_extra, const std::string& more_outputs = "") {
  std::string path = dir.file("ingestd.yaml");
  std::ofstream(path) << fmt::format(
      "service:\n  state_dir: {}\n  http: {{ listen: \"127.0.0.1:0\" }}\n"
      "inputs:\n  - name: app\n    type: tail\n    paths: {}\n"
      "outputs:\n  - name: adx\n    type: kusto\n    cluster: http://127.0.0.1:1\n"
      "    database: Logs\n    table: T\n    mapping: t_json\n{}{}",
      dir.file("state"), input_paths, output_extra, more_outputs);
  return path;
}

void writeFile(const std::string& path, const std::string& content) {
  std::ofstream(path) << content;
}

constexpr const char* kPem =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUFAKE\n-----END CERTIFICATE-----\n";

}  // namespace

TEST_CASE("check prints the TLS settings and whether secret files exist and are readable") {
  TempDir dir;
  writeFile(dir.file("ca.pem"), kPem);
  writeFile(dir.file("secret"), "not-printed-ever\n");
  auto cfg = writeConfig(
      dir, fmt::format("[\"{}/*.log\"]", dir.path()),
      fmt::format("    tls: {{ ca_file: {} }}\n    auth:\n      method: client_secret\n"
                  "      tenant_id: t\n      client_id: c\n      client_secret_file: {}\n",
                  dir.file("ca.pem"), dir.file("secret")));
  auto r = runIngestd({"check", "-c", cfg});
  INFO(r.out, r.err);
  CHECK(r.code == 0);
  CHECK(contains(r.out, fmt::format("tls:         verify on, CA {}", dir.file("ca.pem"))));
  CHECK(contains(r.out,
                 fmt::format("client_secret: from file {} (exists, readable", dir.file("secret"))));
  CHECK_FALSE(contains(r.out + r.err, "not-printed-ever"));

  auto plain =
      writeConfig(dir, fmt::format("[\"{}/*.log\"]", dir.path()), "    tls: { verify: false }\n");
  r = runIngestd({"check", "-c", plain});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "tls:         verify OFF (insecure)"));
  auto system_ca = writeConfig(dir, fmt::format("[\"{}/*.log\"]", dir.path()), "");
  r = runIngestd({"check", "-c", system_ca});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "tls:         verify on, CA system default"));
}

TEST_CASE("check fails on a CA file that is missing or not PEM, naming the file:line:col and key") {
  TempDir dir;
  const std::string glob = fmt::format("[\"{}/*.log\"]", dir.path());
  auto missing =
      writeConfig(dir, glob, fmt::format("    tls:\n      ca_file: {}\n", dir.file("nope.pem")));
  auto r = runIngestd({"check", "-c", missing});
  INFO(r.out, r.err);
  CHECK(r.code == 2);
  CHECK(contains(r.err, fmt::format("{}:16:16: 'outputs[0].tls.ca_file': ", missing)));
  CHECK(contains(r.err, "does not exist"));
  CHECK_FALSE(contains(r.out, "Configuration OK"));

  writeFile(dir.file("ca.der"), std::string("\x30\x82\x01\x0a garbage", 12));
  auto not_pem =
      writeConfig(dir, glob, fmt::format("    tls:\n      ca_file: {}\n", dir.file("ca.der")));
  r = runIngestd({"check", "-c", not_pem});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "'outputs[0].tls.ca_file': "));
  CHECK(contains(r.err, "BEGIN CERTIFICATE"));

  auto a_dir = writeConfig(dir, glob, fmt::format("    tls:\n      ca_file: {}\n", dir.path()));
  r = runIngestd({"check", "-c", a_dir});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "not a regular file"));
}

TEST_CASE("check and run fail on a secret file that does not exist, without reading it") {
  TempDir dir;
  const std::string glob = fmt::format("[\"{}/*.log\"]", dir.path());
  auto cfg = writeConfig(dir, glob,
                         fmt::format("    auth:\n      method: token\n      token_file: {}\n",
                                     dir.file("no-token")));
  auto r = runIngestd({"check", "-c", cfg});
  INFO(r.out, r.err);
  CHECK(r.code == 2);
  CHECK(contains(r.err, fmt::format("{}:17:19: 'outputs[0].auth.token_file': ", cfg)));
  CHECK(contains(r.err, "does not exist"));
  r = runIngestd({"run", "-c", cfg});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "'outputs[0].auth.token_file': "));
}

TEST_CASE("a glob whose directory does not exist is a warning in check and in run's log") {
  TempDir dir;
  const std::string missing_dir = dir.file("not-yet");
  auto cfg = writeConfig(dir, fmt::format("[\"{}/*.log\"]", missing_dir), "");
  auto r = runIngestd({"check", "-c", cfg});
  INFO(r.out, r.err);
  CHECK(r.code == 0);
  CHECK(contains(r.out, fmt::format("warning: the directory \"{}\" does not exist", missing_dir)));
  CHECK(contains(r.out, "Configuration OK"));

  Process run({binPath("ingestd"), "run", "-c", cfg});
  auto line = run.waitForStderrLine(
      fmt::format("input tail/app: The directory \"{}\" does not exist", missing_dir), 15s);
  CHECK(line.has_value());
  CHECK(run.waitForStderrLine("started", 15s).has_value());
  run.signal(SIGTERM);
  CHECK(run.wait(20s) == 0);

  auto relative = writeConfig(dir, "[\"*.log\"]", "");
  r = runIngestd({"check", "-c", relative});
  CHECK(r.code == 2);
  CHECK(contains(r.err, fmt::format("{}:7:13: 'inputs[0].paths[0]': ", relative)));
}

TEST_CASE("check fails when an input's tag matches no output") {
  TempDir dir;
  auto cfg =
      writeConfig(dir, fmt::format("[\"{}/*.log\"]", dir.path()), "    match: [\"web.*\"]\n");
  auto r = runIngestd({"check", "-c", cfg});
  INFO(r.out, r.err);
  CHECK(r.code == 2);
  CHECK(contains(r.err, fmt::format("{}:5:5: inputs[0] 'app': tag \"app\" matches no output's "
                                    "'match' (outputs: adx [\"web.*\"])",
                                    cfg)));
}

TEST_CASE("send with several outputs and no --output lists their names") {
  TempDir dir;
  writeFile(dir.file("data.json"), "{\"a\":1}\n");
  auto cfg = writeConfig(dir, fmt::format("[\"{}/*.log\"]", dir.path()), "",
                         "  - name: backup\n    type: kusto\n    cluster: http://127.0.0.1:1\n"
                         "    database: Logs\n    table: T2\n");
  auto r = runIngestd({"send", "-c", cfg, dir.file("data.json")});
  INFO(r.out, r.err);
  CHECK(r.code == 2);
  CHECK(contains(r.err, fmt::format("ingestd: several outputs in {}: adx, backup; choose one with "
                                    "--output NAME.",
                                    cfg)));
}
