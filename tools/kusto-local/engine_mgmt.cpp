// Control commands: each handler runs one parsed Command against the catalog and returns the
// v1 table the real service returns (column names per spec section 4.4).
#include <fmt/format.h>

#include "engine_impl.h"
#include "lexer.h"

namespace kusto_local {
namespace {

using CT = ColumnType;

const std::vector<ColumnSpec> kSchemaColumns = {{"TableName", CT::kString},
                                                {"Schema", CT::kString},
                                                {"DatabaseName", CT::kString},
                                                {"Folder", CT::kString},
                                                {"DocString", CT::kString}};
const std::vector<ColumnSpec> kTablesColumns = {{"TableName", CT::kString},
                                                {"DatabaseName", CT::kString},
                                                {"Folder", CT::kString},
                                                {"DocString", CT::kString}};
const std::vector<ColumnSpec> kDatabaseColumns = {{"DatabaseName", CT::kString},
                                                  {"PersistentStorage", CT::kString},
                                                  {"Version", CT::kString},
                                                  {"IsCurrent", CT::kBool},
                                                  {"DatabaseAccessMode", CT::kString},
                                                  {"PrettyName", CT::kString},
                                                  {"ReservedSlot1", CT::kBool},
                                                  {"DatabaseId", CT::kString},
                                                  {"InTransitionTo", CT::kString}};
const std::vector<ColumnSpec> kMappingColumns = {
    {"Name", CT::kString},     {"Kind", CT::kString},
    {"Mapping", CT::kString},  {"LastUpdatedOn", CT::kDateTime},
    {"Database", CT::kString}, {"Table", CT::kString}};
const std::vector<ColumnSpec> kPolicyColumns = {{"PolicyName", CT::kString},
                                                {"EntityName", CT::kString},
                                                {"Policy", CT::kString},
                                                {"ChildEntities", CT::kString},
                                                {"EntityType", CT::kString}};
const std::vector<ColumnSpec> kFailureColumns = {{"Database", CT::kString},
                                                 {"Table", CT::kString},
                                                 {"Principal", CT::kString},
                                                 {"RootActivityId", CT::kGuid},
                                                 {"IngestionProperties", CT::kString},
                                                 {"Count", CT::kLong},
                                                 {"FirstFailureOn", CT::kDateTime},
                                                 {"LastFailureOn", CT::kDateTime},
                                                 {"FailureKind", CT::kString},
                                                 {"ErrorCode", CT::kString},
                                                 {"Details", CT::kString}};

nlohmann::json schemaRow(const Database& db, const Table& t, bool csl) {
  return {t.name, csl ? t.cslSchema() : t.schemaJson().dump(), db.name, t.folder, t.docstring};
}

nlohmann::json databaseRow(const Database& db, std::string_view current) {
  return {db.name,     db.is_volatile ? "" : "kusto-local://" + db.name,
          "v1.0",      db.name == current,
          "ReadWrite", nullptr,
          false,       "",
          ""};
}

nlohmann::json mappingRow(const StoredMapping& m, std::string_view db, std::string_view table) {
  return {m.name, m.kind, m.text, m.last_updated, db, table};
}

std::string withValue(const Command& cmd, std::string_view key) {
  auto it = cmd.with.find(std::string(key));
  return it == cmd.with.end() ? "" : it->second;
}

class Handler {
 public:
  Handler(EngineCore& engine, std::string_view database, const Command& cmd)
      : e_(engine), context_(database), cmd_(cmd) {}

