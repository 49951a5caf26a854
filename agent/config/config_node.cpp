// ConfigNode and MapReader: located, typed reads of YAML values, ${VAR} expansion, size and
// duration parsing, and did-you-mean hints for unknown keys.
#include "agent/config/text_util.h"
#include "agent/plugin/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

namespace ingestd {

namespace {

// A key and its value, in file order. Lookups walk these instead of using yaml-cpp's
// operator[], which throws on scalars and loses the key's position.
struct Entry {
  YAML::Node key;
  YAML::Node value;
};

std::vector<Entry> entriesOf(const YAML::Node& map) {
  std::vector<Entry> out;
  for (auto it = map.begin(); it != map.end(); ++it) {
    out.push_back({it->first, it->second});
  }
  return out;
}

std::string childPath(const std::string& parent, std::string_view key) {
  if (parent.empty()) {
    return std::string(key);
  }
  return fmt::format("{}.{}", parent, key);
}

bool isNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }

bool isNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Expands ${NAME}; `$${` is a literal `${`. Returns the error text on failure. Error texts name
// the variable, never a value.
Result<std::string> expandEnv(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$') {
      out += text[i++];
      continue;
    }
    if (text.substr(i, 3) == "$${") {
      out += "${";
      i += 3;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out += text[i++];
      continue;
    }
    std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Error{ErrorCode::kInvalidArgument,
                   "unterminated '${' (write '$${' for a literal '${')"};
    }
    std::string_view name = text.substr(i + 2, close - i - 2);
    bool valid =
        !name.empty() && isNameStart(name[0]) && std::all_of(name.begin(), name.end(), isNameChar);
    if (!valid) {
      return Error{ErrorCode::kInvalidArgument,
                   fmt::format("invalid environment variable name '{}' in '${{...}}' (letters, "
                               "digits and '_'; write '$${{' for a literal '${{')",
                               name)};
    }
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) {
      return Error{ErrorCode::kInvalidArgument,
                   fmt::format("environment variable '{}' is not set", name)};
    }
    out += value;
    i = close + 1;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ConfigNode

ConfigNode::ConfigNode(const YAML::Node& node, std::shared_ptr<const std::string> file,
                       std::string path)
    : node_(node), file_(std::move(file)), path_(std::move(path)) {
  if (node_.IsDefined()) {
    mark_ = node_.Mark();
  }
}

ConfigNode& ConfigNode::operator=(const ConfigNode& other) {
  if (this != &other) {
    node_.reset(other.node_);
    file_ = other.file_;
    path_ = other.path_;
    mark_ = other.mark_;
  }
  return *this;
}

ConfigNode ConfigNode::missing(const ConfigNode& parent, std::string path) {
  ConfigNode n;
  n.file_ = parent.file_;
  n.path_ = std::move(path);
  n.mark_ = parent.mark_;
  return n;
}

bool ConfigNode::defined() const { return node_.IsDefined(); }
bool ConfigNode::isMap() const { return defined() && node_.IsMap(); }
bool ConfigNode::isSequence() const { return defined() && node_.IsSequence(); }
bool ConfigNode::isScalar() const { return defined() && node_.IsScalar(); }

std::string ConfigNode::location() const {
  if (mark_.is_null()) {
    return *file_;
  }
  return fmt::format("{}:{}:{}", *file_, mark_.line + 1, mark_.column + 1);
}

ConfigNode ConfigNode::operator[](std::string_view key) const {
  std::string path = childPath(path_, key);
  if (!isMap()) {
    return missing(*this, std::move(path));
  }
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      return ConfigNode(it->second, file_, std::move(path));
    }
  }
  return missing(*this, std::move(path));
}

std::vector<ConfigNode> ConfigNode::elements() const {
  std::vector<ConfigNode> out;
  if (!isSequence()) {
    return out;
  }
  std::size_t i = 0;
  for (auto it = node_.begin(); it != node_.end(); ++it, ++i) {
    out.emplace_back(*it, file_, fmt::format("{}[{}]", path_, i));
  }
  return out;
}

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> out;
  if (!isMap()) {
    return out;
  }
  for (const Entry& e : entriesOf(node_)) {
    out.push_back(e.key.IsScalar() ? e.key.Scalar() : std::string());
  }
  return out;
}

Error ConfigNode::error(std::string_view what) const {
  if (path_.empty()) {
    return Error{ErrorCode::kInvalidArgument, fmt::format("{}: {}", location(), what)};
  }
  return Error{ErrorCode::kInvalidArgument, fmt::format("{}: '{}': {}", location(), path_, what)};
}

