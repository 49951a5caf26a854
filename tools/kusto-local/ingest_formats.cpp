// Ingest decoding for delimited and text formats, the shared row builder and the cheap record
// counter used in --discard mode (see ingest_formats.h).
#include "ingest_formats.h"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "ingest_rows.h"
#include "lexer.h"

namespace kusto_local {
namespace {

struct FormatName {
  std::string_view name;
  DataFormat format;
};

constexpr FormatName kFormats[] = {
    {"csv", DataFormat::kCsv},
    {"tsv", DataFormat::kTsv},
    {"tsve", DataFormat::kTsve},
    {"psv", DataFormat::kPsv},
    {"scsv", DataFormat::kScsv},
    {"sohsv", DataFormat::kSohsv},
    {"json", DataFormat::kJson},
    {"multijson", DataFormat::kMultiJson},
    {"singlejson", DataFormat::kSingleJson},
    {"txt", DataFormat::kTxt},
    {"raw", DataFormat::kRaw},
};

char delimiterOf(DataFormat format) {
  switch (format) {
    case DataFormat::kTsv:
    case DataFormat::kTsve: return '\t';
    case DataFormat::kPsv: return '|';
    case DataFormat::kScsv: return ';';
    case DataFormat::kSohsv: return '\x01';
    default: return ',';
  }
}

std::string_view stripBom(std::string_view data) {
  if (data.size() >= 3 && data.substr(0, 3) == "\xEF\xBB\xBF") {
    data.remove_prefix(3);
  }
  return data;
}

// Reads one delimited record (RFC 4180 quoting, CRLF or LF; empty lines skipped).
class DelimitedReader {
 public:
  DelimitedReader(std::string_view data, char delim, bool backslash_escapes)
      : s_(data), delim_(delim), escapes_(backslash_escapes) {}

  // false at the end of data or on error (error() non-empty).
  bool next(std::vector<std::string>& fields) {
    fields.clear();
    skipEmptyLines();
    if (pos_ >= s_.size()) {
      return false;
    }
    record_line_ = line_;
    while (true) {
      fields.emplace_back();
      if (!readField(fields.back())) {
        return false;
      }
      if (pos_ >= s_.size()) {
        return true;
      }
      char c = s_[pos_];
      if (c == delim_) {
        ++pos_;
        continue;
      }
      if (c == '\r') {
        ++pos_;
      }
      if (pos_ < s_.size() && s_[pos_] == '\n') {
        ++pos_;
      }
      ++line_;
      return true;
    }
  }

  std::size_t recordLine() const { return record_line_; }
  const std::string& error() const { return error_; }

 private:
  void skipEmptyLines() {
    while (pos_ < s_.size()) {
      if (s_[pos_] == '\n') {
        ++pos_;
      } else if (s_[pos_] == '\r' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n') {
        pos_ += 2;
      } else {
        return;
      }
      ++line_;
    }
  }

  bool readField(std::string& field) {
    if (!escapes_ && pos_ < s_.size() && s_[pos_] == '"') {
      return readQuoted(field);
    }
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == delim_ || c == '\n' ||
          (c == '\r' && (pos_ + 1 == s_.size() || s_[pos_ + 1] == '\n'))) {
        break;
      }
      if (escapes_ && c == '\\' && pos_ + 1 < s_.size()) {
        char e = s_[pos_ + 1];
        field += e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e;
        pos_ += 2;
        continue;
      }
      field += c;
      ++pos_;
    }
    return true;
  }

  bool readQuoted(std::string& field) {
    std::size_t start_line = line_;
    ++pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') {
        if (pos_ < s_.size() && s_[pos_] == '"') {
          field += '"';
          ++pos_;
          continue;
        }
        // Kusto keeps text between the closing quote and the delimiter; so do we.
        while (pos_ < s_.size() && s_[pos_] != delim_ && s_[pos_] != '\n' && s_[pos_] != '\r') {
          field += s_[pos_++];
        }
        return true;
      }
      if (c == '\n') {
        ++line_;
      }
      field += c;
    }
    error_ = fmt::format(
        "Invalid CSV format: closing quote missing for the field that starts "
        "on line {}",
        start_line + 1);
    return false;
  }

  std::string_view s_;
  char delim_;
  bool escapes_;
  std::size_t pos_ = 0;
  std::size_t line_ = 0;
  std::size_t record_line_ = 0;
  std::string error_;
};

