// Control-command parser: text of a management request -> a Command struct. Pure (no engine
// state), so it is unit-tested and fuzzed on its own. Keywords are case-insensitive; names may
// be bracketed (['x'], ["x"]).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "values.h"

namespace kusto_local {

enum class CommandKind {
  kCreateDatabase,    // .create database D [volatile | persist (...)] [ifnotexists]
  kDropDatabase,      // .drop database D [ifexists]
  kShowDatabases,     // .show databases
  kCreateTable,       // .create table T (c:type, ...) [with (...)]
  kCreateMergeTable,  // .create-merge table T (c:type, ...) [with (...)]
  kDropTable,         // .drop table T [ifexists]
  kShowTables,        // .show tables
  kShowTableSchema,   // .show table T schema as json | .show table T cslschema
  kCreateMapping,     // .create[-or-alter]|.alter table|database X ingestion K mapping "m" '..'
  kShowMappings,      // .show table|database X ingestion [K] mappings | mapping "m"
  kDropMapping,       // .drop table|database X ingestion K mapping "m"
  kAlterPolicy,       // .alter table|database X policy streamingingestion enable|disable|'{..}'
  kAlterMergePolicy,  // .alter-merge table|database X policy streamingingestion '{..}'
  kDeletePolicy,      // .delete table|database X policy streamingingestion
  kShowPolicy,        // .show table|database X policy streamingingestion
  kShowFailures,      // .show streamingingestion failures
  kShowVersion,       // .show version
  kClearSchemaCache,  // .clear table T | database cache streamingingestion schema
  kIngestInline,      // .ingest inline into table T [with (...)] <| data
};

enum class EntityKind { kTable, kDatabase };
enum class MappingMode { kCreate, kCreateOrAlter, kAlter };

struct ColumnDef {
  std::string name;
  ColumnType type = ColumnType::kString;
};

struct Command {
  CommandKind kind = CommandKind::kShowVersion;
  EntityKind entity = EntityKind::kTable;
  std::string name;  // table or database name; "*" for `.show table * policy ...`
  std::vector<ColumnDef> columns;
  std::map<std::string, std::string> with;  // `with (k=v, ...)`, keys lowercased
  bool if_exists = false;
  bool if_not_exists = false;
  bool volatile_db = false;
  bool csl_schema = false;  // .show table T cslschema (vs schema as json)
  MappingMode mapping_mode = MappingMode::kCreate;
  std::string mapping_kind;  // lowercase: csv, json, avro, ...; empty = any (show)
  std::string mapping_name;  // empty = all (show)
  std::string literal;       // mapping JSON, or policy JSON (enable/disable expanded)
  std::string data;          // inline ingestion data
};

struct CommandParse {
  std::optional<Command> command;
  std::string error;  // set when command is empty
};

CommandParse parseCommand(std::string_view text);

}  // namespace kusto_local
