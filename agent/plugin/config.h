// The configuration as plugins read it: ConfigNode and MapReader (typed, located access to the
// YAML config), the keys the core reads in every plugin section, and checks of files named in
// the settings. Every error names the file, line, column and key path; unknown keys are errors
// with a "did you mean" hint; ${VAR} in scalar values is replaced from the environment.
// (Implemented in agent/config/: config_node.cpp, config_values.cpp, file_checks.cpp.)
//
// Environment expansion (ConfigNode::scalar): `${NAME}` (NAME = [A-Za-z_][A-Za-z0-9_]*) is
// replaced by the variable's value; an unset variable is an error naming the variable (a set
// but empty one expands to ""). `$${` is the escape: it yields a literal `${`. A `$` not
// followed by `{` is kept as is. Expansion happens per scalar after YAML parsing, so a value
// cannot change the structure of the document. Only values are expanded, never keys.
//
// Secrets: error messages never quote a value (it may come from a secret variable); they name
// the key and say what was expected.
//
// Sizes (parseSize): an unsigned integer, optional spaces, optional unit: B; KB, MB, GB, TB
// (powers of 1000); KiB, MiB, GiB, TiB and the short K, M, G, T (powers of 1024). Units are
// case-insensitive. No unit = bytes. No fractions, no negatives, no overflow.
// Durations (parseDuration): one or more <integer><unit> parts with units h, m, s, ms in
// decreasing order ("1h30m", "1m30s", "500ms"), or a plain "0". A plain non-zero number is
// rejected because its unit would be a guess.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "agent/core/status.h"

namespace ingestd {

class ConfigNode {
 public:
  ConfigNode() = default;
  ConfigNode(const YAML::Node& node, std::shared_ptr<const std::string> file, std::string path);
  // An absent key: undefined, but located at `parent` (errors point at the enclosing mapping).
  static ConfigNode missing(const ConfigNode& parent, std::string path);
  ConfigNode(const ConfigNode&) = default;
  // Rebinds to the other node. YAML::Node's own assignment would instead write the other
  // node's value into the document this one points into; moves copy (config time only).
  ConfigNode& operator=(const ConfigNode& other);
  ~ConfigNode() = default;

  bool defined() const;
  bool isMap() const;
  bool isSequence() const;
  bool isScalar() const;
  const std::string& path() const { return path_; }  // e.g. "outputs[0].batch.max_bytes"
  const std::string& file() const { return *file_; }
  std::string location() const;  // "file:line:col"
  const YAML::Node& yaml() const { return node_; }

  ConfigNode operator[](std::string_view key) const;  // undefined node if missing
  std::vector<ConfigNode> elements() const;           // items of a sequence
  std::vector<std::string> keys() const;              // keys of a mapping, in file order

  // "FILE:LINE:COL: 'PATH': WHAT" as an invalid-argument Error (no path part when the path is
  // empty, i.e. the document root). Line and column are 1-based.
  Error error(std::string_view what) const;
  // The scalar text with ${VAR} expanded (unset variable: error). Not for maps/sequences.
  Result<std::string> scalar() const;

 private:
  YAML::Node node_{YAML::NodeType::Undefined};
  std::shared_ptr<const std::string> file_ = std::make_shared<const std::string>("<config>");
  std::string path_;
  YAML::Mark mark_ = YAML::Mark::null_mark();  // where errors point (the parent when missing)
};

// Reads the keys of one mapping. Getters return the default when the key is absent, remember
// the first error (later getters still return defaults), and mark the key as known; finish()
// then reports the first error, or the first unknown key.
class MapReader {
 public:
  explicit MapReader(const ConfigNode& node);

