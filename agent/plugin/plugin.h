// The plugin interface: Input, Output, the concepts a plugin type satisfies and the registry of
// compiled-in plugins (filled by plugins/builtin.cpp, one line per plugin; no self-registering
// statics). What a plugin may use besides is all under agent/plugin/ (docs/plugins.md):
// PluginContext (context.h), records and payloads (record.h, payload.h), config (config.h),
// timers, file work and directory watches (loop.h), sockets (net.h), HTTP (http.h), checkpoints
// (checkpoint.h, ack_tracker.h) and metrics (metrics.h); plus agent/core/.
#pragma once

#include <any>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/status.h"
#include "agent/plugin/config.h"
#include "agent/plugin/context.h"
#include "agent/plugin/parser.h"
#include "agent/plugin/payload.h"
#include "agent/plugin/record.h"

namespace ingestd {

// Where inputs put what they read. Loop thread only.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Takes the chunk. Never blocks. When memory is short the pipeline calls the input's pause()
  // (and resume() later); chunks pushed while paused are still accepted.
  virtual void push(RecordChunk chunk) = 0;
};

class Input {
 public:
  virtual ~Input() = default;
  virtual Status start(RecordSink& sink) = 0;  // loop thread, must not block
  virtual void pause() = 0;                    // stop reading until resume()
  virtual void resume() = 0;
  // Stop reading, save state, close every handle; done() after the last handle closed.
  virtual void stop(std::function<void()> done) = 0;
  // Loop thread. Persist what has been acknowledged so far (called on a timer and at the end).
  virtual void checkpoint() {}
};

class Output {
 public:
  virtual ~Output() = default;
  // Loop thread. Sets up timers, token refresh, etc. Must not block.
  virtual Status start() { return Status::ok(); }
  // Loop thread. One attempt to deliver the payload. Never blocks. Calls done exactly once,
  // on the loop thread, unless stop() cancelled it first.
  virtual void send(Payload payload, std::function<void(SendOutcome)> done) = 0;
  // Cancel what is in flight (their done() is not called) and close every handle; done()
  // after the last handle closed.
  virtual void stop(std::function<void()> done) = 0;
  // How records must be encoded for this output: the name of one of the encoder's formats
  // (agent/pipeline/encoder.h). Which of them an output accepts is the plugin's business.
  virtual std::string format() const = 0;
  // For csv/tsv: the column order (names of record fields). Empty: the default order.
  virtual std::vector<std::string> columns() const { return {}; }
  // Ready to take traffic (e.g. has a token). /readyz reports it.
  virtual bool ready() const { return true; }
  // The largest payload body (compressed bytes) one send() can deliver; 0 = no limit. `ingestd
  // send` sends a .gz file as it is only when it fits; bigger ones are cut into blocks.
  virtual std::uint64_t maxPayloadBytes() const { return 0; }
};

// What a plugin's optional validate() found on this machine, beyond its Status (the first
// error). validate() makes the checks parse() may not make because they touch the file system.
struct ValidationReport {
  // Works now but may not be what the user meant (e.g. a glob's directory does not exist yet).
  // `ingestd check` prints them under the section, `ingestd run` logs them as warnings.
  std::vector<std::string> warnings;
  // What was found about a file named in the settings, by path (e.g. "exists, readable"), for
  // describe() to show next to the file.
  std::map<std::string, std::string> files;
};

template <class P>
concept InputPlugin = requires(const ConfigNode& node, const typename P::Settings& s,
                               PluginContext& ctx) {
  { P::kName } -> std::convertible_to<std::string_view>;
  { P::parse(node) } -> std::same_as<Result<typename P::Settings>>;
  { P::create(s, ctx) } -> std::same_as<Result<std::unique_ptr<Input>>>;
};

// An output type may also have a static destination(settings) -> std::string: where its records
// go, e.g. the kusto table. The core labels the output's metrics with it (table="...") and names
// it in dead letters; without one the label is empty and dead letters name the output.
template <class P>
concept OutputPlugin = requires(const ConfigNode& node, const typename P::Settings& s,
                                PluginContext& ctx) {
  { P::kName } -> std::convertible_to<std::string_view>;
  { P::parse(node) } -> std::same_as<Result<typename P::Settings>>;
  { P::create(s, ctx) } -> std::same_as<Result<std::unique_ptr<Output>>>;
};

// A parser type (plugins/parsers/<name>/): `node` is the input's `parser:` value, either the
// name alone (`parser: syslog`) or a mapping with `type:` and the parser's own keys
// (`parser: {type: regex, pattern: ...}`). create() is pure; the Parser it returns is const
// and shared by every thread that encodes the input's records.
template <class P>
concept ParserPlugin = requires(const ConfigNode& node, const typename P::Settings& s) {
  { P::kName } -> std::convertible_to<std::string_view>;
  { P::parse(node) } -> std::same_as<Result<typename P::Settings>>;
  { P::create(s) } -> std::same_as<Result<std::unique_ptr<Parser>>>;
};

