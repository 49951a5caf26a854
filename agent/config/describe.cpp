// describeConfig: what `ingestd check` prints. Pure formatting of an already validated Config.
#include "agent/config/describe.h"

#include "agent/config/validate.h"
#include "agent/core/tag_match.h"
#include "agent/plugin/plugin.h"

#include <iterator>

#include <fmt/format.h>

namespace ingestd {

namespace {

std::string quotedList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += fmt::format("{}\"{}\"", i == 0 ? "" : ", ", items[i]);
  }
  return out + "]";
}

void describeService(const ServiceSettings& s, std::string& out) {
  auto it = std::back_inserter(out);
  fmt::format_to(it, "service:\n");
  fmt::format_to(it, "  state_dir:           {}\n", s.state_dir);
  fmt::format_to(it, "  log:                 level {}, format {}\n", logLevelName(s.log_level),
                 s.log_format);
  fmt::format_to(it, "  memory_limit:        {}\n", formatSize(s.memory_limit));
  fmt::format_to(it, "  shutdown_timeout:    {}\n", formatDuration(s.shutdown_timeout));
  fmt::format_to(it, "  workers:             {}\n",
                 s.workers == 0 ? std::string("0 (one per core)") : std::to_string(s.workers));
  fmt::format_to(it, "  http.listen:         {}\n",
                 s.http_listen.empty() ? std::string("disabled") : s.http_listen);
  fmt::format_to(it, "  checkpoint_interval: {}\n", formatDuration(s.checkpoint_interval));
  fmt::format_to(it, "  hostname:            {}\n",
                 s.hostname.empty() ? std::string("(from the system)") : s.hostname);
}

void describeOutput(const PluginSection& o, std::string& out) {
  const OutputPipelineSettings& p = o.pipeline;
  auto it = std::back_inserter(out);
  fmt::format_to(it, "  - {} (type {})\n", o.name, o.type);
  fmt::format_to(it, "      match:       {}\n", quotedList(o.match));
  fmt::format_to(it, "      batch:       max_bytes {}, max_records {}, max_delay {}\n",
                 formatSize(p.batch_max_bytes),
                 p.batch_max_records == 0 ? std::string("unlimited")
                                          : std::to_string(p.batch_max_records),
                 formatDuration(p.batch_max_delay));
  fmt::format_to(it, "      concurrency: {}\n", p.concurrency);
  fmt::format_to(it, "      retry:       initial {}, max {}, max_elapsed {}\n",
                 formatDuration(p.retry_initial), formatDuration(p.retry_max),
                 p.retry_max_elapsed.count() == 0 ? std::string("unlimited (retry forever)")
                                                  : formatDuration(p.retry_max_elapsed));
  if (p.buffer_type == "disk") {
    fmt::format_to(it, "      buffer:      disk at {}, max_size {}\n", p.buffer_path,
                   formatSize(p.buffer_max_size));
  } else {
    fmt::format_to(it, "      buffer:      memory (bounded by service.memory_limit)\n");
  }
  if (p.compression_adaptive) {
    fmt::format_to(it, "      compression: gzip, codec {}, level adaptive\n", p.compression_codec);
  } else {
    fmt::format_to(it, "      compression: gzip, codec {}, level {}\n", p.compression_codec,
                   p.compression_level);
  }
}

// "adx, backup", or what happens to the records when no output matches the tag.
std::string routesOf(const PluginSection& in, const std::vector<PluginSection>& outputs) {
  std::vector<std::string> names;
  for (const PluginSection& o : outputs) {
    for (const std::string& pattern : o.match) {
      if (tagMatches(pattern, in.tag)) {
        names.push_back(o.name);
        break;
      }
    }
  }
  if (names.empty()) {
    return "no output (unrouted: drop: its records are dropped and counted as no_route)";
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

const ValidationReport* reportAt(const ConfigValidation* v, bool input, std::size_t i) {
  if (v == nullptr) {
    return nullptr;
  }
  const auto& reports = input ? v->inputs : v->outputs;
  return i < reports.size() ? &reports[i] : nullptr;
}

template <class T>
void describePlugin(const PluginRegistry::Factory<T>* f, const PluginSection& s,
                    const ValidationReport* report, std::string& out) {
  if (f != nullptr && f->describe) {
    out += f->describe(s.settings, report);
  }
  if (report != nullptr) {
    for (const std::string& w : report->warnings) {
      out += fmt::format("      warning: {}\n", w);
    }
  }
}

}  // namespace

std::string describeConfig(const Config& config, const PluginRegistry* registry,
                           const ConfigValidation* validation) {
  std::string out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, "Configuration: {}\n\n", config.file);
  describeService(config.service, out);
  fmt::format_to(it, "\ninputs ({}):\n", config.inputs.size());
  if (config.inputs.empty()) {
    fmt::format_to(it, "  (none)\n");
  }
  for (std::size_t i = 0; i < config.inputs.size(); ++i) {
    const PluginSection& in = config.inputs[i];
    fmt::format_to(it, "  - {} (type {}), tag \"{}\", parser {}\n", in.name, in.type, in.tag,
                   in.parser_name);
    fmt::format_to(it, "      routes to:   {}\n", routesOf(in, config.outputs));
    describePlugin(registry != nullptr ? registry->findInput(in.type) : nullptr, in,
                   reportAt(validation, true, i), out);
  }
  fmt::format_to(it, "\noutputs ({}):\n", config.outputs.size());
  for (std::size_t i = 0; i < config.outputs.size(); ++i) {
    const PluginSection& o = config.outputs[i];
    describeOutput(o, out);
    describePlugin(registry != nullptr ? registry->findOutput(o.type) : nullptr, o,
                   reportAt(validation, false, i), out);
  }
  return out;
}

}  // namespace ingestd
