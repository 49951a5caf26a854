// Ingestion mappings: parsing the JSON text of `.create ... ingestion K mapping` into a
// structure the decoders use, and evaluating JSON paths ($.a.b, $['x'], $.a[0], $).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "values.h"

namespace kusto_local {

enum class Transform {
  kNone,
  kSourceLineNumber,
  kSourceLocation,
  kDateTimeFromUnixSeconds,
  kDateTimeFromUnixMilliseconds,
  kDateTimeFromUnixMicroseconds,
  kDateTimeFromUnixNanoseconds,
  kPropertyBagArrayToDictionary,
};

struct PathStep {
  bool is_index = false;
  std::string key;
  std::size_t index = 0;
};

struct MappingColumn {
  std::string column;
  std::optional<ColumnType> datatype;  // informational only (Kusto uses it to create columns)
  std::optional<std::vector<PathStep>> path;  // json kinds
  std::optional<std::size_t> ordinal;         // csv kinds
  std::optional<std::string> const_value;
  Transform transform = Transform::kNone;
};

struct ParsedMapping {
  std::string kind;  // "csv", "json", ...
  std::vector<MappingColumn> columns;
};

struct MappingParse {
  std::optional<ParsedMapping> mapping;
  std::string error;
};

// Property names are case-insensitive; "Properties" may be an object or a JSON string, and the
// legacy flat forms ({"Name"|"column", "path", "Ordinal", ...}) are accepted too.
MappingParse parseMapping(std::string_view kind, std::string_view json_text);

std::optional<std::vector<PathStep>> parseJsonPath(std::string_view path);
// nullptr when the path does not exist in the document.
const nlohmann::json* evalJsonPath(const nlohmann::json& doc, const std::vector<PathStep>& path);

}  // namespace kusto_local
