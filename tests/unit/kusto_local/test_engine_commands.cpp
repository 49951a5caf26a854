// Unit tests for the kusto-local control-command parser (every command form, quoting, errors).
#include <doctest/doctest.h>

#include "tools/kusto-local/commands.h"

using namespace kusto_local;

namespace {

Command parseOk(std::string_view text) {
  CommandParse p = parseCommand(text);
  INFO(text, " -> ", p.error);
  REQUIRE(p.command.has_value());
  return *p.command;
}

std::string parseError(std::string_view text) {
  CommandParse p = parseCommand(text);
  INFO(text);
  REQUIRE_FALSE(p.command.has_value());
  CHECK_FALSE(p.error.empty());
  return p.error;
}

}  // namespace

TEST_CASE("commands: create table with columns, types, with-properties and case") {
  Command c = parseOk(
      ".CREATE Table ['My Table'] (a:string, ['b c']: long, d:int, e:real, f:bool, g:datetime, "
      "h:timespan, i:guid, j:dynamic, k:decimal, l:System.String) with (docstring='doc', "
      "folder=\"f\")");
  CHECK(c.kind == CommandKind::kCreateTable);
  CHECK(c.name == "My Table");
  REQUIRE(c.columns.size() == 11);
  CHECK(c.columns[1].name == "b c");
  CHECK(c.columns[1].type == ColumnType::kLong);
  CHECK(c.columns[8].type == ColumnType::kDynamic);
  CHECK(c.columns[9].type == ColumnType::kDecimal);
  CHECK(c.columns[10].type == ColumnType::kString);
  CHECK(c.with["docstring"] == "doc");
  CHECK(c.with["folder"] == "f");
}

TEST_CASE("commands: create-merge, drop table, show tables and schema") {
  CHECK(parseOk(".create-merge table T (x:long)").kind == CommandKind::kCreateMergeTable);
  Command d = parseOk(".drop table [\"T\"] ifexists");
  CHECK(d.kind == CommandKind::kDropTable);
  CHECK(d.name == "T");
  CHECK(d.if_exists);
  CHECK(parseOk(".show tables").kind == CommandKind::kShowTables);
  Command s = parseOk(".show table T schema as json");
  CHECK(s.kind == CommandKind::kShowTableSchema);
  CHECK_FALSE(s.csl_schema);
  CHECK(parseOk(".show table T cslschema").csl_schema);
  CHECK(parseOk("  // comment\n.show databases;").kind == CommandKind::kShowDatabases);
  CHECK(parseOk(".show version").kind == CommandKind::kShowVersion);
}

TEST_CASE("commands: create database forms") {
  Command v = parseOk(".create database D volatile");
  CHECK(v.kind == CommandKind::kCreateDatabase);
  CHECK(v.volatile_db);
  CHECK(v.name == "D");
  CHECK(parseOk(".create database D").kind == CommandKind::kCreateDatabase);
  CHECK(parseOk(".create database D persist (@'/a/b', @\"/c\") ifnotexists").if_not_exists);
  Command drop = parseOk(".drop database D ifexists");
  CHECK(drop.kind == CommandKind::kDropDatabase);
}

