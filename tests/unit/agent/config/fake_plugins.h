// Test-local fake plugins and helpers for the config tests: small Settings structs parsed with
// MapReader like a real plugin would, so the loader is tested without the real tail/kusto code.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/config/settings.h"
#include "agent/plugin/config.h"
#include "agent/plugin/plugin.h"

namespace ingestd::config_test {

struct FakeTail {
  static constexpr std::string_view kName = "tail";
  struct Settings {
    std::vector<std::string> paths;
    std::string read_from;
    std::uint64_t max_line_bytes = 0;
  };
  static Result<Settings> parse(const ConfigNode& node) {
    MapReader r(node);
    r.allow(kCoreInputKeys);
    Settings s;
    s.paths = r.stringList("paths");
    s.read_from = r.oneOf("read_from", "tail", {"head", "tail"});
    s.max_line_bytes = r.size("max_line_bytes", 1 << 20, 1024);
    INGESTD_RETURN_IF_ERROR(r.finish());
    if (s.paths.empty()) {
      return node["paths"].error("missing required key");
    }
    return s;
  }
  // Like a real validate(): "/error..." paths are errors, "/missing..." ones warnings.
  static Status validate(const ConfigNode& node, const Settings& s, ValidationReport& report) {
    for (const std::string& p : s.paths) {
      if (p.starts_with("/error")) {
        return node["paths"].error("cannot use " + p);
      }
      if (p.starts_with("/missing")) {
        report.warnings.push_back(fmt::format("path \"{}\" is missing", p));
      }
    }
    return Status::ok();
  }
  static Result<std::unique_ptr<Input>> create(const Settings&, PluginContext&) {
    return Error{ErrorCode::kInternal, "fake plugin"};
  }
};

struct FakeTcp {
  static constexpr std::string_view kName = "tcp";
  struct Settings {
    std::string listen;
  };
  static Result<Settings> parse(const ConfigNode& node) {
    MapReader r(node);
    r.allow(kCoreInputKeys);
    Settings s;
    s.listen = r.requiredString("listen");
    INGESTD_RETURN_IF_ERROR(r.finish());
    return s;
  }
  static Result<std::unique_ptr<Input>> create(const Settings&, PluginContext&) {
    return Error{ErrorCode::kInternal, "fake plugin"};
  }
};

struct FakeKusto {
  static constexpr std::string_view kName = "kusto";
  struct Settings {
    std::string cluster;
    std::string table;
    std::string method;
    MapReader::Secret client_secret;
    std::chrono::milliseconds timeout{0};
    bool verify_tls = true;
  };
  static Result<Settings> parse(const ConfigNode& node) {
    MapReader r(node);
    r.allow(kCoreOutputKeys);
    Settings s;
    s.cluster = r.requiredString("cluster");
    s.table = r.string("table", "Logs");
    s.timeout = r.duration("timeout", std::chrono::seconds(30), std::chrono::seconds(1));
    s.verify_tls = r.boolean("verify_tls", true);
    MapReader auth(r.child("auth"));
    s.method = auth.oneOf("method", "none", {"none", "token", "client_secret"});
    s.client_secret = auth.secret("client_secret");
    INGESTD_RETURN_IF_ERROR(auth.finish());
    INGESTD_RETURN_IF_ERROR(r.finish());
    return s;
  }
  static Result<std::unique_ptr<Output>> create(const Settings&, PluginContext&) {
    return Error{ErrorCode::kInternal, "fake plugin"};
  }
};

// A parser plugin with one setting: `parser: fields` or `parser: {type: fields, sep: ";"}`.
struct FakeFieldsParser {
  static constexpr std::string_view kName = "fields";
  struct Settings {
    std::string sep = " ";
  };
  class Impl : public Parser {
   public:
    explicit Impl(std::string sep) : sep_(std::move(sep)) {}
    bool parse(std::string_view, ParsedRecord&) const override { return true; }
    std::string_view name() const override { return sep_; }  // lets a test see the setting

   private:
    std::string sep_;
  };
  static Result<Settings> parse(const ConfigNode& node) {
    Settings s;
    if (!node.isMap()) {
      return s;
    }
    MapReader r(node);
    r.allow({"type"});
    s.sep = r.string("sep", " ");
    INGESTD_RETURN_IF_ERROR(r.finish());
    return s;
  }
  static Result<std::unique_ptr<Parser>> create(const Settings& s) {
    return std::unique_ptr<Parser>(std::make_unique<Impl>(s.sep));
  }
};

inline const PluginRegistry& fakeRegistry() {
  static const PluginRegistry registry = [] {
    PluginRegistry r;
    r.addInput<FakeTail>();
    r.addInput<FakeTcp>();
    r.addOutput<FakeKusto>();
    r.addParser<FakeFieldsParser>();
    return r;
  }();
  return registry;
}

// Raw-string YAML in tests starts with a newline so that line 1 is the first line of text.
inline std::string yamlText(std::string_view text) {
  if (!text.empty() && text.front() == '\n') {
    text.remove_prefix(1);
  }
  return std::string(text);
}

inline Result<Config> load(std::string_view text) {
  return loadConfigText(yamlText(text), "test.yaml", fakeRegistry());
}

// The error message of loading `text`, or "OK".
inline std::string loadError(std::string_view text) {
  auto r = load(text);
  return r ? std::string("OK") : r.error().message;
}

}  // namespace ingestd::config_test
