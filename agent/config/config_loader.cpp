// Loads ingestd.yaml into Config: the service section, the common keys of every input and
// output, and each plugin's own settings through the registry. No side effects besides reading
// the one file; `ingestd check` runs exactly this.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include "agent/config/settings.h"
#include "agent/core/tag_match.h"
#include "agent/plugin/plugin.h"

namespace ingestd {

namespace {

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr std::uint64_t kMaxBatchBytes = 4 * kMiB;
using std::chrono::milliseconds;
constexpr milliseconds kHour = std::chrono::hours(1);

// Names end up in metric labels, log prefixes and file names under state_dir.
bool validName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] == '.' || name[0] == '-') {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// "IPv4:port" or "[IPv6]:port", port 0..65535 (0: any free port). The status server binds the
// address as given, without name resolution, so host names are rejected here already.
bool validListen(std::string_view s) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) {
    return false;
  }
  std::string host(s.substr(0, colon));
  std::string_view port = s.substr(colon + 1);
  if (port.size() > 5) {
    return false;
  }
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') {
      return false;
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) {
    return false;
  }
  unsigned char addr[sizeof(in6_addr)];
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), addr) == 1;
  }
  return ::inet_pton(AF_INET, host.c_str(), addr) == 1;
}

Status parseService(const ConfigNode& node, ServiceSettings& out) {
  MapReader r(node);
  out.state_dir = r.path("state_dir", out.state_dir);
  if (r.status().isOk() && out.state_dir.empty()) {
    r.fail(node["state_dir"].error("must not be empty"));
  }
  std::string level = r.oneOf("log_level", std::string(logLevelName(out.log_level)),
                              {"trace", "debug", "info", "warn", "error"});
  if (!parseLogLevel(level, out.log_level)) {
    out.log_level = LogLevel::kInfo;  // unreachable: oneOf only lets known names through
  }
  out.log_format = r.oneOf("log_format", out.log_format, {"text", "json"});
  out.memory_limit = r.size("memory_limit", out.memory_limit, 16 * kMiB);
  out.shutdown_timeout =
      r.duration("shutdown_timeout", out.shutdown_timeout, milliseconds(0), kHour);
  out.workers = static_cast<std::size_t>(r.integer("workers", 0, 0, 64));
  out.checkpoint_interval =
      r.duration("checkpoint_interval", out.checkpoint_interval, milliseconds(10), kHour);
  out.hostname = r.string("hostname", out.hostname);

  ConfigNode http = r.child("http");
  MapReader h(http);
  out.http_listen = h.string("listen", out.http_listen);
  if (h.status().isOk() && !out.http_listen.empty() && !validListen(out.http_listen)) {
    h.fail(http["listen"].error(
        "expected IP:PORT such as 127.0.0.1:9464 or [::1]:9464 (an address, not a host name), "
        "or \"\" to disable"));
  }

  ConfigNode deadletter = r.child("deadletter");
  MapReader d(deadletter);
  out.deadletter_max_size = d.size("max_size", out.deadletter_max_size, std::uint64_t{64} * 1024);
  INGESTD_RETURN_IF_ERROR(r.status());
  INGESTD_RETURN_IF_ERROR(h.finish());
  INGESTD_RETURN_IF_ERROR(d.finish());
  return r.finish();
}

Status parseBatch(MapReader& core, OutputPipelineSettings& out) {
  ConfigNode node = core.child("batch");
  MapReader r(node);
  out.batch_max_bytes = r.size("max_bytes", out.batch_max_bytes, 1);
  if (r.status().isOk() && out.batch_max_bytes > kMaxBatchBytes) {
    r.fail(node["max_bytes"].error(
        "must be at most 4MiB: Kusto streaming ingestion accepts at most 4 MB of uncompressed "
        "data per request, so larger blocks would be rejected"));
  }
  out.batch_max_records = static_cast<std::uint64_t>(
      r.integer("max_records", 0, 0, std::numeric_limits<std::int64_t>::max()));
  out.batch_max_delay = r.duration("max_delay", out.batch_max_delay, milliseconds(1), kHour);
  return r.finish();
}

