// Streaming-ingest decoding: csv/tsv/tsve/psv/scsv/sohsv/json/multijson/singlejson/txt/raw
// bodies -> typed column vectors, through a mapping or the identity mapping. Pure functions:
// the engine runs them outside its lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mapping.h"
#include "responses.h"
#include "values.h"

namespace kusto_local {

enum class DataFormat {
  kCsv,
  kTsv,
  kTsve,
  kPsv,
  kScsv,
  kSohsv,
  kJson,
  kMultiJson,
  kSingleJson,
  kTxt,
  kRaw,
};

// Case-insensitive; nullopt for unknown or unsupported (avro, parquet, orc, ...) formats.
std::optional<DataFormat> parseDataFormat(std::string_view name);
bool isJsonFormat(DataFormat format);
// The mapping kind a format needs: "json" for json kinds, "csv" for the delimited/text kinds.
std::string_view mappingKindFor(DataFormat format);

struct DecodeError {
  std::string code;     // catalogue code, e.g. Stream_WrongNumberOfFields
  std::string message;  // detail for @message
};

struct DecodedRows {
  std::vector<std::vector<Value>> columns;  // one vector per schema column, all of size rows
  std::size_t rows = 0;
  std::optional<DecodeError> error;
};

// Decodes every record or fails as a whole (no partial ingest). mapping may be null
// (identity mapping: JSON by exact column name, delimited formats by column order).
DecodedRows decodeRecords(DataFormat format, std::string_view data,
                          const std::vector<ColumnSpec>& schema, const ParsedMapping* mapping);

// Cheap record count without decoding: newline count for line formats, top-level objects for
// multijson, 1 for singlejson/raw.
std::uint64_t countRecordsFast(std::string_view format, std::string_view data);

// Splits a multijson body into top-level JSON values (whitespace separated); light scanner that
// tracks strings and nesting only. Returns false on an unterminated value.
bool splitJsonValues(std::string_view data, std::vector<std::string_view>& out);

}  // namespace kusto_local