  MgmtOutcome run() {
    switch (cmd_.kind) {
      case CommandKind::kCreateDatabase: return createDatabase();
      case CommandKind::kDropDatabase: return dropDatabase();
      case CommandKind::kShowDatabases: return showDatabases();
      case CommandKind::kCreateTable:
      case CommandKind::kCreateMergeTable: return createTable();
      case CommandKind::kDropTable: return dropTable();
      case CommandKind::kShowTables: return showTables();
      case CommandKind::kShowTableSchema: return showSchema();
      case CommandKind::kCreateMapping: return createMapping();
      case CommandKind::kShowMappings: return showMappings();
      case CommandKind::kDropMapping: return dropMapping();
      case CommandKind::kAlterPolicy:
      case CommandKind::kAlterMergePolicy:
      case CommandKind::kDeletePolicy: return changePolicy();
      case CommandKind::kShowPolicy: return showPolicy();
      case CommandKind::kShowFailures: return showFailures();
      case CommandKind::kShowVersion: return showVersion();
      case CommandKind::kClearSchemaCache: return clearCache();
      case CommandKind::kIngestInline: return ingestInline();
    }
    return MgmtOutcome::fail(badRequest("unsupported command"));
  }

 private:
  Catalog& catalog() { return e_.catalog; }

  // The request's database (for table commands); error outcome when missing.
  Database* contextDb(MgmtOutcome& error) {
    if (context_.empty()) {
      error = MgmtOutcome::fail(
          badRequest("No database was specified for the command (the request's 'db' field)"));
      return nullptr;
    }
    auto it = catalog().databases.find(std::string(context_));
    if (it == catalog().databases.end()) {
      error = MgmtOutcome::fail(entityNotFound("Database", context_));
      return nullptr;
    }
    return &it->second;
  }

  Database* namedDb(MgmtOutcome& error) {
    auto it = catalog().databases.find(cmd_.name);
    if (it == catalog().databases.end()) {
      error = MgmtOutcome::fail(entityNotFound("Database", cmd_.name));
      return nullptr;
    }
    return &it->second;
  }

  Table* table(Database& db, MgmtOutcome& error) {
    auto it = db.tables.find(cmd_.name);
    if (it == db.tables.end()) {
      error = MgmtOutcome::fail(entityNotFound("Table", cmd_.name));
      return nullptr;
    }
    return &it->second;
  }

  MgmtOutcome createDatabase() {
    std::unique_lock lock(e_.mu);
    auto& dbs = catalog().databases;
    auto it = dbs.find(cmd_.name);
    if (it == dbs.end()) {
      Database db;
      db.name = cmd_.name;
      db.is_volatile = cmd_.volatile_db;
      it = dbs.emplace(cmd_.name, std::move(db)).first;
      e_.persistMetadata();
    }
    return MgmtOutcome::ok(kDatabaseColumns,
                           nlohmann::json::array({databaseRow(it->second, context_)}));
  }

  MgmtOutcome dropDatabase() {
    std::unique_lock lock(e_.mu);
    auto& dbs = catalog().databases;
    auto it = dbs.find(cmd_.name);
    if (it == dbs.end()) {
      if (!cmd_.if_exists) {
        return MgmtOutcome::fail(entityNotFound("Database", cmd_.name));
      }
    } else {
      for (const auto& [name, t] : it->second.tables) {
        if (e_.persistence.enabled()) {
          e_.persistence.removeRows(t.id);
        }
      }
      dbs.erase(it);
      e_.persistMetadata();
    }
    return databasesLocked();
  }

  MgmtOutcome databasesLocked() {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [name, db] : catalog().databases) {
      rows.push_back(databaseRow(db, context_));
    }
    return MgmtOutcome::ok(kDatabaseColumns, std::move(rows));
  }

  MgmtOutcome showDatabases() {
    std::shared_lock lock(e_.mu);
    return databasesLocked();
  }

  MgmtOutcome createTable();
  MgmtOutcome mergeColumns(Database& db, Table& t);