Status parseRetry(MapReader& core, OutputPipelineSettings& out) {
  ConfigNode node = core.child("retry");
  MapReader r(node);
  out.retry_initial = r.duration("initial", out.retry_initial, milliseconds(1), kHour);
  out.retry_max = r.duration("max", out.retry_max, milliseconds(1), 24 * kHour);
  out.retry_max_elapsed = r.duration("max_elapsed", out.retry_max_elapsed);
  if (r.status().isOk() && out.retry_initial > out.retry_max) {
    ConfigNode at = node["initial"].defined() ? node["initial"] : node["max"];
    r.fail(at.error(fmt::format("retry.initial ({}) must not exceed retry.max ({})",
                                formatDuration(out.retry_initial), formatDuration(out.retry_max))));
  }
  return r.finish();
}

Status parseBuffer(MapReader& core, OutputPipelineSettings& out) {
  ConfigNode node = core.child("buffer");
  MapReader r(node);
  out.buffer_type = r.oneOf("type", out.buffer_type, {"memory", "disk"});
  out.buffer_path = r.path("path");
  out.buffer_max_size = r.size("max_size", out.buffer_max_size, kMiB);
  INGESTD_RETURN_IF_ERROR(r.finish());
  if (out.buffer_type == "disk") {
    // Refused rather than silently treated as memory: a user asking for durability must know.
    return node["type"].error(
        "disk buffering is not available in this version; use type: memory (tail inputs lose "
        "nothing with it: unacknowledged data is read again from the files after a restart)");
  }
  if (out.buffer_type == "memory") {
    if (node["path"].defined()) {
      return node["path"].error("only valid with type: disk");
    }
    if (node["max_size"].defined()) {
      return node["max_size"].error(
          "only valid with type: disk (memory is bounded by service.memory_limit)");
    }
  }
  return Status::ok();
}

std::vector<std::string_view> availableCodecs() {
  std::vector<std::string_view> out{"zlib"};
#ifdef INGESTD_HAVE_LIBDEFLATE
  out.emplace_back("libdeflate");
#endif
#ifdef INGESTD_HAVE_ISAL
  out.emplace_back("isal");
#endif
  return out;
}

Status parseCompression(MapReader& core, OutputPipelineSettings& out) {
  ConfigNode node = core.child("compression");
  MapReader r(node);
  out.compression_codec =
      r.oneOf("codec", out.compression_codec, {"auto", "zlib", "libdeflate", "isal"});
  ConfigNode level = node["level"];
  const std::string level_text = level.isScalar() ? level.yaml().as<std::string>() : "";
  if (level_text == "adaptive") {
    out.compression_adaptive = true;
    r.allow({"level"});
  } else if (!level_text.empty() &&
             level_text.find_first_not_of("0123456789+-") != std::string::npos) {
    return level.error("expected a level from 0 to 9, or adaptive");
  } else {
    out.compression_adaptive = false;
    out.compression_level = static_cast<int>(r.integer("level", out.compression_level, 0, 9));
  }
  INGESTD_RETURN_IF_ERROR(r.finish());
  if (out.compression_codec != "auto") {
    auto codecs = availableCodecs();
    if (std::find(codecs.begin(), codecs.end(), out.compression_codec) == codecs.end()) {
      return node["codec"].error(
          fmt::format("codec '{}' is not available in this build "
                      "(available: auto, {})",
                      out.compression_codec, fmt::join(codecs, ", ")));
    }
  }
  if (!out.compression_adaptive && out.compression_codec == "isal" && out.compression_level > 3) {
    return node["level"].error("must be between 0 and 3 with codec isal");
  }
  return Status::ok();
}

Status parsePipeline(MapReader& core, OutputPipelineSettings& out) {
  INGESTD_RETURN_IF_ERROR(parseBatch(core, out));
  out.concurrency = static_cast<std::size_t>(core.integer("concurrency", 4, 1, 256));
  INGESTD_RETURN_IF_ERROR(core.status());
  INGESTD_RETURN_IF_ERROR(parseRetry(core, out));
  INGESTD_RETURN_IF_ERROR(parseBuffer(core, out));
  return parseCompression(core, out);
}

enum class Kind { kInput, kOutput };

std::string unknownTypeMessage(std::string_view kind, const std::string& type,
                               const std::vector<std::string>& known) {
  if (known.empty()) {
    return fmt::format("unknown {} type '{}' (no {} plugins are compiled in)", kind, type, kind);
  }
  std::set<std::string, std::less<>> names(known.begin(), known.end());
  auto hint = didYouMean(type, names);
  std::string h = hint ? fmt::format(" (did you mean '{}'?)", *hint) : std::string();
  return fmt::format("unknown {} type '{}'{}; known types: {}", kind, type, h,
                     fmt::join(known, ", "));
}

