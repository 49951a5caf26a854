// The in-memory Kusto model: databases, tables (typed columns stored as per-column vectors),
// ingestion mappings and streaming-ingestion policies. Plain data; Engine guards it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine.h"
#include "mapping.h"
#include "responses.h"
#include "values.h"

namespace kusto_local {

struct StoredMapping {
  std::string name;
  std::string kind;                             // lowercase: csv, json, ...
  std::string text;                             // the mapping JSON as given (compacted)
  std::shared_ptr<const ParsedMapping> parsed;  // shared so ingest can snapshot it cheaply
  std::string last_updated;
};

struct Column {
  std::string name;
  ColumnType type = ColumnType::kString;
  std::vector<Value> data;  // size == Table::rows
};

struct Table {
  std::uint64_t id = 0;  // names the row file when persisted
  std::string name;
  std::string folder;
  std::string docstring;
  std::vector<Column> columns;
  std::size_t rows = 0;
  std::optional<nlohmann::json> policy;  // streaming-ingestion policy object
  std::vector<StoredMapping> mappings;
  TableStats stats;

  std::vector<ColumnSpec> schema() const;
  std::string cslSchema() const;      // a:string,b:long
  nlohmann::json schemaJson() const;  // {"Name","OrderedColumns":[{Name,Type,CslType}]}
  void addColumn(std::string name, ColumnType type);  // existing rows get nulls
};

struct Database {
  std::string name;
  bool is_volatile = false;
  std::optional<nlohmann::json> policy;
  std::vector<StoredMapping> mappings;
  std::map<std::string, Table> tables;  // names are case-sensitive, as in Kusto
};

struct Catalog {
  std::map<std::string, Database> databases;
  std::uint64_t next_table_id = 1;
};

// Finds a mapping by name; kind empty matches any kind.
const StoredMapping* findMapping(const std::vector<StoredMapping>& list, std::string_view kind,
                                 std::string_view name);
// A null cell for a column type ("" for strings, which Kusto never stores as null).
Value defaultValue(ColumnType type);

}  // namespace kusto_local
