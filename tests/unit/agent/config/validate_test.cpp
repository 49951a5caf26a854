// Tests of the checks made against the machine after loading (agent/config/validate.h and
// file_checks.h): files exist, are readable, CA files hold PEM; plugin hooks' errors and
// warnings reach `check`'s summary.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <yaml-cpp/yaml.h>

#include "agent/config/describe.h"
#include "agent/config/validate.h"
#include "agent/plugin/config.h"
#include "tests/unit/agent/config/fake_plugins.h"

namespace ingestd {
namespace {

namespace fs = std::filesystem;

struct Dir {
  fs::path path = fs::temp_directory_path() / fmt::format("ingestd-validate-{}", ::getpid());
  Dir() { fs::create_directories(path); }
  ~Dir() { fs::remove_all(path); }
  std::string file(const std::string& name, const std::string& content) const {
    std::ofstream(path / name) << content;
    return (path / name).string();
  }
};

// The node of `key` in a one-line mapping at test.yaml:1.
ConfigNode keyNode(const std::string& key, const std::string& value) {
  ConfigNode root(YAML::Load(key + ": \"" + value + "\""),
                  std::make_shared<const std::string>("test.yaml"), "outputs[0].tls");
  return root[key];
}

constexpr const char* kPem =
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";

}  // namespace

TEST_CASE("validate: checkReadableFile says what it found, errors name the key and the path") {
  Dir dir;
  const std::string secret = dir.file("secret", "s3cr3t-content\n");
  auto ok = checkReadableFile(keyNode("client_secret_file", secret), secret);
  REQUIRE_MESSAGE(ok.isOk(), ok.error().message);
  CHECK(ok.value() == (::getuid() == 0 ? "exists, readable by root" : "exists, readable"));

  const std::string missing = (dir.path / "nope").string();
  auto m = checkReadableFile(keyNode("client_secret_file", missing), missing);
  REQUIRE_FALSE(m.isOk());
  CHECK(m.error().code == ErrorCode::kInvalidArgument);
  CHECK(m.error().message == fmt::format("test.yaml:1:21: 'outputs[0].tls.client_secret_file': "
                                         "file \"{}\" does not exist",
                                         missing));
  auto d = checkReadableFile(keyNode("token_file", dir.path.string()), dir.path.string());
  REQUIRE_FALSE(d.isOk());
  CHECK(d.error().message.find("is a directory, not a regular file") != std::string::npos);
  if (::getuid() != 0) {  // root reads anything
    ::chmod(secret.c_str(), 0);
    auto denied = checkReadableFile(keyNode("token_file", secret), secret);
    REQUIRE_FALSE(denied.isOk());
    CHECK(denied.error().message.find("is not readable by this user") != std::string::npos);
  }
  // The content is never part of any answer.
  CHECK(m.error().message.find("s3cr3t") == std::string::npos);
}

TEST_CASE("validate: checkCaFile wants a readable file with a PEM certificate") {
  Dir dir;
  const std::string pem = dir.file("ca.pem", kPem);
  auto ok = checkCaFile(keyNode("ca_file", pem), pem);
  REQUIRE_MESSAGE(ok.isOk(), ok.error().message);
  CHECK(ok.value().find("2 PEM certificates") != std::string::npos);

  const std::string der = dir.file("ca.der", std::string("\x30\x82\x01\x0a\x02\x82", 6));
  auto bad = checkCaFile(keyNode("ca_file", der), der);
  REQUIRE_FALSE(bad.isOk());
  CHECK(bad.error().message ==
        fmt::format("test.yaml:1:10: 'outputs[0].tls.ca_file': CA file \"{}\" holds no PEM "
                    "certificate (no \"-----BEGIN CERTIFICATE-----\" line); convert a DER file "
                    "with 'openssl x509 -inform der -in FILE -out FILE.pem'",
                    der));
  const std::string empty = dir.file("empty.pem", "");
  CHECK_FALSE(checkCaFile(keyNode("ca_file", empty), empty).isOk());
  const std::string missing = (dir.path / "missing.pem").string();
  auto m = checkCaFile(keyNode("ca_file", missing), missing);
  REQUIRE_FALSE(m.isOk());
  CHECK(m.error().message.find("'outputs[0].tls.ca_file': file \"") != std::string::npos);
  CHECK(m.error().message.find("does not exist") != std::string::npos);
}

TEST_CASE("validate: plugin errors stop validation, warnings reach the summary and the log list") {
  Dir dir;
  auto c = config_test::load(R"(
inputs:
  - name: web
    type: tail
    paths: [/missing/a.log, /ok/b.log]
outputs:
  - name: adx
    type: kusto
    cluster: http://127.0.0.1:1
)");
  REQUIRE_MESSAGE(c.isOk(), c.error().message);
  auto v = validateConfig(c.value(), config_test::fakeRegistry());
  REQUIRE_MESSAGE(v.isOk(), v.error().message);
  REQUIRE(v->inputs.size() == 1);
  REQUIRE(v->outputs.size() == 1);
  CHECK(v->inputs[0].warnings == std::vector<std::string>{"path \"/missing/a.log\" is missing"});
  auto warnings = validationWarnings(c.value(), v.value());
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].first == "input tail/web");
  CHECK(warnings[0].second == "path \"/missing/a.log\" is missing");
  const std::string summary = describeConfig(c.value(), &config_test::fakeRegistry(), &v.value());
  CHECK(summary.find("      routes to:   adx\n") != std::string::npos);
  CHECK(summary.find("      warning: path \"/missing/a.log\" is missing\n") != std::string::npos);

  auto e = config_test::load(R"(
inputs:
  - name: web
    type: tail
    paths: [/error/a.log]
outputs:
  - name: adx
    type: kusto
    cluster: http://127.0.0.1:1
)");
  REQUIRE_MESSAGE(e.isOk(), e.error().message);
  auto failed = validateConfig(e.value(), config_test::fakeRegistry());
  REQUIRE_FALSE(failed.isOk());
  CHECK(failed.error().message == "test.yaml:4:12: 'inputs[0].paths': cannot use /error/a.log");
}

}  // namespace ingestd
