// Tests of ConfigNode (locations, key paths, ${VAR} expansion) and MapReader (typed getters,
// unknown keys, secrets): every error message is checked in full.
#include <doctest/doctest.h>

#include <cstdlib>

#include "agent/plugin/config.h"
#include "tests/unit/agent/config/fake_plugins.h"

namespace ingestd {
namespace {

using config_test::yamlText;
using std::chrono::milliseconds;

ConfigNode parse(std::string_view text) {
  return ConfigNode(YAML::Load(yamlText(text)), std::make_shared<const std::string>("f.yaml"), "");
}

// The first error of reading `map` with `read` (other keys of the map are not checked).
template <class F>
std::string readError(const ConfigNode& map, F read) {
  MapReader r(map);
  read(r);
  Status st = r.status();
  return st ? std::string("OK") : st.message();
}

// An environment variable set for the duration of one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

TEST_CASE("config: ConfigNode paths and 1-based locations") {
  ConfigNode root = parse(R"(
outputs:
  - name: adx
    batch:
      max_bytes: 1MiB
)");
  ConfigNode out = root["outputs"].elements().at(0);
  CHECK(out.path() == "outputs[0]");
  CHECK(out.location() == "f.yaml:2:5");
  ConfigNode mb = out["batch"]["max_bytes"];
  CHECK(mb.path() == "outputs[0].batch.max_bytes");
  CHECK(mb.location() == "f.yaml:4:18");
  CHECK(mb.isScalar());
  CHECK(mb.error("bad").message == "f.yaml:4:18: 'outputs[0].batch.max_bytes': bad");
  CHECK(mb.error("bad").code == ErrorCode::kInvalidArgument);
  CHECK(out.keys() == std::vector<std::string>{"name", "batch"});
  CHECK(root.error("top").message == "f.yaml:1:1: top");
}

TEST_CASE("config: assigning a ConfigNode rebinds it and leaves the document unchanged") {
  ConfigNode root = parse(R"(
a: one
b: two
)");
  ConfigNode node = root["a"];
  node = root["b"];
  CHECK(node.path() == "b");
  CHECK(node.scalar().value() == "two");
  // yaml-cpp's own Node assignment would have written "two" into key a.
  CHECK(root["a"].scalar().value() == "one");
  CHECK(root.yaml()["a"].as<std::string>() == "one");
  ConfigNode copy = node;
  const ConfigNode& same = copy;
  copy = same;  // self-assignment keeps the node
  CHECK(copy.scalar().value() == "two");
}

TEST_CASE("config: a missing key points at its parent and names the full path") {
  ConfigNode root = parse(R"(
service:
  log_level: info
)");
  ConfigNode missing = root["service"]["http"]["listen"];
  CHECK_FALSE(missing.defined());
  CHECK(missing.path() == "service.http.listen");
  CHECK(missing.location() == "f.yaml:2:3");
  CHECK(missing.error("missing required key").message ==
        "f.yaml:2:3: 'service.http.listen': missing required key");
  // Indexing a scalar does not throw; it is simply absent.
  CHECK_FALSE(root["service"]["log_level"]["x"].defined());
  CHECK(ConfigNode().location() == "<config>");
}

TEST_CASE("config: scalar() expands ${VAR} from the environment") {
  ScopedEnv host("INGESTD_TEST_HOST", "db.example");
  ScopedEnv empty("INGESTD_TEST_EMPTY", "");
  ConfigNode root = parse(R"(
a: https://${INGESTD_TEST_HOST}:443/${INGESTD_TEST_HOST}
b: price $5 and $$ stay
c: literal $${INGESTD_TEST_HOST}
d: "[${INGESTD_TEST_EMPTY}]"
e: ${INGESTD_TEST_UNSET_VARIABLE}
f: ${INGESTD_TEST_HOST
g: ${1BAD}
h: ${}
i: [1, 2]
j: {k: v}
k:
)");
  CHECK(root["a"].scalar().value() == "https://db.example:443/db.example");
  CHECK(root["b"].scalar().value() == "price $5 and $$ stay");
  CHECK(root["c"].scalar().value() == "literal ${INGESTD_TEST_HOST}");
  CHECK(root["d"].scalar().value() == "[]");
  CHECK(root["e"].scalar().error().message ==
        "f.yaml:5:4: 'e': environment variable 'INGESTD_TEST_UNSET_VARIABLE' is not set");
  CHECK(root["f"].scalar().error().message ==
        "f.yaml:6:4: 'f': unterminated '${' (write '$${' for a literal '${')");
  CHECK(root["g"].scalar().error().message ==
        "f.yaml:7:4: 'g': invalid environment variable name '1BAD' in '${...}' (letters, digits "
        "and '_'; write '$${' for a literal '${')");
  CHECK(root["h"].scalar().error().message ==
        "f.yaml:8:4: 'h': invalid environment variable name '' in '${...}' (letters, digits and "
        "'_'; write '$${' for a literal '${')");
  CHECK(root["i"].scalar().error().message ==
        "f.yaml:9:4: 'i': expected a single value, found a list");
  CHECK(root["j"].scalar().error().message ==
        "f.yaml:10:4: 'j': expected a single value, found a mapping");
  CHECK(root["k"].scalar().error().message.find("'k': has no value") != std::string::npos);
  CHECK(root["zz"].scalar().error().message == "f.yaml:1:1: 'zz': missing value");
}

TEST_CASE("config: MapReader reads typed values and defaults") {
  ScopedEnv n("INGESTD_TEST_N", "12");
  ConfigNode root = parse(R"(
s: hello
n: ${INGESTD_TEST_N}
b1: yes
b2: Off
sz: 4MiB
d: 1m30s
list1: one
list2: [a, "b"]
mode: head
opt: x
)");
  MapReader r(root);
  CHECK(r.string("s") == "hello");
  CHECK(r.string("nope", "dflt") == "dflt");
  CHECK(r.requiredString("s") == "hello");
  CHECK(r.integer("n", 0, 0, 100) == 12);
  CHECK(r.integer("n_absent", 7, 0, 100) == 7);
  CHECK(r.boolean("b1", false) == true);
  CHECK(r.boolean("b2", true) == false);
  CHECK(r.boolean("b3", true) == true);
  CHECK(r.size("sz", 0) == (4u << 20));
  CHECK(r.size("sz_absent", 99) == 99);
  CHECK(r.duration("d", milliseconds(0)) == milliseconds(90000));
  CHECK(r.duration("d_absent", milliseconds(5)) == milliseconds(5));
  CHECK(r.stringList("list1") == std::vector<std::string>{"one"});
  CHECK(r.stringList("list2") == std::vector<std::string>{"a", "b"});
  CHECK(r.stringList("list3").empty());
  CHECK(r.oneOf("mode", "tail", {"head", "tail"}) == "head");
  CHECK(r.oneOf("mode2", "tail", {"head", "tail"}) == "tail");
  CHECK(r.optionalString("opt") == std::optional<std::string>("x"));
  CHECK_FALSE(r.optionalString("opt2").has_value());
  CHECK(r.has("s"));
  CHECK_FALSE(r.has("nope"));
  CHECK(r.finish().isOk());
}

TEST_CASE("config: MapReader type and range errors name location and key") {
  ConfigNode root = parse(R"(
int: four
big: 99999999999999999999
small: -3
flag: maybe
sz: 4 parsecs
neg: -1MiB
low: 1KiB
dur: 5
late: 2h
mode: middle
list: {a: 1}
items: [a, [b]]
req: ""
map: 3
)");
  auto err = [&](auto read) { return readError(root, read); };
  CHECK(err([](MapReader& r) { (void)r.integer("int", 0, 0, 10); }) ==
        "f.yaml:1:6: 'int': expected an integer");
  CHECK(err([](MapReader& r) { (void)r.integer("big", 0, 0, 10); }) ==
        "f.yaml:2:6: 'big': integer out of range");
  CHECK(err([](MapReader& r) { (void)r.integer("small", 0, 0, 64); }) ==
        "f.yaml:3:8: 'small': must be between 0 and 64");
  CHECK(err([](MapReader& r) { (void)r.integer("small", 0, 1, INT64_MAX); }) ==
        "f.yaml:3:8: 'small': must be at least 1");
  CHECK(err([](MapReader& r) { (void)r.boolean("flag", false); }) ==
        "f.yaml:4:7: 'flag': expected a boolean: true or false (also yes/no, on/off)");
  CHECK(err([](MapReader& r) { (void)r.size("sz", 0); }) ==
        "f.yaml:5:5: 'sz': expected a size such as 4MiB, 512KiB, 10MB or 1024 (bytes)");
  CHECK(err([](MapReader& r) { (void)r.size("neg", 0); }) ==
        "f.yaml:6:6: 'neg': expected a size such as 4MiB, 512KiB, 10MB or 1024 (bytes)");
  CHECK(err([](MapReader& r) { (void)r.size("low", 0, 16 << 20); }) ==
        "f.yaml:7:6: 'low': must be at least 16MiB");
  CHECK(err([](MapReader& r) { (void)r.size("low", 0, 0, 1000); }) ==
        "f.yaml:7:6: 'low': must be at most 1000B");
  CHECK(err([](MapReader& r) { (void)r.duration("dur", milliseconds(0)); }) ==
        "f.yaml:8:6: 'dur': expected a duration such as 500ms, 5s, 2m, 1h or 1m30s");
  CHECK(err([](MapReader& r) {
          (void)r.duration("late", milliseconds(0), milliseconds(0), std::chrono::hours(1));
        }) == "f.yaml:9:7: 'late': must be at most 1h");
  CHECK(err([](MapReader& r) {
          (void)r.duration("late", milliseconds(0), std::chrono::hours(3));
        }) == "f.yaml:9:7: 'late': must be at least 3h");
  CHECK(err([](MapReader& r) {
          (void)r.oneOf("mode", "head", {"head", "tail"});
        }) == "f.yaml:10:7: 'mode': expected one of: head, tail");
  CHECK(err([](MapReader& r) { (void)r.stringList("list"); }) ==
        "f.yaml:11:7: 'list': expected a string or a list of strings");
  CHECK(err([](MapReader& r) { (void)r.stringList("items"); }) ==
        "f.yaml:12:12: 'items[1]': expected a string");
  CHECK(err([](MapReader& r) { (void)r.requiredString("req"); }) ==
        "f.yaml:13:6: 'req': must not be empty");
  CHECK(err([](MapReader& r) { (void)r.requiredString("absent"); }) ==
        "f.yaml:1:1: 'absent': missing required key");
  MapReader inner(root["map"]);
  CHECK(inner.finish().message() == "f.yaml:14:6: 'map': expected a mapping (key: value pairs)");
}

TEST_CASE("config: MapReader keeps the first error and returns defaults after it") {
  ConfigNode root = parse(R"(
a: x
b: y
)");
  MapReader r(root);
  CHECK(r.integer("a", 1, 0, 9) == 1);
  CHECK(r.integer("b", 2, 0, 9) == 2);
  CHECK(r.status().message() == "f.yaml:1:4: 'a': expected an integer");
  r.fail(root.error("later"));
  CHECK(r.finish().message() == "f.yaml:1:4: 'a': expected an integer");
}

TEST_CASE("config: unknown keys are errors with a did-you-mean hint at the key") {
  ConfigNode root = parse(R"(
inputs:
  - name: a
    pths: [/var/log/x]
    colour: red
)");
  ConfigNode in = root["inputs"].elements().at(0);
  MapReader r(in);
  r.allow({"name", "paths", "exclude"});
  CHECK(r.finish().message() ==
        "f.yaml:3:5: 'inputs[0]': unknown key 'pths' (did you mean 'paths'?)");

  MapReader r2(in);
  r2.allow({"name", "pths"});
  CHECK(r2.finish().message() ==
        "f.yaml:4:5: 'inputs[0]': unknown key 'colour' (known keys: name, pths)");
}

TEST_CASE("config: a misspelt key is reported as unknown before the errors it causes") {
  ConfigNode root = parse(R"(
clustr: x
count: many
)");
  MapReader r(root);
  (void)r.requiredString("cluster");
  (void)r.integer("count", 0, 0, 9);
  CHECK(r.status().message() ==
        "f.yaml:1:1: 'cluster': missing required key (is 'clustr' a typo for it?)");
  CHECK(r.finish().message() == "f.yaml:1:1: unknown key 'clustr' (did you mean 'cluster'?)");
  // Without unknown keys, the first error is reported.
  MapReader r2(root);
  (void)r2.integer("count", 0, 0, 9);
  (void)r2.requiredString("other");
  r2.allow({"clustr"});
  CHECK(r2.finish().message() == "f.yaml:2:8: 'count': expected an integer");
}

TEST_CASE("config: duplicate keys in one mapping are errors") {
  ConfigNode root = parse(R"(
name: a
type: tail
name: b
)");
  MapReader r(root);
  CHECK(r.string("name") == "a");
  r.allow({"type"});
  CHECK(r.finish().message() == "f.yaml:3:1: duplicate key 'name'");
}

TEST_CASE("config: secret() takes the key or key_file, never both, and reads no file") {
  ScopedEnv s("INGESTD_TEST_SECRET", "hunter2-s3cr3t");
  ConfigNode root = parse(R"(
inline: {client_secret: "${INGESTD_TEST_SECRET}"}
file: {client_secret_file: /run/secrets/does-not-exist}
both: {client_secret: abc, client_secret_file: /x}
neither: {}
wrong: {client_secret: [a]}
empty_file: {client_secret_file: ""}
)");
  {
    MapReader r(root["inline"]);
    auto sec = r.secret("client_secret");
    CHECK(sec.value == "hunter2-s3cr3t");
    CHECK(sec.file.empty());
    CHECK(sec.set());
    CHECK(r.finish().isOk());
  }
  {
    MapReader r(root["file"]);
    auto sec = r.secret("client_secret");
    CHECK(sec.value.empty());
    CHECK(sec.file == "/run/secrets/does-not-exist");
    CHECK(r.finish().isOk());
  }
  {
    MapReader r(root["both"]);
    (void)r.secret("client_secret");
    CHECK(r.finish().message() ==
          "f.yaml:3:48: 'both.client_secret_file': set either 'client_secret' or "
          "'client_secret_file', not both");
  }
  {
    MapReader r(root["neither"]);
    CHECK_FALSE(r.secret("client_secret").set());
    CHECK(r.finish().isOk());
  }
  {
    MapReader r(root["wrong"]);
    (void)r.secret("client_secret");
    CHECK(r.finish().message() ==
          "f.yaml:5:24: 'wrong.client_secret': expected a single value, found a list");
  }
  {
    MapReader r(root["empty_file"]);
    (void)r.secret("client_secret");
    CHECK(r.finish().message() ==
          "f.yaml:6:34: 'empty_file.client_secret_file': must not be empty");
  }
}

TEST_CASE("config: values from secret variables never appear in type errors") {
  ScopedEnv s("INGESTD_TEST_SECRET", "hunter2-s3cr3t");
  ConfigNode root = parse(R"(
client_secret: ${INGESTD_TEST_SECRET}
)");
  std::vector<std::string> errors = {
      readError(root, [](MapReader& r) { (void)r.integer("client_secret", 0, 0, 9); }),
      readError(root, [](MapReader& r) { (void)r.size("client_secret", 0); }),
      readError(root, [](MapReader& r) { (void)r.duration("client_secret", milliseconds(0)); }),
      readError(root, [](MapReader& r) { (void)r.boolean("client_secret", false); }),
      readError(root,
                [](MapReader& r) {
                  (void)r.oneOf("client_secret", "a", {"a", "b"});
                }),
  };
  for (const std::string& e : errors) {
    CAPTURE(e);
    CHECK(e.find("'client_secret'") != std::string::npos);
    CHECK(e.find("hunter2") == std::string::npos);
    CHECK(e.find("s3cr3t") == std::string::npos);
  }
}

}  // namespace
}  // namespace ingestd