  std::string string(std::string_view key, std::string def = {});
  std::string requiredString(std::string_view key);
  std::optional<std::string> optionalString(std::string_view key);
  bool boolean(std::string_view key, bool def);
  std::int64_t integer(std::string_view key, std::int64_t def, std::int64_t min, std::int64_t max);
  // "4MiB", "512KiB", "10MB", "1024" (bytes). Must lie within [min, max].
  std::uint64_t size(std::string_view key, std::uint64_t def, std::uint64_t min = 0,
                     std::uint64_t max = UINT64_MAX);
  // "500ms", "5s", "2m", "1h", "0". Must lie within [min, max].
  std::chrono::milliseconds duration(
      std::string_view key, std::chrono::milliseconds def,
      std::chrono::milliseconds min = std::chrono::milliseconds(0),
      std::chrono::milliseconds max = std::chrono::milliseconds::max());
  // A scalar or a sequence of scalars.
  std::vector<std::string> stringList(std::string_view key);
  // A file-system path (or glob): string() / stringList() that also reject a NUL byte (YAML's
  // "\0" escape), which no path can hold and which would cut the path short at the C API.
  std::string path(std::string_view key, std::string def = {});
  std::vector<std::string> pathList(std::string_view key);
  // A string that must be one of `allowed`.
  std::string oneOf(std::string_view key, std::string def,
                    std::initializer_list<std::string_view> allowed);
  // A secret given inline (`key`) or as a file (`key_file`, read later by the plugin at start,
  // never here: parse() does no I/O). Exactly one may be set. Returns {value, file}. The file
  // is a path (no NUL byte); that it exists is checked by the plugin's validate().
  struct Secret {
    std::string value;
    std::string file;
    bool set() const { return !value.empty() || !file.empty(); }
  };
  Secret secret(std::string_view key);
  // A nested mapping or sequence (marks the key known). Undefined node when absent.
  ConfigNode child(std::string_view key);
  // Marks keys as known without reading them (e.g. keys the core reads for plugins).
  void allow(std::initializer_list<std::string_view> keys);
  bool has(std::string_view key) const;

  // Records an error found by the caller (e.g. two settings that contradict each other).
  void fail(Error error);
  const ConfigNode& node() const { return node_; }

  // An "unknown key" error with a did-you-mean hint (checked first: a typo in a key is the
  // likely cause of other errors), or the first error, or OK.
  Status finish();
  // The first error so far, without checking for unknown keys (for readers that share a
  // mapping with another reader, e.g. the core keys of a plugin section).
  Status status() const;

 private:
  // Marks `key` known; false when it is absent or not a usable scalar (the error is recorded).
  bool readScalar(std::string_view key, ConfigNode& node, std::string& text);
  // A scalar parsed by `parse` and checked against [min, max]; `expected` describes the syntax.
  template <class T, class Parse, class Format>
  T ranged(std::string_view key, T def, T min, T max, Parse parse, std::string_view expected,
           Format format);

  ConfigNode node_;
  std::set<std::string, std::less<>> known_;
  std::optional<Error> first_error_;
};

// The error for a path-valued key holding a NUL byte, or nullopt when `value` has none.
std::optional<Error> nulInPath(const ConfigNode& node, std::string_view value);

// Pure parsers, also used by MapReader. Return nullopt on bad input.
std::optional<std::uint64_t> parseSize(std::string_view text);
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);
// The known key closest to `key` by edit distance, if it is close enough to be a likely typo.
std::optional<std::string> didYouMean(std::string_view key,
                                      const std::set<std::string, std::less<>>& known);
// Readable forms for messages and `ingestd check`: "4MiB", "1500000B"; "1m30s", "0s".
std::string formatSize(std::uint64_t bytes);
std::string formatDuration(std::chrono::milliseconds d);

// Keys of every input and output section that the core reads (name, type, routing, for inputs
// the parser (PluginContext::parser); for outputs
// batching, concurrency, retry, buffering and compression). A plugin's parse() marks them known
// with MapReader::allow(kCoreInputKeys) / allow(kCoreOutputKeys) and reads the rest itself.
// `const`, not `constexpr`: g++ 12 rejects a constexpr initializer_list of string_views.
inline const std::initializer_list<std::string_view> kCoreInputKeys = {"name", "type", "tag",
                                                                       "unrouted", "parser"};
inline const std::initializer_list<std::string_view> kCoreOutputKeys = {
    "name", "type", "match", "batch", "concurrency", "retry", "buffer", "compression"};

// Checks of files named in the configuration, for plugins' validate() (agent/plugin/plugin.h):
// the file exists, is readable, holds what it should. Blocking (stat, access, one small read):
// for `ingestd check` and start-up, never the loop. Errors name the key's file:line:col and the
// path, never the file's content.
//
// A file the service reads later, such as a `*_file` secret: exists, is not a directory and is
// readable (access(R_OK) as the user running this; root can read anything, so as root the
// answer says so). The content is not read. Returns what was found, e.g. "exists, readable".
Result<std::string> checkReadableFile(const ConfigNode& node, const std::string& path);

// A CA bundle for TLS: a readable regular file of at most kMaxCaFileBytes that holds at least
// one PEM certificate ("-----BEGIN CERTIFICATE-----"). Returns e.g. "exists, 3 PEM certificates".
inline constexpr std::size_t kMaxCaFileBytes = 16u << 20;
Result<std::string> checkCaFile(const ConfigNode& node, const std::string& path);

}  // namespace ingestd
