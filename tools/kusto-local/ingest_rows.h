// Internal to the ingest decoders: accumulates typed rows into column vectors and resolves a
// mapping's target columns against the table schema once per request.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ingest_formats.h"

namespace kusto_local {

class RowBuilder {
 public:
  RowBuilder(const std::vector<ColumnSpec>& schema, const ParsedMapping* mapping);

  // Non-empty when the mapping names a column the table does not have.
  const std::string& mappingError() const { return mapping_error_; }
  const std::vector<ColumnSpec>& schema() const { return schema_; }
  const ParsedMapping* mapping() const { return mapping_; }
  // Schema index of mapping column i.
  std::size_t target(std::size_t i) const { return targets_[i]; }

  // Starts a row with every cell at its default ("" for string columns, null otherwise).
  std::vector<Value>& newRow();
  void commitRow();
  DecodedRows finish();

 private:
  const std::vector<ColumnSpec>& schema_;
  const ParsedMapping* mapping_;
  std::vector<std::size_t> targets_;
  std::string mapping_error_;
  std::vector<Value> row_;
  DecodedRows out_;
};

// Converts a mapped value honouring the DateTimeFromUnix* transforms.
Value transformNumber(ColumnType type, Transform transform, double number);
bool isUnixTimeTransform(Transform transform);

DecodedRows decodeJsonRecords(DataFormat format, std::string_view data, RowBuilder& rows);
DecodedRows decodeError(std::string code, std::string message);

}  // namespace kusto_local