TEST_CASE("commands: ingestion mappings with split literals and escapes") {
  Command c = parseOk(
      ".create table T ingestion json mapping \"m1\" '[{\"column\":\"a\",' "
      "'\"Properties\":{\"Path\":\"$[\\'x y\\']\"}}]'");
  CHECK(c.kind == CommandKind::kCreateMapping);
  CHECK(c.mapping_mode == MappingMode::kCreate);
  CHECK(c.entity == EntityKind::kTable);
  CHECK(c.mapping_kind == "json");
  CHECK(c.mapping_name == "m1");
  CHECK(c.literal == R"([{"column":"a","Properties":{"Path":"$['x y']"}}])");

  Command multi = parseOk(
      ".create-or-alter table T ingestion csv mapping 'm2'\n'['\n"
      "'{\"Column\":\"a\",\"Properties\":{\"Ordinal\":\"0\"}}'\n']'");
  CHECK(multi.mapping_mode == MappingMode::kCreateOrAlter);
  CHECK(multi.mapping_kind == "csv");
  CHECK(multi.literal == R"([{"Column":"a","Properties":{"Ordinal":"0"}}])");

  Command fenced = parseOk(
      ".alter table T ingestion json mapping m3 ```[{\"column\":\"a\","
      "\"Properties\":{\"Path\":\"$.a\"}}]```");
  CHECK(fenced.mapping_mode == MappingMode::kAlter);
  CHECK(fenced.mapping_name == "m3");
  CHECK(fenced.literal.find("$.a") != std::string::npos);

  Command verbatim = parseOk(".create table T ingestion json mapping \"m\" @'[{\"c\":\"it''s\"}]'");
  CHECK(verbatim.literal == R"([{"c":"it's"}])");

  Command db = parseOk(".create database D ingestion json mapping \"m\" '[]'");
  CHECK(db.entity == EntityKind::kDatabase);
  CHECK(db.name == "D");
  CHECK(db.kind == CommandKind::kCreateMapping);
}

TEST_CASE("commands: show and drop mappings") {
  Command all = parseOk(".show table T ingestion mappings");
  CHECK(all.kind == CommandKind::kShowMappings);
  CHECK(all.mapping_kind.empty());
  CHECK(all.mapping_name.empty());
  Command json = parseOk(".show table T ingestion JSON mappings");
  CHECK(json.mapping_kind == "json");
  Command one = parseOk(".show table T ingestion json mapping \"m\"");
  CHECK(one.mapping_name == "m");
  Command dbm = parseOk(".show database D ingestion csv mappings");
  CHECK(dbm.entity == EntityKind::kDatabase);
  Command drop = parseOk(".drop table T ingestion json mapping \"m\"");
  CHECK(drop.kind == CommandKind::kDropMapping);
  CHECK(drop.mapping_kind == "json");
  CHECK(drop.mapping_name == "m");
}

TEST_CASE("commands: streaming ingestion policy forms") {
  Command en = parseOk(".alter table T policy streamingingestion enable");
  CHECK(en.kind == CommandKind::kAlterPolicy);
  CHECK(en.literal.find("\"IsEnabled\":true") != std::string::npos);
  Command dis = parseOk(".alter database D policy streamingingestion disable");
  CHECK(dis.entity == EntityKind::kDatabase);
  CHECK(dis.literal.find("\"IsEnabled\":false") != std::string::npos);
  Command js = parseOk(".alter table T policy streamingingestion '{\"IsEnabled\": true}'");
  CHECK(js.literal == "{\"IsEnabled\": true}");
  Command merge = parseOk(".alter-merge table T policy streamingingestion '{\"IsEnabled\":false}'");
  CHECK(merge.kind == CommandKind::kAlterMergePolicy);
  CHECK(parseOk(".delete table T policy streamingingestion").kind == CommandKind::kDeletePolicy);
  Command show = parseOk(".show database D policy streamingingestion");
  CHECK(show.kind == CommandKind::kShowPolicy);
  CHECK(parseOk(".show table * policy streamingingestion").name == "*");
  CHECK(parseOk(".show streamingingestion failures").kind == CommandKind::kShowFailures);
}

TEST_CASE("commands: cache clear and inline ingestion") {
  Command clear = parseOk(".clear table T cache streamingingestion schema");
  CHECK(clear.kind == CommandKind::kClearSchemaCache);
  CHECK(clear.name == "T");
  CHECK(parseOk(".clear database cache streamingingestion schema").entity == EntityKind::kDatabase);
  Command in = parseOk(
      ".ingest inline into table T with (format='json', ingestionMappingReference='m') <|\n"
      "{\"a\":\"x|y\"}\n");
  CHECK(in.kind == CommandKind::kIngestInline);
  CHECK(in.with["format"] == "json");
  CHECK(in.with["ingestionmappingreference"] == "m");
  CHECK(in.data == "{\"a\":\"x|y\"}\n");
}

TEST_CASE("commands: syntax errors") {
  parseError("");
  parseError("show tables");
  parseError(".frobnicate");
  parseError(".create table T");
  parseError(".create table T ()");
  parseError(".create table T (a:notatype)");
  parseError(".create table T (a:string, a:long)");
  parseError(".create table T (a:string");
  parseError(".create table T ingestion json mapping \"m\"");
  parseError(".create table T ingestion xml mapping \"m\" '[]'");
  parseError(".create table T ingestion json mapping \"m\" '[unterminated");
  parseError(".alter table T policy streamingingestion");
  parseError(".alter table T policy caching enable");
  parseError(".show tables extra");
  parseError(".show table T schema");
  parseError(".ingest inline into table T");
  parseError(".create table [] (a:string)");
  CHECK(parseError(".frobnicate").find("Syntax error") == 0);
}