class PluginRegistry {
 public:
  struct ParserFactory {
    std::function<Result<std::unique_ptr<Parser>>(const ConfigNode&)> make;  // parse + create
  };
  template <ParserPlugin P>
  void addParser() {
    parsers_[std::string(P::kName)] =
        ParserFactory{[](const ConfigNode& node) -> Result<std::unique_ptr<Parser>> {
          auto settings = P::parse(node);
          if (!settings) {
            return settings.error();
          }
          return P::create(settings.value());
        }};
  }
  const ParserFactory* findParser(std::string_view name) const { return find(parsers_, name); }
  std::vector<std::string> parserNames() const { return names(parsers_); }

  template <class T>
  struct Factory {
    std::function<Result<std::any>(const ConfigNode&)> parse;
    std::function<Result<std::unique_ptr<T>>(const std::any&, PluginContext&)> create;
    // Optional (P::validate(node, settings, report)): checks against this machine that `check`,
    // `run` and `send` make after parsing and before anything starts: files exist, are
    // readable, hold what they should. Blocking file-system calls (never on the loop); errors
    // name file:line:col and the key, never a secret value.
    std::function<Status(const ConfigNode&, const std::any&, ValidationReport&)> validate;
    // Optional (P::describe(settings[, report])): indented lines for `ingestd check`; never
    // secrets. report is what validate() found, or null when it did not run.
    std::function<std::string(const std::any&, const ValidationReport*)> describe;
    // Outputs, optional (P::destination(settings)): see OutputPlugin. Pure.
    std::function<std::string(const std::any&)> destination;
  };

  template <InputPlugin P>
  void addInput() {
    inputs_[std::string(P::kName)] = makeFactory<Input, P>();
  }
  template <OutputPlugin P>
  void addOutput() {
    outputs_[std::string(P::kName)] = makeFactory<Output, P>();
  }

  const Factory<Input>* findInput(std::string_view name) const { return find(inputs_, name); }
  const Factory<Output>* findOutput(std::string_view name) const { return find(outputs_, name); }
  std::vector<std::string> inputNames() const { return names(inputs_); }
  std::vector<std::string> outputNames() const { return names(outputs_); }

 private:
  template <class T, class P>
  static Factory<T> makeFactory() {
    Factory<T> f;
    f.parse = [](const ConfigNode& node) -> Result<std::any> {
      auto r = P::parse(node);
      if (!r) {
        return r.error();
      }
      return std::any(std::move(r).value());
    };
    f.create = [](const std::any& settings, PluginContext& ctx) -> Result<std::unique_ptr<T>> {
      auto r = P::create(std::any_cast<const typename P::Settings&>(settings), ctx);
      if (!r) {
        return r.error();
      }
      return std::unique_ptr<T>(std::move(r).value());
    };
    using S = typename P::Settings;
    if constexpr (requires(const ConfigNode& n, const S& s, ValidationReport& r) {
                    { P::validate(n, s, r) } -> std::same_as<Status>;
                  }) {
      f.validate = [](const ConfigNode& node, const std::any& settings, ValidationReport& r) {
        return P::validate(node, std::any_cast<const S&>(settings), r);
      };
    }
    if constexpr (requires(const S& s, const ValidationReport* r) {
                    { P::describe(s, r) } -> std::convertible_to<std::string>;
                  }) {
      f.describe = [](const std::any& settings, const ValidationReport* r) {
        return P::describe(std::any_cast<const S&>(settings), r);
      };
    } else if constexpr (requires(const S& s) {
                           { P::describe(s) } -> std::convertible_to<std::string>;
                         }) {
      f.describe = [](const std::any& settings, const ValidationReport*) {
        return P::describe(std::any_cast<const S&>(settings));
      };
    }
    if constexpr (requires(const S& s) {
                    { P::destination(s) } -> std::convertible_to<std::string>;
                  }) {
      f.destination = [](const std::any& settings) {
        return std::string(P::destination(std::any_cast<const S&>(settings)));
      };
    }
    return f;
  }
  template <class M>
  static auto find(const M& m, std::string_view name) -> const typename M::mapped_type* {
    auto it = m.find(std::string(name));
    return it == m.end() ? nullptr : &it->second;
  }
  template <class M>
  static std::vector<std::string> names(const M& m) {
    std::vector<std::string> out;
    out.reserve(m.size());
    for (const auto& [k, v] : m) {
      out.push_back(k);
    }
    return out;
  }

  std::map<std::string, Factory<Input>> inputs_;
  std::map<std::string, Factory<Output>> outputs_;
  std::map<std::string, ParserFactory> parsers_;
};

// plugins/builtin.cpp
void registerBuiltins(PluginRegistry& registry);

}  // namespace ingestd