// `parser:` of an input: a name (`parser: syslog`) or a mapping with `type:` and the parser's
// own keys (`parser: {type: regex, pattern: ...}`). none and json are the core's own.
// Without `parser:`, the input type's default (e.g. syslog) is made from the absent node.
Status parseInputParser(const ConfigNode& node, const std::string& default_parser,
                        const PluginRegistry& registry, PluginSection& s) {
  if (!node.defined() || node.yaml().IsNull()) {
    if (default_parser.empty()) {
      return Status::ok();
    }
    const auto* factory = registry.findParser(default_parser);
    if (factory == nullptr) {
      return node.error(
          fmt::format("this input needs the {} parser, which is not compiled in", default_parser));
    }
    auto parser = factory->make(node);
    if (!parser) {
      return parser.error();
    }
    s.parser_name = default_parser;
    s.parser = std::shared_ptr<const Parser>(std::move(parser).value());
    return Status::ok();
  }
  ConfigNode type_node = node;
  if (node.isMap()) {
    type_node = node["type"];
    if (!type_node.defined()) {
      return node.error("a parser mapping needs 'type' (e.g. {type: regex, pattern: ...})");
    }
  } else if (!node.isScalar()) {
    return node.error("expected a parser name or a mapping with 'type'");
  }
  auto name = type_node.scalar();
  if (!name) {
    return name.error();
  }
  s.parser_name = name.value();
  if (s.parser_name == "none" || s.parser_name == "json") {
    if (node.isMap() && node.keys().size() > 1) {
      return node.error(fmt::format("parser \"{}\" takes no settings", s.parser_name));
    }
    return Status::ok();
  }
  const auto* factory = registry.findParser(s.parser_name);
  if (factory == nullptr) {
    std::vector<std::string> names = {"none", "json"};
    for (auto& n : registry.parserNames()) {
      names.push_back(n);
    }
    return type_node.error(unknownTypeMessage("parser", s.parser_name, names));
  }
  auto parser = factory->make(node);
  if (!parser) {
    return parser.error();
  }
  s.parser = std::shared_ptr<const Parser>(std::move(parser).value());
  return Status::ok();
}

// Reads the common keys of one element of inputs:/outputs: and hands the element to its plugin.
Result<PluginSection> parseSection(const ConfigNode& node, Kind kind,
                                   const PluginRegistry& registry) {
  std::string_view kind_name = kind == Kind::kInput ? "input" : "output";
  if (!node.isMap()) {
    return node.error(
        fmt::format("expected a mapping with at least 'name' and 'type' for each "
                    "{}",
                    kind_name));
  }
  PluginSection s;
  s.node = node;
  MapReader core(node);
  s.name = core.requiredString("name");
  INGESTD_RETURN_IF_ERROR(core.status());
  if (!validName(s.name)) {
    return node["name"].error(
        "must be 1 to 128 letters, digits, '_', '-' or '.', not starting "
        "with '.' or '-'");
  }
  s.type = core.requiredString("type");
  INGESTD_RETURN_IF_ERROR(core.status());
  bool known = kind == Kind::kInput ? registry.findInput(s.type) != nullptr
                                    : registry.findOutput(s.type) != nullptr;
  if (!known) {
    auto names = kind == Kind::kInput ? registry.inputNames() : registry.outputNames();
    return node["type"].error(unknownTypeMessage(kind_name, s.type, names));
  }
  if (kind == Kind::kInput) {
    s.tag = core.string("tag", s.name);
    if (core.status().isOk() && s.tag.empty()) {
      core.fail(node["tag"].error("must not be empty"));
    }
    // unrouted: what a tag that no output matches means (checked once outputs are read).
    s.unrouted_drop = core.oneOf("unrouted", "error", {"error", "drop"}) == "drop";
    INGESTD_RETURN_IF_ERROR(core.status());
    INGESTD_RETURN_IF_ERROR(
        parseInputParser(node["parser"], registry.findInput(s.type)->default_parser, registry, s));
  } else {
    s.match = core.stringList("match");
    if (!node["match"].defined()) {
      s.match = {"*"};
    } else if (core.status().isOk() && s.match.empty()) {
      core.fail(node["match"].error("must list at least one tag pattern (\"*\" matches all)"));
    }
    for (const std::string& m : s.match) {
      if (m.empty() && core.status().isOk()) {
        core.fail(node["match"].error("tag patterns must not be empty"));
      }
    }
    INGESTD_RETURN_IF_ERROR(core.status());
    INGESTD_RETURN_IF_ERROR(parsePipeline(core, s.pipeline));
  }
  INGESTD_RETURN_IF_ERROR(core.status());

  auto parsed = kind == Kind::kInput ? registry.findInput(s.type)->parse(node)
                                     : registry.findOutput(s.type)->parse(node);
  if (!parsed) {
    return parsed.error();
  }
  s.settings = std::move(parsed).value();
  return s;
}

