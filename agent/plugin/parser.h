// Parser: turns one raw record (a line or a socket frame, without its terminator) into named
// fields. Parsers are plugins (plugins/parsers/<name>/) that tail and socket inputs name in
// `parser:`; the encode stage calls them on the worker pool, so parse() is const and may run on
// several threads at once. A record that does not parse is the caller's to keep whole in
// `message` and count (ingestd_input_parse_errors_total); a parser never drops one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ingestd {

// The fields of one parsed record, reused from record to record (clear() keeps the capacity,
// so steady state allocates nothing). Keys and string values are kept as raw bytes; the encoder
// escapes them for the output format (and repairs invalid UTF-8, counted) when it writes the
// row. Header-only: the encoder (core) and the parsers (plugins) share it.
class ParsedRecord {
 public:
  enum class Kind : std::uint8_t {
    kString,  // raw text, any bytes
    kJson,    // valid JSON text the parser built (a number, true/false/null, object, array)
  };

  void clear() {
    buf_.clear();
    fields_.clear();
    time_unix_ns.reset();
  }

  void addString(std::string_view key, std::string_view raw) { add(key, raw, Kind::kString); }
  // The caller guarantees `json` is one valid JSON value.
  void addJson(std::string_view key, std::string_view json) { add(key, json, Kind::kJson); }

  std::size_t size() const { return fields_.size(); }
  std::string_view key(std::size_t i) const {
    return {buf_.data() + fields_[i].begin, fields_[i].key_len};
  }
  std::string_view value(std::size_t i) const {
    return {buf_.data() + fields_[i].begin + fields_[i].key_len, fields_[i].value_len};
  }
  Kind kind(std::size_t i) const { return fields_[i].kind; }
  // The first field named `key`, if any.
  std::optional<std::size_t> find(std::string_view key) const {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
      if (this->key(i) == key) {
        return i;
      }
    }
    return std::nullopt;
  }

  // The record's own time (from the message), UTC; unset = the time it was read. Parsers set
  // it instead of adding a "timestamp" field, so every format shows one timestamp.
  std::optional<std::int64_t> time_unix_ns;

 private:
  struct Field {
    std::size_t begin;
    std::uint32_t key_len;
    std::uint32_t value_len;
    Kind kind;
  };
  void add(std::string_view key, std::string_view value, Kind kind) {
    fields_.push_back(Field{buf_.size(), static_cast<std::uint32_t>(key.size()),
                            static_cast<std::uint32_t>(value.size()), kind});
    buf_.append(key);
    buf_.append(value);
  }

  std::string buf_;
  std::vector<Field> fields_;
};

class Parser {
 public:
  virtual ~Parser() = default;
  // Fills `out` (cleared by the caller) with the fields of `record`. Returns false when the
  // record is not in this parser's format; `out` is then ignored.
  virtual bool parse(std::string_view record, ParsedRecord& out) const = 0;
  virtual std::string_view name() const = 0;
};

}  // namespace ingestd