  MgmtOutcome dropTable() {
    std::unique_lock lock(e_.mu);
    MgmtOutcome error;
    Database* db = contextDb(error);
    if (db == nullptr) {
      return error;
    }
    auto it = db->tables.find(cmd_.name);
    if (it == db->tables.end()) {
      if (!cmd_.if_exists) {
        return MgmtOutcome::fail(entityNotFound("Table", cmd_.name));
      }
    } else {
      if (e_.persistence.enabled()) {
        e_.persistence.removeRows(it->second.id);
      }
      db->tables.erase(it);
      e_.persistMetadata();
    }
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [name, t] : db->tables) {
      rows.push_back({name, db->name});
    }
    return MgmtOutcome::ok({{"TableName", CT::kString}, {"DatabaseName", CT::kString}},
                           std::move(rows));
  }

  MgmtOutcome showTables() {
    std::shared_lock lock(e_.mu);
    MgmtOutcome error;
    Database* db = contextDb(error);
    if (db == nullptr) {
      return error;
    }
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [name, t] : db->tables) {
      rows.push_back({name, db->name, t.folder, t.docstring});
    }
    return MgmtOutcome::ok(kTablesColumns, std::move(rows));
  }

  MgmtOutcome showSchema() {
    std::shared_lock lock(e_.mu);
    MgmtOutcome error;
    Database* db = contextDb(error);
    Table* t = db == nullptr ? nullptr : table(*db, error);
    if (t == nullptr) {
      return error;
    }
    return MgmtOutcome::ok(kSchemaColumns,
                           nlohmann::json::array({schemaRow(*db, *t, cmd_.csl_schema)}));
  }

  // The mapping list a mapping command works on: a table's or a database's.
  std::vector<StoredMapping>* mappingList(MgmtOutcome& error, std::string& db_name,
                                          std::string& table_name) {
    if (cmd_.entity == EntityKind::kDatabase) {
      Database* db = namedDb(error);
      if (db == nullptr) {
        return nullptr;
      }
      db_name = db->name;
      return &db->mappings;
    }
    Database* db = contextDb(error);
    Table* t = db == nullptr ? nullptr : table(*db, error);
    if (t == nullptr) {
      return nullptr;
    }
    db_name = db->name;
    table_name = t->name;
    return &t->mappings;
  }

  MgmtOutcome createMapping();
  MgmtOutcome showMappings();
  MgmtOutcome dropMapping();
  MgmtOutcome changePolicy();
  MgmtOutcome showPolicy();
  std::optional<nlohmann::json>* policySlot(MgmtOutcome& error, std::string& entity_name,
                                            nlohmann::json& children);
  MgmtOutcome showFailures();
  MgmtOutcome showVersion();
  MgmtOutcome clearCache();
  MgmtOutcome ingestInline();

  EngineCore& e_;
  std::string_view context_;
  const Command& cmd_;
};

MgmtOutcome Handler::createTable() {
  std::unique_lock lock(e_.mu);
  MgmtOutcome error;
  Database* db = contextDb(error);
  if (db == nullptr) {
    return error;
  }
  auto it = db->tables.find(cmd_.name);
  if (it != db->tables.end()) {
    if (cmd_.kind == CommandKind::kCreateMergeTable) {
      return mergeColumns(*db, it->second);
    }
    // `.create table` on an existing table succeeds and changes nothing, even on a different
    // schema (documented Kusto behaviour).
    return MgmtOutcome::ok(kSchemaColumns,
                           nlohmann::json::array({schemaRow(*db, it->second, false)}));
  }
  Table t;
  t.id = catalog().next_table_id++;
  t.name = cmd_.name;
  t.folder = withValue(cmd_, "folder");
  t.docstring = withValue(cmd_, "docstring");
  for (const auto& c : cmd_.columns) {
    t.addColumn(c.name, c.type);
  }
  if (e_.persistence.enabled()) {
    e_.persistence.removeRows(t.id);  // a stale file from a crashed earlier run
  }
  auto& stored = db->tables.emplace(t.name, std::move(t)).first->second;
  e_.persistMetadata();
  return MgmtOutcome::ok(kSchemaColumns, nlohmann::json::array({schemaRow(*db, stored, false)}));
}