Result<std::string> ConfigNode::scalar() const {
  if (!defined()) {
    return error("missing value");
  }
  if (node_.IsNull()) {
    return error("has no value");
  }
  if (node_.IsMap()) {
    return error("expected a single value, found a mapping");
  }
  if (node_.IsSequence()) {
    return error("expected a single value, found a list");
  }
  auto expanded = expandEnv(node_.Scalar());
  if (!expanded) {
    return error(expanded.error().message);
  }
  return std::move(expanded).value();
}

// ---------------------------------------------------------------------------------------------
// MapReader

MapReader::MapReader(const ConfigNode& node) : node_(node) {
  if (node_.defined() && !node_.isMap() && !node_.yaml().IsNull()) {
    fail(node_.error("expected a mapping (key: value pairs)"));
  }
}

std::string MapReader::string(std::string_view key, std::string def) {
  ConfigNode n;
  std::string text;
  if (!readScalar(key, n, text)) {
    return def;
  }
  return text;
}

std::string MapReader::requiredString(std::string_view key) {
  known_.emplace(key);
  ConfigNode n = node_[key];
  if (!n.defined()) {
    std::vector<std::string> present = node_.keys();
    auto typo = didYouMean(key, {present.begin(), present.end()});
    fail(n.error(typo ? fmt::format("missing required key (is '{}' a typo for it?)", *typo)
                      : std::string("missing required key")));
    return {};
  }
  std::string v = string(key);
  if (v.empty() && status().isOk()) {
    fail(n.error("must not be empty"));
  }
  return v;
}

std::optional<std::string> MapReader::optionalString(std::string_view key) {
  known_.emplace(key);
  if (!node_[key].defined()) {
    return std::nullopt;
  }
  return string(key);
}

bool MapReader::readScalar(std::string_view key, ConfigNode& node, std::string& text) {
  known_.emplace(key);
  node = node_[key];
  if (!node.defined()) {
    return false;
  }
  auto v = node.scalar();
  if (!v) {
    fail(v.error());
    return false;
  }
  text = std::move(v).value();
  return true;
}

bool MapReader::boolean(std::string_view key, bool def) {
  ConfigNode n;
  std::string text;
  if (!readScalar(key, n, text)) {
    return def;
  }
  std::string s = asciiLower(text);
  if (s == "true" || s == "yes" || s == "on") {
    return true;
  }
  if (s == "false" || s == "no" || s == "off") {
    return false;
  }
  fail(n.error("expected a boolean: true or false (also yes/no, on/off)"));
  return def;
}

std::int64_t MapReader::integer(std::string_view key, std::int64_t def, std::int64_t min,
                                std::int64_t max) {
  ConfigNode n;
  std::string text;
  if (!readScalar(key, n, text)) {
    return def;
  }
  std::string_view s = trimSpaces(text);
  std::int64_t out = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
    fail(n.error(ec == std::errc::result_out_of_range ? "integer out of range"
                                                      : "expected an integer"));
    return def;
  }
  if (out < min || out > max) {
    if (max == std::numeric_limits<std::int64_t>::max()) {
      fail(n.error(fmt::format("must be at least {}", min)));
    } else {
      fail(n.error(fmt::format("must be between {} and {}", min, max)));
    }
    return def;
  }
  return out;
}

template <class T, class Parse, class Format>
T MapReader::ranged(std::string_view key, T def, T min, T max, Parse parse,
                    std::string_view expected, Format format) {
  ConfigNode n;
  std::string text;
  if (!readScalar(key, n, text)) {
    return def;
  }
  auto out = parse(text);
  if (!out) {
    fail(n.error(expected));
    return def;
  }
  if (*out < min) {
    fail(n.error(fmt::format("must be at least {}", format(min))));
    return def;
  }
  if (*out > max) {
    fail(n.error(fmt::format("must be at most {}", format(max))));
    return def;
  }
  return *out;
}

std::uint64_t MapReader::size(std::string_view key, std::uint64_t def, std::uint64_t min,
                              std::uint64_t max) {
  return ranged(key, def, min, max, parseSize,
                "expected a size such as 4MiB, 512KiB, 10MB or 1024 (bytes)", formatSize);
}

std::chrono::milliseconds MapReader::duration(std::string_view key, std::chrono::milliseconds def,
                                              std::chrono::milliseconds min,
                                              std::chrono::milliseconds max) {
  return ranged(key, def, min, max, parseDuration,
                "expected a duration such as 500ms, 5s, 2m, 1h or 1m30s", formatDuration);
}

