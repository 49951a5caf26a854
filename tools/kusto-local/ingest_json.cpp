// Ingest decoding for json (JSON Lines), multijson and singlejson bodies (see ingest_formats.h).
#include <fmt/format.h>

#include "ingest_rows.h"

namespace kusto_local {
namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::optional<double> numberOf(const nlohmann::json& v) {
  if (v.is_number()) {
    return v.get<double>();
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) {
      return d;
    }
  }
  return std::nullopt;
}

nlohmann::json bagArrayToDictionary(const nlohmann::json& v) {
  if (!v.is_array()) {
    return v;
  }
  nlohmann::json merged = nlohmann::json::object();
  for (const auto& el : v) {
    if (el.is_object()) {
      merged.update(el);
    }
  }
  return merged;
}

Value mappedJsonValue(const MappingColumn& mc, ColumnType type, const nlohmann::json& doc,
                      std::size_t line_no) {
  if (mc.transform == Transform::kSourceLineNumber) {
    return valueFromJson(type, line_no);
  }
  if (mc.transform == Transform::kSourceLocation) {
    return valueFromText(type, "");
  }
  const nlohmann::json* v = mc.path ? evalJsonPath(doc, *mc.path) : nullptr;
  if (v == nullptr) {
    return mc.const_value ? valueFromText(type, *mc.const_value) : valueFromJson(type, nullptr);
  }
  if (isUnixTimeTransform(mc.transform)) {
    auto number = numberOf(*v);
    return number ? transformNumber(type, mc.transform, *number) : valueFromJson(type, nullptr);
  }
  if (mc.transform == Transform::kPropertyBagArrayToDictionary) {
    return valueFromJson(type, bagArrayToDictionary(*v));
  }
  return valueFromJson(type, *v);
}

// Adds one record; returns an error text when the record cannot be used.
std::string addJsonRecord(RowBuilder& rows, const nlohmann::json& doc, std::size_t line_no) {
  const auto& schema = rows.schema();
  const ParsedMapping* mapping = rows.mapping();
  if (mapping == nullptr && !doc.is_object()) {
    return fmt::format("the record on line {} is not a JSON object", line_no);
  }
  auto& row = rows.newRow();
  if (mapping != nullptr) {
    for (std::size_t i = 0; i < mapping->columns.size(); ++i) {
      std::size_t idx = rows.target(i);
      row[idx] = mappedJsonValue(mapping->columns[i], schema[idx].type, doc, line_no);
    }
  } else {
    for (std::size_t i = 0; i < schema.size(); ++i) {
      auto it = doc.find(schema[i].name);
      if (it != doc.end()) {
        row[i] = valueFromJson(schema[i].type, *it);
      }
    }
  }
  rows.commitRow();
  return "";
}

DecodedRows wrongFormat(std::string detail) {
  return decodeError("BadRequest_NoRecordsOrWrongFormat",
                     "BadRequest_NoRecordsOrWrongFormat: " + std::move(detail));
}

DecodedRows decodeJsonLines(std::string_view data, RowBuilder& rows) {
  std::size_t pos = 0;
  std::size_t line_no = 0;
  while (pos < data.size()) {
    std::size_t nl = data.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? data.size() : nl;
    std::string_view line = data.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    std::size_t first = 0;
    while (first < line.size() && isSpace(line[first])) {
      ++first;
    }
    if (first == line.size()) {
      continue;
    }
    auto doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded()) {
      return wrongFormat(fmt::format("line {} is not valid JSON", line_no));
    }
    if (auto error = addJsonRecord(rows, doc, line_no); !error.empty()) {
      return wrongFormat(error);
    }
  }
  return rows.finish();
}

DecodedRows decodeMultiJson(std::string_view data, RowBuilder& rows) {
  std::vector<std::string_view> values;
  if (!splitJsonValues(data, values)) {
    return wrongFormat("unterminated JSON value");
  }
  std::size_t line_no = 1;
  const char* counted = data.data();
  for (auto value : values) {
    for (; counted < value.data(); ++counted) {
      line_no += *counted == '\n' ? 1 : 0;
    }
    auto doc = nlohmann::json::parse(value, nullptr, false);
    if (doc.is_discarded()) {
      return wrongFormat(fmt::format("the JSON value starting on line {} is not valid", line_no));
    }
    if (doc.is_array()) {
      for (const auto& el : doc) {
        if (auto error = addJsonRecord(rows, el, line_no); !error.empty()) {
          return wrongFormat(error);
        }
      }
    } else if (auto error = addJsonRecord(rows, doc, line_no); !error.empty()) {
      return wrongFormat(error);
    }
  }
  return rows.finish();
}

DecodedRows decodeSingleJson(std::string_view data, RowBuilder& rows) {
  std::size_t first = 0;
  while (first < data.size() && isSpace(data[first])) {
    ++first;
  }
  if (first == data.size()) {
    return rows.finish();
  }
  auto doc = nlohmann::json::parse(data, nullptr, false);
  if (doc.is_discarded()) {
    return wrongFormat("the body is not one valid JSON value");
  }
  if (auto error = addJsonRecord(rows, doc, 1); !error.empty()) {
    return wrongFormat(error);
  }
  return rows.finish();
}

}  // namespace

bool splitJsonValues(std::string_view data, std::vector<std::string_view>& out) {
  std::size_t i = 0;
  while (true) {
    while (i < data.size() && isSpace(data[i])) {
      ++i;
    }
    if (i >= data.size()) {
      return true;
    }
    std::size_t start = i;
    char c = data[i];
    if (c == '{' || c == '[') {
      int depth = 0;
      bool in_string = false;
      for (; i < data.size(); ++i) {
        char d = data[i];
        if (in_string) {
          if (d == '\\') {
            ++i;
          } else if (d == '"') {
            in_string = false;
          }
        } else if (d == '"') {
          in_string = true;
        } else if (d == '{' || d == '[') {
          ++depth;
        } else if (d == '}' || d == ']') {
          if (--depth == 0) {
            ++i;
            break;
          }
        }
      }
      if (depth != 0 || i > data.size()) {
        return false;
      }
    } else {
      // A scalar or garbage: up to the next whitespace or container; the parser judges it.
      while (i < data.size() && !isSpace(data[i]) && data[i] != '{' && data[i] != '[') {
        ++i;
      }
    }
    out.push_back(data.substr(start, std::min(i, data.size()) - start));
  }
}

DecodedRows decodeJsonRecords(DataFormat format, std::string_view data, RowBuilder& rows) {
  switch (format) {
    case DataFormat::kMultiJson: return decodeMultiJson(data, rows);
    case DataFormat::kSingleJson: return decodeSingleJson(data, rows);
    default: return decodeJsonLines(data, rows);
  }
}

}  // namespace kusto_local