MgmtOutcome Handler::mergeColumns(Database& db, Table& t) {
  for (const auto& c : cmd_.columns) {
    for (const auto& existing : t.columns) {
      if (existing.name == c.name && existing.type != c.type) {
        return MgmtOutcome::fail(badRequest(
            fmt::format("Column '{}' already exists in table '{}' with type '{}' (requested '{}')",
                        c.name, t.name, cslTypeName(existing.type), cslTypeName(c.type))));
      }
    }
  }
  bool changed = false;
  for (const auto& c : cmd_.columns) {
    bool exists = false;
    for (const auto& existing : t.columns) {
      exists = exists || existing.name == c.name;
    }
    if (!exists) {
      t.addColumn(c.name, c.type);
      changed = true;
    }
  }
  if (auto folder = withValue(cmd_, "folder"); !folder.empty()) {
    t.folder = folder;
    changed = true;
  }
  if (auto doc = withValue(cmd_, "docstring"); !doc.empty()) {
    t.docstring = doc;
    changed = true;
  }
  if (changed) {
    e_.persistMetadata();
  }
  return MgmtOutcome::ok(kSchemaColumns, nlohmann::json::array({schemaRow(db, t, false)}));
}

MgmtOutcome Handler::createMapping() {
  auto parsed = parseMapping(cmd_.mapping_kind, cmd_.literal);
  if (!parsed.mapping) {
    return MgmtOutcome::fail(errorResult(400, "BadRequest_InvalidMapping",
                                         fmt::format("Invalid ingestion mapping '{}': {}",
                                                     cmd_.mapping_name, parsed.error),
                                         kBadRequestType, true));
  }
  std::unique_lock lock(e_.mu);
  MgmtOutcome error;
  std::string db_name;
  std::string table_name;
  auto* list = mappingList(error, db_name, table_name);
  if (list == nullptr) {
    return error;
  }
  StoredMapping m;
  m.name = cmd_.mapping_name;
  m.kind = cmd_.mapping_kind;
  m.text = nlohmann::json::parse(cmd_.literal).dump();
  m.parsed = std::make_shared<const ParsedMapping>(std::move(*parsed.mapping));
  m.last_updated = nowDateTime();
  auto it = std::find_if(list->begin(), list->end(), [&](const StoredMapping& x) {
    return x.name == m.name && x.kind == m.kind;
  });
  if (it != list->end() && cmd_.mapping_mode == MappingMode::kCreate) {
    return MgmtOutcome::fail(
        errorResult(400, "BadRequest_EntityAlreadyExists",
                    fmt::format("Ingestion mapping '{}' of kind '{}' already exists (use "
                                ".create-or-alter)",
                                m.name, m.kind),
                    kBadRequestType, true));
  }
  if (it == list->end() && cmd_.mapping_mode == MappingMode::kAlter) {
    return MgmtOutcome::fail(entityNotFound("Mapping", m.name));
  }
  nlohmann::json row = mappingRow(m, db_name, table_name);
  if (it != list->end()) {
    *it = std::move(m);
  } else {
    list->push_back(std::move(m));
  }
  e_.persistMetadata();
  return MgmtOutcome::ok(kMappingColumns, nlohmann::json::array({row}));
}

MgmtOutcome Handler::showMappings() {
  std::shared_lock lock(e_.mu);
  MgmtOutcome error;
  std::string db_name;
  std::string table_name;
  auto* list = mappingList(error, db_name, table_name);
  if (list == nullptr) {
    return error;
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& m : *list) {
    if ((cmd_.mapping_kind.empty() || m.kind == cmd_.mapping_kind) &&
        (cmd_.mapping_name.empty() || m.name == cmd_.mapping_name)) {
      rows.push_back(mappingRow(m, db_name, table_name));
    }
  }
  if (!cmd_.mapping_name.empty() && rows.empty()) {
    return MgmtOutcome::fail(entityNotFound("Mapping", cmd_.mapping_name));
  }
  return MgmtOutcome::ok(kMappingColumns, std::move(rows));
}

