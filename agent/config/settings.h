// Settings of the service section and the common keys of inputs and outputs. Plugin-specific
// settings live with each plugin (its Settings struct and parse()).
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/log.h"
#include "agent/plugin/config.h"
#include "agent/plugin/parser.h"

namespace ingestd {

struct ServiceSettings {
  std::string state_dir = "/var/lib/ingestd";
  LogLevel log_level = LogLevel::kInfo;
  std::string log_format = "text";            // text or json
  std::uint64_t memory_limit = 256ull << 20;  // global budget for records in memory
  std::chrono::milliseconds shutdown_timeout{30000};
  std::size_t workers = 0;                              // 0 = number of cores
  std::string http_listen = "127.0.0.1:9464";           // "" disables /metrics and health
  std::chrono::milliseconds checkpoint_interval{1000};  // how often acked offsets are saved
  std::string hostname;                                 // "" = gethostname() at start
  // deadletter.max_size: cap of <state_dir>/deadletter; beyond it new dead letters are
  // dropped (counted in ingestd_output_deadletter_discarded_blocks_total, logged as errors).
  std::uint64_t deadletter_max_size = 1ull << 30;
};

// Keys of every output that the pipeline (not the plugin) handles: batching, concurrency,
// retry, buffering and compression. Plugins must MapReader::allow(kCoreOutputKeys)
// (agent/plugin/config.h).
struct OutputPipelineSettings {
  std::uint64_t batch_max_bytes = 4ull << 20;  // hard limit 4 MiB (uncompressed)
  std::uint64_t batch_max_records = 0;         // 0 = no limit
  std::chrono::milliseconds batch_max_delay{1000};
  std::size_t concurrency = 4;  // requests in flight
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{60000};
  std::chrono::milliseconds retry_max_elapsed{0};  // 0 = retry forever
  std::string buffer_type = "memory";              // memory or disk
  std::string buffer_path;
  std::uint64_t buffer_max_size = 1ull << 30;
  std::string compression_codec = "auto";  // auto, zlib, libdeflate, isal
  int compression_level = 1;
  bool compression_adaptive = false;  // compression.level: adaptive
};

// One element of inputs: or outputs: with its common keys read; plugin-specific keys are read
// by the plugin's parse() from `node`.
struct PluginSection {
  std::string name;            // unique within inputs / outputs
  std::string type;            // plugin name: tail, kusto, ...
  std::string tag;             // inputs: routing tag (default: name)
  bool unrouted_drop = false;  // inputs: `unrouted: drop`, no output matching the tag is
                               // allowed (its records are dropped and counted as no_route);
                               // the default `error` makes that a config error
  // inputs: `parser:` ("none", "json" or a parser plugin's name) and, for a plugin, the
  // instance every thread that encodes the input's records shares.
  std::string parser_name = "none";
  std::shared_ptr<const Parser> parser;
  std::vector<std::string> match;   // outputs: tag globs (default: ["*"])
  OutputPipelineSettings pipeline;  // outputs only
  ConfigNode node;
  std::any settings;  // the plugin's parsed Settings (P::Settings)
};

struct Config {
  std::string file;
  ServiceSettings service;
  std::vector<PluginSection> inputs;
  std::vector<PluginSection> outputs;
};

// Reads the file, expands ${VAR}, parses every section including each plugin's settings
// (through the registry), with no side effects. Errors name file, line, column and key.
// Requires at least one output, and that every input's tag matches some output's `match`
// (unless the input says `unrouted: drop`). Does NOT require an input: `ingestd send` needs
// none, so `run` must check `config.inputs` itself. loadConfigFile: kNotFound / kIo when the
// file cannot be read, kInvalidArgument for everything in it, including a file larger than
// kMaxConfigFileBytes (refused before parsing: YAML costs tens of times its size in memory).
// Never throws. What depends on the machine (files exist, are readable) is checked afterwards
// by validateConfig() (agent/config/validate.h), not here.
inline constexpr std::uint64_t kMaxConfigFileBytes = 4ull << 20;
class PluginRegistry;
Result<Config> loadConfigFile(const std::string& path, const PluginRegistry& registry);
Result<Config> loadConfigText(const std::string& text, const std::string& file_name,
                              const PluginRegistry& registry);

}  // namespace ingestd
