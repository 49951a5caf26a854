// Response bodies: v1 datasets (management commands, /v1/rest/query, ingest success),
// v2 frame arrays (/v2/rest/query) and the OneApi error object.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine.h"
#include "values.h"

namespace kusto_local {

struct ColumnSpec {
  std::string name;
  ColumnType type = ColumnType::kString;
};

// The generic OneApi "message" for a status ("Request is invalid and cannot be executed.").
std::string_view genericErrorMessage(int http_status);

// One v1 table: {TableName, Columns:[{ColumnName, DataType, ColumnType}], Rows}.
nlohmann::json v1Table(std::string_view table_name, const std::vector<ColumnSpec>& columns,
                       nlohmann::json rows);
// {"Tables":[Table_0]}: what management commands return.
nlohmann::json v1SingleTable(const std::vector<ColumnSpec>& columns, nlohmann::json rows);
// A v1 query answer: Table_0 result, Table_1 QueryProperties, Table_2 QueryStatus and the
// Table_3 TableOfContents that SDK v1 parsers need once there are three or more tables.
nlohmann::json v1QueryDataset(const std::vector<ColumnSpec>& columns, nlohmann::json rows);
// v2 frames: DataSetHeader, QueryProperties, PrimaryResult, QueryCompletionInformation,
// DataSetCompletion.
nlohmann::json v2QueryFrames(const std::vector<ColumnSpec>& columns, nlohmann::json rows);
// The streaming-ingest success body ({ConsumedRecordsCount, UpdatePolicyStatus, ...}).
nlohmann::json ingestSuccessBody(std::uint64_t records);

// A random (version 4) GUID in lowercase 8-4-4-4-12 form.
std::string newGuid();
// Current UTC time in the datetime output format.
std::string nowDateTime();

}  // namespace kusto_local