std::vector<std::string> MapReader::stringList(std::string_view key) {
  known_.emplace(key);
  ConfigNode n = node_[key];
  std::vector<std::string> out;
  if (!n.defined()) {
    return out;
  }
  if (n.isScalar()) {
    auto v = n.scalar();
    if (!v) {
      fail(v.error());
      return {};
    }
    out.push_back(std::move(v).value());
    return out;
  }
  if (!n.isSequence()) {
    fail(n.error("expected a string or a list of strings"));
    return {};
  }
  for (const ConfigNode& e : n.elements()) {
    if (!e.isScalar()) {
      fail(e.error("expected a string"));
      return {};
    }
    auto v = e.scalar();
    if (!v) {
      fail(v.error());
      return {};
    }
    out.push_back(std::move(v).value());
  }
  return out;
}

std::optional<Error> nulInPath(const ConfigNode& node, std::string_view value) {
  if (value.find('\0') == std::string_view::npos) {
    return std::nullopt;
  }
  return node.error("contains a NUL byte (\\0); a path cannot hold one");
}

std::string MapReader::path(std::string_view key, std::string def) {
  ConfigNode n;
  std::string text;
  if (!readScalar(key, n, text)) {
    return def;
  }
  if (auto e = nulInPath(n, text)) {
    fail(std::move(*e));
    return def;
  }
  return text;
}

std::vector<std::string> MapReader::pathList(std::string_view key) {
  std::vector<std::string> out = stringList(key);
  ConfigNode n = node_[key];
  std::vector<ConfigNode> elements = n.elements();  // empty for a single scalar
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (auto e = nulInPath(i < elements.size() ? elements[i] : n, out[i])) {
      fail(std::move(*e));
      return {};
    }
  }
  return out;
}

std::string MapReader::oneOf(std::string_view key, std::string def,
                             std::initializer_list<std::string_view> allowed) {
  ConfigNode n;
  std::string text;
  if (!readScalar(key, n, text)) {
    return def;
  }
  for (std::string_view a : allowed) {
    if (a == text) {
      return text;
    }
  }
  fail(n.error(fmt::format("expected one of: {}", fmt::join(allowed, ", "))));
  return def;
}

MapReader::Secret MapReader::secret(std::string_view key) {
  std::string file_key = fmt::format("{}_file", key);
  known_.emplace(key);
  known_.emplace(file_key);
  ConfigNode value_node = node_[key];
  ConfigNode file_node = node_[file_key];
  Secret out;
  if (value_node.defined() && file_node.defined()) {
    fail(file_node.error(fmt::format("set either '{}' or '{}', not both", key, file_key)));
    return out;
  }
  // The value is never quoted in an error: scalar()'s messages name only the key and, for an
  // unset ${VAR}, the variable.
  if (value_node.defined()) {
    out.value = string(key);
  } else if (file_node.defined()) {
    out.file = path(file_key);
    if (out.file.empty() && status().isOk()) {
      fail(file_node.error("must not be empty"));
    }
  }
  return out;
}

ConfigNode MapReader::child(std::string_view key) {
  known_.emplace(key);
  return node_[key];
}

void MapReader::allow(std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    known_.emplace(k);
  }
}

bool MapReader::has(std::string_view key) const { return node_[key].defined(); }

void MapReader::fail(Error error) {
  if (!first_error_) {
    first_error_ = std::move(error);
  }
}

Status MapReader::status() const {
  if (first_error_) {
    return *first_error_;
  }
  return Status::ok();
}

Status MapReader::finish() {
  // Unknown keys first: a misspelt key usually causes the other errors (a required key seems
  // missing, a default does not fit), and "did you mean" points right at the cause.
  if (!node_.isMap()) {
    return status();
  }
  auto file = std::make_shared<const std::string>(node_.file());
  std::set<std::string, std::less<>> seen;
  for (const Entry& e : entriesOf(node_.yaml())) {
    ConfigNode key_node(e.key, file, node_.path());
    if (!e.key.IsScalar()) {
      return key_node.error("keys must be plain strings");
    }
    const std::string& key = e.key.Scalar();
    if (!seen.insert(key).second) {
      return key_node.error(fmt::format("duplicate key '{}'", key));
    }
    if (known_.count(key) == 0 && key == "<<") {
      return key_node.error(
          "YAML merge keys ('<<') are not supported; use an alias for a whole value instead "
          "(e.g. 'auth: *adx_auth')");
    }
    if (known_.count(key) == 0) {
      auto hint = didYouMean(key, known_);
      if (hint) {
        return key_node.error(fmt::format("unknown key '{}' (did you mean '{}'?)", key, *hint));
      }
      return key_node.error(
          fmt::format("unknown key '{}' (known keys: {})", key, fmt::join(known_, ", ")));
    }
  }
  return status();
}

}  // namespace ingestd