Value mappedTextValue(const MappingColumn& mc, ColumnType type,
                      const std::vector<std::string>& fields, std::size_t line_no) {
  if (mc.transform == Transform::kSourceLineNumber) {
    return valueFromText(type, std::to_string(line_no));
  }
  if (mc.transform == Transform::kSourceLocation) {
    return valueFromText(type, "");
  }
  if (!mc.ordinal || *mc.ordinal >= fields.size()) {
    return mc.const_value ? valueFromText(type, *mc.const_value) : valueFromJson(type, nullptr);
  }
  const std::string& field = fields[*mc.ordinal];
  if (isUnixTimeTransform(mc.transform)) {
    char* end = nullptr;
    double number = std::strtod(field.c_str(), &end);
    if (field.empty() || end != field.c_str() + field.size()) {
      return valueFromJson(type, nullptr);
    }
    return transformNumber(type, mc.transform, number);
  }
  return valueFromText(type, field);
}

DecodedRows decodeDelimited(DataFormat format, std::string_view data, RowBuilder& rows) {
  DelimitedReader reader(data, delimiterOf(format), format == DataFormat::kTsve);
  std::vector<std::string> fields;
  const auto& schema = rows.schema();
  const ParsedMapping* mapping = rows.mapping();
  std::size_t expected = mapping != nullptr ? 0 : schema.size();
  while (reader.next(fields)) {
    std::size_t line_no = reader.recordLine() + 1;
    if (expected == 0) {
      expected = fields.size();  // with a mapping, every record must match the first one
    }
    if (fields.size() != expected) {
      return decodeError("Stream_WrongNumberOfFields",
                         fmt::format("Stream_WrongNumberOfFields: the record on line {} has {} "
                                     "fields, expected {}{}",
                                     line_no, fields.size(), expected,
                                     mapping != nullptr ? " (as the first record)"
                                                        : " (the table's column count)"));
    }
    auto& row = rows.newRow();
    if (mapping != nullptr) {
      for (std::size_t i = 0; i < mapping->columns.size(); ++i) {
        std::size_t idx = rows.target(i);
        row[idx] = mappedTextValue(mapping->columns[i], schema[idx].type, fields, line_no);
      }
    } else {
      for (std::size_t i = 0; i < schema.size(); ++i) {
        row[i] = valueFromText(schema[i].type, fields[i]);
      }
    }
    rows.commitRow();
  }
  if (!reader.error().empty()) {
    return decodeError("Stream_ClosingQuoteMissing", reader.error());
  }
  return rows.finish();
}

void addTextRecord(RowBuilder& rows, std::string_view text, std::size_t line_no) {
  const auto& schema = rows.schema();
  const ParsedMapping* mapping = rows.mapping();
  auto& row = rows.newRow();
  if (mapping == nullptr) {
    row[0] = valueFromText(schema[0].type, text);
  } else {
    std::vector<std::string> fields{std::string(text)};
    for (std::size_t i = 0; i < mapping->columns.size(); ++i) {
      std::size_t idx = rows.target(i);
      row[idx] = mappedTextValue(mapping->columns[i], schema[idx].type, fields, line_no);
    }
  }
  rows.commitRow();
}

DecodedRows decodeText(DataFormat format, std::string_view data, RowBuilder& rows) {
  if (format == DataFormat::kRaw) {
    if (!data.empty()) {
      addTextRecord(rows, data, 1);
    }
    return rows.finish();
  }
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < data.size()) {
    std::size_t nl = data.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? data.size() : nl;
    std::string_view line = data.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    ++line_no;
    pos = end + 1;
    if (!line.empty()) {
      addTextRecord(rows, line, line_no);
    }
  }
  return rows.finish();
}

}  // namespace

RowBuilder::RowBuilder(const std::vector<ColumnSpec>& schema, const ParsedMapping* mapping)
    : schema_(schema), mapping_(mapping) {
  out_.columns.resize(schema.size());
  if (mapping == nullptr) {
    return;
  }
  for (const auto& mc : mapping->columns) {
    std::size_t idx = schema.size();
    for (std::size_t i = 0; i < schema.size(); ++i) {
      if (schema[i].name == mc.column) {
        idx = i;
        break;
      }
    }
    if (idx == schema.size()) {
      mapping_error_ =
          fmt::format("Mapping column '{}' does not exist in the table schema", mc.column);
      return;
    }
    targets_.push_back(idx);
  }
}