Result<std::vector<PluginSection>> parseSections(const ConfigNode& list, Kind kind,
                                                 const PluginRegistry& registry) {
  std::vector<PluginSection> out;
  if (!list.defined() || list.yaml().IsNull()) {
    return out;
  }
  std::string_view kind_name = kind == Kind::kInput ? "input" : "output";
  if (!list.isSequence()) {
    return list.error(
        fmt::format("expected a list of {}s, each item starting with "
                    "'- name: ...'",
                    kind_name));
  }
  std::map<std::string, std::string> first_location;  // name -> where it was first defined
  for (const ConfigNode& element : list.elements()) {
    auto section = parseSection(element, kind, registry);
    if (!section) {
      return section.error();
    }
    ConfigNode name_node = element["name"];
    auto [it, inserted] = first_location.emplace(section->name, name_node.location());
    if (!inserted) {
      return name_node.error(fmt::format("duplicate {} name '{}' (first defined at {})", kind_name,
                                         section->name, it->second));
    }
    out.push_back(std::move(section).value());
  }
  return out;
}

// Every input must reach an output: records of an input whose tag no `match` glob covers would
// be dropped as no_route while its offsets move on. `unrouted: drop` says that is intended.
Status checkRoutes(const Config& config) {
  for (std::size_t i = 0; i < config.inputs.size(); ++i) {
    const PluginSection& in = config.inputs[i];
    if (in.unrouted_drop) {
      continue;
    }
    std::vector<std::string> outputs;
    bool routed = false;
    for (const PluginSection& o : config.outputs) {
      for (const std::string& pattern : o.match) {
        routed = routed || tagMatches(pattern, in.tag);
      }
      std::vector<std::string> quoted;
      for (const std::string& pattern : o.match) {
        quoted.push_back(fmt::format("\"{}\"", pattern));
      }
      outputs.push_back(fmt::format("{} [{}]", o.name, fmt::join(quoted, ", ")));
    }
    if (!routed) {
      return Error{ErrorCode::kInvalidArgument,
                   fmt::format("{}: inputs[{}] '{}': tag \"{}\" matches no output's 'match' "
                               "(outputs: {}); fix 'match', or set 'unrouted: drop' to drop its "
                               "records on purpose.",
                               in.node.location(), i, in.name, in.tag, fmt::join(outputs, ", "))};
    }
  }
  return Status::ok();
}

Result<Config> parseDocument(const YAML::Node& root, const std::string& file_name,
                             const PluginRegistry& registry) {
  ConfigNode doc(root, std::make_shared<const std::string>(file_name), "");
  Config config;
  config.file = file_name;
  if (!doc.defined() || root.IsNull()) {
    return Error{ErrorCode::kInvalidArgument,
                 fmt::format("{}: the configuration is empty; at least one output is required",
                             file_name)};
  }
  if (!doc.isMap()) {
    return doc.error("expected a mapping with the sections 'service', 'inputs' and 'outputs'");
  }
  MapReader top(doc);
  ConfigNode service = top.child("service");
  ConfigNode inputs = top.child("inputs");
  ConfigNode outputs = top.child("outputs");
  INGESTD_RETURN_IF_ERROR(top.finish());

  INGESTD_RETURN_IF_ERROR(parseService(service, config.service));
  auto in = parseSections(inputs, Kind::kInput, registry);
  if (!in) {
    return in.error();
  }
  config.inputs = std::move(in).value();
  auto out = parseSections(outputs, Kind::kOutput, registry);
  if (!out) {
    return out.error();
  }
  config.outputs = std::move(out).value();
  if (config.outputs.empty()) {
    ConfigNode at = outputs.defined() ? outputs : doc;
    return at.error("at least one output is required under 'outputs:'");
  }
  INGESTD_RETURN_IF_ERROR(checkRoutes(config));
  return config;
}

