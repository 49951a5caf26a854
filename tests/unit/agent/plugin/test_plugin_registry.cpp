// PluginRegistry's optional hooks: an output type's destination() (the metrics' table label) is
// found when the type has one and absent when it does not; the core reads no plugin keys itself.
#include <doctest/doctest.h>

#include <cstdlib>

#include <yaml-cpp/yaml.h>

#include "agent/plugin/plugin.h"
#include "plugins/outputs/kusto/kusto_output.h"

namespace ingestd {
namespace {

struct NoDestination {
  static constexpr std::string_view kName = "plain";
  struct Settings {};
  static Result<Settings> parse(const ConfigNode&) { return Settings{}; }
  static Result<std::unique_ptr<Output>> create(const Settings&, PluginContext&) {
    return Error{ErrorCode::kInternal, "not created in this test"};
  }
};

struct WithDestination : NoDestination {
  static constexpr std::string_view kName = "dest";
  struct Settings {
    std::string bucket;
  };
  static Result<Settings> parse(const ConfigNode& node) {
    MapReader r(node);
    r.allow(kCoreOutputKeys);
    Settings s;
    s.bucket = r.requiredString("bucket");
    INGESTD_RETURN_IF_ERROR(r.finish());
    return s;
  }
  static Result<std::unique_ptr<Output>> create(const Settings&, PluginContext&) {
    return Error{ErrorCode::kInternal, "not created in this test"};
  }
  static std::string destination(const Settings& s) { return "bucket-" + s.bucket; }
};

ConfigNode node(const std::string& yaml) {
  return ConfigNode(YAML::Load(yaml), std::make_shared<const std::string>("t.yaml"), "outputs[0]");
}

TEST_CASE("plugin registry: an output's destination() comes from its plugin, when it has one") {
  PluginRegistry registry;
  registry.addOutput<NoDestination>();
  registry.addOutput<WithDestination>();
  registry.addOutput<outputs::KustoOutput>();

  const auto* plain = registry.findOutput("plain");
  REQUIRE(plain != nullptr);
  CHECK_FALSE(plain->destination);

  const auto* dest = registry.findOutput("dest");
  REQUIRE(dest != nullptr);
  REQUIRE(dest->destination);
  auto settings = dest->parse(node("name: o\ntype: dest\nbucket: b1\n"));
  REQUIRE(settings.isOk());
  CHECK(dest->destination(settings.value()) == "bucket-b1");

  // The kusto output labels its metrics with the table (${VAR} expanded, as parse() read it).
  const auto* kusto = registry.findOutput("kusto");
  REQUIRE(kusto != nullptr);
  REQUIRE(kusto->destination);
  ::setenv("INGESTD_TEST_TABLE", "Events", 1);
  auto k = kusto->parse(
      node("name: adx\ntype: kusto\ncluster: https://c.kusto.windows.net\ndatabase: Logs\n"
           "table: ${INGESTD_TEST_TABLE}\nformat: txt\n"));
  REQUIRE_MESSAGE(k.isOk(), k.error().message);
  CHECK(kusto->destination(k.value()) == "Events");
  ::unsetenv("INGESTD_TEST_TABLE");
}

}  // namespace
}  // namespace ingestd