std::vector<Value>& RowBuilder::newRow() {
  row_.assign(schema_.size(), Value());
  for (std::size_t i = 0; i < schema_.size(); ++i) {
    if (schema_[i].type == ColumnType::kString) {
      row_[i] = std::string();
    }
  }
  return row_;
}

void RowBuilder::commitRow() {
  for (std::size_t i = 0; i < row_.size(); ++i) {
    out_.columns[i].push_back(std::move(row_[i]));
  }
  ++out_.rows;
}

DecodedRows RowBuilder::finish() { return std::move(out_); }

bool isUnixTimeTransform(Transform transform) {
  return transform == Transform::kDateTimeFromUnixSeconds ||
         transform == Transform::kDateTimeFromUnixMilliseconds ||
         transform == Transform::kDateTimeFromUnixMicroseconds ||
         transform == Transform::kDateTimeFromUnixNanoseconds;
}

Value transformNumber(ColumnType type, Transform transform, double number) {
  double factor = 1.0;
  switch (transform) {
    case Transform::kDateTimeFromUnixSeconds: factor = 1e7; break;
    case Transform::kDateTimeFromUnixMilliseconds: factor = 1e4; break;
    case Transform::kDateTimeFromUnixMicroseconds: factor = 10; break;
    case Transform::kDateTimeFromUnixNanoseconds: factor = 0.01; break;
    default: return valueFromJson(type, number);
  }
  double ticks = std::round(number * factor);
  if (!std::isfinite(ticks) || std::fabs(ticks) > 9.0e18) {
    return valueFromJson(type, nullptr);
  }
  auto t = static_cast<std::int64_t>(ticks);
  if (type == ColumnType::kDateTime) {
    return t;
  }
  return valueFromText(type, formatDateTime(t));
}

DecodedRows decodeError(std::string code, std::string message) {
  DecodedRows out;
  out.error = DecodeError{std::move(code), std::move(message)};
  return out;
}

std::optional<DataFormat> parseDataFormat(std::string_view name) {
  for (const auto& f : kFormats) {
    if (iequals(f.name, name)) {
      return f.format;
    }
  }
  return std::nullopt;
}

bool isJsonFormat(DataFormat format) {
  return format == DataFormat::kJson || format == DataFormat::kMultiJson ||
         format == DataFormat::kSingleJson;
}

std::string_view mappingKindFor(DataFormat format) { return isJsonFormat(format) ? "json" : "csv"; }

DecodedRows decodeRecords(DataFormat format, std::string_view data,
                          const std::vector<ColumnSpec>& schema, const ParsedMapping* mapping) {
  RowBuilder rows(schema, mapping);
  if (!rows.mappingError().empty()) {
    return decodeError("BadRequest_InconsistentMapping", rows.mappingError());
  }
  if (schema.empty()) {
    return decodeError("BadRequest_InconsistentMapping", "the table has no columns");
  }
  data = stripBom(data);
  if (isJsonFormat(format)) {
    return decodeJsonRecords(format, data, rows);
  }
  if (format == DataFormat::kTxt || format == DataFormat::kRaw) {
    return decodeText(format, data, rows);
  }
  return decodeDelimited(format, data, rows);
}

std::uint64_t countRecordsFast(std::string_view format, std::string_view data) {
  if (data.empty()) {
    return 0;
  }
  auto parsed = parseDataFormat(format);
  if (parsed == DataFormat::kSingleJson || parsed == DataFormat::kRaw) {
    return 1;
  }
  if (parsed == DataFormat::kMultiJson) {
    std::uint64_t count = 0;
    int depth = 0;
    bool in_string = false;
    bool top_array = false;
    for (std::size_t i = 0; i < data.size(); ++i) {
      char c = data[i];
      if (in_string) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        if (depth == 0) {
          top_array = c == '[';
        }
        if (c == '{' && (depth == 0 || (depth == 1 && top_array))) {
          ++count;
        }
        ++depth;
      } else if ((c == '}' || c == ']') && depth > 0) {
        --depth;
      }
    }
    return count;
  }
  std::uint64_t lines = 0;
  const char* p = data.data();
  const char* end = data.data() + data.size();
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
    if (nl == nullptr) {
      break;
    }
    ++lines;
    p = static_cast<const char*>(nl) + 1;
  }
  return data.back() == '\n' ? lines : lines + 1;
}

}  // namespace kusto_local