// "10.2 MiB", rounded up so that a file just over the limit does not read as the limit.
std::string mebibytesRoundedUp(std::uint64_t bytes) {
  const std::uint64_t tenths = bytes / kMiB * 10 + ((bytes % kMiB) * 10 + kMiB - 1) / kMiB;
  return fmt::format("{}.{} MiB", tenths / 10, tenths % 10);
}

// `size` is empty when it is not known (a pipe, or a file that grew while it was read).
Error configTooLarge(const std::string& path, const std::string& size) {
  const std::uint64_t limit = kMaxConfigFileBytes / kMiB;
  if (size.empty()) {
    return Error{ErrorCode::kInvalidArgument,
                 fmt::format("{}: the configuration file is larger than the limit of {} MiB.", path,
                             limit)};
  }
  return Error{ErrorCode::kInvalidArgument,
               fmt::format("{}: the configuration file is {}; the limit is {} MiB.", path, size,
                           limit)};
}

std::string yamlErrorLocation(const std::string& file_name, const YAML::Mark& mark) {
  if (mark.is_null()) {
    return file_name;
  }
  return fmt::format("{}:{}:{}", file_name, mark.line + 1, mark.column + 1);
}

// Counts the documents of a YAML stream without building nodes.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Rejects a stream of more than one document. We do not use YAML::LoadAll: in yaml-cpp 0.7 it
// loops forever (allocating) on some invalid input such as a leading ',' because the parser
// reports a document without consuming the bad token (jbeder/yaml-cpp#1040, fixed upstream
// after 0.8). Here at most two documents are requested, and a second one that starts where
// the first did is that bug: the text is invalid there. May throw YAML::Exception.
Status checkSingleDocument(const std::string& text, const std::string& file_name) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts docs;
  if (!parser.HandleNextDocument(docs) || !parser.HandleNextDocument(docs)) {
    return Status::ok();
  }
  const YAML::Mark& second = docs.starts.back();
  if (docs.starts.size() == 2 && docs.starts[0].pos == second.pos) {
    return Error{ErrorCode::kInvalidArgument, fmt::format("{}: invalid YAML: unexpected character",
                                                          yamlErrorLocation(file_name, second))};
  }
  return Error{ErrorCode::kInvalidArgument, fmt::format("{}: only one YAML document is allowed",
                                                        yamlErrorLocation(file_name, second))};
}

}  // namespace

Result<Config> loadConfigText(const std::string& text, const std::string& file_name,
                              const PluginRegistry& registry) {
  // yaml-cpp reports problems by throwing; this is the boundary where they become Errors (also
  // for anything a plugin's parse() lets escape).
  try {
    INGESTD_RETURN_IF_ERROR(checkSingleDocument(text, file_name));
    return parseDocument(YAML::Load(text), file_name, registry);
  } catch (const YAML::Exception& e) {
    return Error{ErrorCode::kInvalidArgument,
                 fmt::format("{}: invalid YAML: {}", yamlErrorLocation(file_name, e.mark), e.msg)};
  } catch (const std::exception& e) {
    return Error{ErrorCode::kInvalidArgument,
                 fmt::format("{}: cannot load the configuration: {}", file_name, e.what())};
  }
}

Result<Config> loadConfigFile(const std::string& path, const PluginRegistry& registry) {
  // Plain blocking reads: this runs at start-up (or in `ingestd check`), before the loop.
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    return Error{err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                 fmt::format("cannot open config file '{}': {}", path, std::strerror(err))};
  }
  // Refused before reading: parsed YAML takes tens of times the size of its text in memory.
  struct stat st {};
  if (::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<std::uint64_t>(st.st_size) > kMaxConfigFileBytes) {
    std::fclose(f);
    return configTooLarge(path, mebibytesRoundedUp(static_cast<std::uint64_t>(st.st_size)));
  }
  std::string text;
  char buf[65536];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxConfigFileBytes) {  // not a regular file, or it grew meanwhile
      std::fclose(f);
      return configTooLarge(path, "");
    }
  }
  bool failed = std::ferror(f) != 0;
  int err = errno;
  std::fclose(f);
  if (failed) {
    return Error{ErrorCode::kIo,
                 fmt::format("cannot read config file '{}': {}", path, std::strerror(err))};
  }
  return loadConfigText(text, path, registry);
}

}  // namespace ingestd