MgmtOutcome Handler::dropMapping() {
  std::unique_lock lock(e_.mu);
  MgmtOutcome error;
  std::string db_name;
  std::string table_name;
  auto* list = mappingList(error, db_name, table_name);
  if (list == nullptr) {
    return error;
  }
  auto it = std::find_if(list->begin(), list->end(), [&](const StoredMapping& x) {
    return x.name == cmd_.mapping_name && x.kind == cmd_.mapping_kind;
  });
  if (it == list->end()) {
    return MgmtOutcome::fail(entityNotFound("Mapping", cmd_.mapping_name));
  }
  list->erase(it);
  e_.persistMetadata();
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& m : *list) {
    rows.push_back(mappingRow(m, db_name, table_name));
  }
  return MgmtOutcome::ok(kMappingColumns, std::move(rows));
}

std::optional<nlohmann::json>* Handler::policySlot(MgmtOutcome& error, std::string& entity_name,
                                                   nlohmann::json& children) {
  if (cmd_.entity == EntityKind::kDatabase) {
    Database* db = namedDb(error);
    if (db == nullptr) {
      return nullptr;
    }
    entity_name = fmt::format("[{}]", db->name);
    children = nlohmann::json::array();
    for (const auto& [name, t] : db->tables) {
      children.push_back(name);
    }
    return &db->policy;
  }
  Database* db = contextDb(error);
  Table* t = db == nullptr ? nullptr : table(*db, error);
  if (t == nullptr) {
    return nullptr;
  }
  entity_name = fmt::format("[{}].[{}]", db->name, t->name);
  return &t->policy;
}

nlohmann::json policyRow(const std::string& entity_name, const std::optional<nlohmann::json>& p,
                         const nlohmann::json& children, bool database) {
  return {"StreamingIngestionPolicy", entity_name, p ? nlohmann::json(p->dump()) : nlohmann::json(),
          children.is_null() ? nlohmann::json() : nlohmann::json(children.dump()),
          database ? "Database" : "Table"};
}

// Validates a streaming-ingestion policy object; returns the normalized policy or an error.
std::optional<nlohmann::json> normalizePolicy(const nlohmann::json& p, std::string& error) {
  auto enabled = p.find("IsEnabled");
  if (!p.is_object() || enabled == p.end() || !enabled->is_boolean()) {
    error = "Streaming ingestion policy is invalid: 'IsEnabled' (bool) is mandatory";
    return std::nullopt;
  }
  nlohmann::json rate = p.value("HintAllocatedRate", nlohmann::json());
  if (!rate.is_null() && !rate.is_number()) {
    error = "Streaming ingestion policy is invalid: 'HintAllocatedRate' must be a number";
    return std::nullopt;
  }
  return nlohmann::json{{"IsEnabled", enabled->get<bool>()}, {"HintAllocatedRate", rate}};
}

MgmtOutcome Handler::changePolicy() {
  nlohmann::json given;
  if (cmd_.kind != CommandKind::kDeletePolicy) {
    given = nlohmann::json::parse(cmd_.literal, nullptr, false);
    if (given.is_discarded() || !given.is_object()) {
      return MgmtOutcome::fail(badRequest("Streaming ingestion policy is not a valid JSON object"));
    }
  }
  std::unique_lock lock(e_.mu);
  MgmtOutcome error;
  std::string entity_name;
  nlohmann::json children;
  auto* slot = policySlot(error, entity_name, children);
  if (slot == nullptr) {
    return error;
  }
  if (cmd_.kind == CommandKind::kDeletePolicy) {
    slot->reset();
  } else {
    nlohmann::json merged = given;
    if (cmd_.kind == CommandKind::kAlterMergePolicy && slot->has_value()) {
      merged = **slot;
      merged.update(given);
    }
    std::string invalid;
    auto normalized = normalizePolicy(merged, invalid);
    if (!normalized) {
      return MgmtOutcome::fail(badRequest(invalid));
    }
    *slot = std::move(*normalized);
  }
  e_.persistMetadata();
  return MgmtOutcome::ok(kPolicyColumns,
                         nlohmann::json::array({policyRow(entity_name, *slot, children,
                                                          cmd_.entity == EntityKind::kDatabase)}));
}

MgmtOutcome Handler::showPolicy() {
  std::shared_lock lock(e_.mu);
  MgmtOutcome error;
  if (cmd_.name == "*") {
    Database* db = contextDb(error);
    if (db == nullptr) {
      return error;
    }
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [name, t] : db->tables) {
      rows.push_back(policyRow(fmt::format("[{}].[{}]", db->name, name), t.policy, nullptr, false));
    }
    return MgmtOutcome::ok(kPolicyColumns, std::move(rows));
  }
  std::string entity_name;
  nlohmann::json children;
  auto* slot = policySlot(error, entity_name, children);
  if (slot == nullptr) {
    return error;
  }
  return MgmtOutcome::ok(kPolicyColumns,
                         nlohmann::json::array({policyRow(entity_name, *slot, children,
                                                          cmd_.entity == EntityKind::kDatabase)}));
}

MgmtOutcome Handler::showFailures() {
  std::lock_guard lock(e_.failures_mu);
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& f : e_.failures) {
    bool transient = f.error_code == "General_InternalServerError";
    rows.push_back({f.database, f.table, "", f.root_activity_id, f.properties, f.count, f.first_on,
                    f.last_on, transient ? "Transient" : "Permanent", f.error_code, f.details});
  }
  return MgmtOutcome::ok(kFailureColumns, std::move(rows));
}

MgmtOutcome Handler::showVersion() {
  return MgmtOutcome::ok({{"BuildVersion", CT::kString},
                          {"BuildTime", CT::kDateTime},
                          {"ServiceType", CT::kString},
                          {"ProductVersion", CT::kString}},
                         nlohmann::json::array({{"1.0.0.0", "2024-01-01T00:00:00.0000000Z",
                                                 "Engine", "kusto-local 0.1.0"}}));
}

MgmtOutcome Handler::clearCache() {
  if (cmd_.entity == EntityKind::kTable) {
    std::shared_lock lock(e_.mu);
    MgmtOutcome error;
    Database* db = contextDb(error);
    if (db == nullptr || table(*db, error) == nullptr) {
      return error;
    }
  }
  return MgmtOutcome::ok({{"NodeId", CT::kString}, {"Status", CT::kString}},
                         nlohmann::json::array({{"kusto-local", "Succeeded"}}));
}

MgmtOutcome Handler::ingestInline() {
  IngestRequest request;
  request.database = std::string(context_);
  request.table = cmd_.name;
  request.format = withValue(cmd_, "format");
  if (request.format.empty()) {
    request.format = "csv";
  }
  for (const char* key :
       {"ingestionmappingreference", "jsonmappingreference", "csvmappingreference"}) {
    if (request.mapping_name.empty()) {
      request.mapping_name = withValue(cmd_, key);
    }
  }
  request.data = cmd_.data;
  EngineResult r = e_.ingest(request, false);
  if (r.status != 200) {
    return MgmtOutcome::fail(std::move(r));
  }
  return MgmtOutcome::ok({{"ExtentId", CT::kGuid},
                          {"ItemLoaded", CT::kString},
                          {"Duration", CT::kTimeSpan},
                          {"HasErrors", CT::kBool},
                          {"OperationId", CT::kGuid}},
                         nlohmann::json::array(
                             {{newGuid(), "inproc:" + newGuid(), "00:00:00", false, newGuid()}}));
}

}  // namespace

MgmtOutcome EngineCore::runCommand(std::string_view database, const Command& cmd) {
  return Handler(*this, database, cmd).run();
}

}  // namespace kusto_local
