// Engine: streaming ingest (validate under a shared lock, decode unlocked, append under an
// exclusive lock), queries, stats and the management entry point.
#include "engine.h"

#include <fmt/format.h>

#include "engine_impl.h"
#include "ingest_formats.h"
#include "lexer.h"

namespace kusto_local {
namespace {

constexpr std::size_t kMaxFailures = 1000;

EngineResult ingestError(int status, std::string_view code, std::string_view message) {
  return errorResult(status, code, message, kIngestType, true);
}

bool policyEnabled(const std::optional<nlohmann::json>& policy) {
  if (!policy || !policy->is_object()) {
    return false;
  }
  auto it = policy->find("IsEnabled");
  return it != policy->end() && it->is_boolean() && it->get<bool>();
}

EngineResult queryError(std::string_view message, std::string_view type,
                        std::string_view error_code) {
  EngineResult r = errorResult(400, "General_BadRequest", message, type, true);
  r.body["error"]["@errorCode"] = error_code;
  return r;
}

// Index of the first top-level '|' in a command (outside strings and `<|` data), or npos.
std::size_t pipeOffset(std::string_view csl) {
  LexResult lexed = tokenize(csl, true);
  if (!lexed.error.empty()) {
    return std::string_view::npos;
  }
  for (const auto& t : lexed.tokens) {
    if (t.kind == TokenKind::kPunct && t.text == "|") {
      return t.offset;
    }
  }
  return std::string_view::npos;
}

}  // namespace

EngineResult badRequest(std::string_view message) {
  return errorResult(400, "General_BadRequest", message, kBadRequestType, true);
}

EngineResult entityNotFound(std::string_view kind, std::string_view name) {
  return errorResult(400, "BadRequest_EntityNotFound",
                     fmt::format("{} '{}' could not be found (Entity ID '{}' of kind '{}' was "
                                 "not found).",
                                 kind, name, name, kind),
                     kEntityNotFoundType, true);
}

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Engine::~Engine() = default;

std::string Engine::load() {
  if (!impl_->persistence.enabled()) {
    return "";
  }
  std::unique_lock lock(impl_->mu);
  return impl_->persistence.load(impl_->catalog);
}

void Engine::ensureDatabase(std::string_view name) {
  std::unique_lock lock(impl_->mu);
  auto& dbs = impl_->catalog.databases;
  if (dbs.find(std::string(name)) != dbs.end()) {
    return;
  }
  Database db;
  db.name = std::string(name);
  dbs.emplace(db.name, std::move(db));
  impl_->persistMetadata();
}

void EngineCore::persistMetadata() {
  if (persistence.enabled()) {
    // A failed write keeps the in-memory state; the next change retries the whole file.
    (void)persistence.saveMetadata(catalog);
  }
}

void EngineCore::recordFailure(const IngestRequest& request, std::string_view code,
                               std::string_view details) {
  std::string now = nowDateTime();
  std::lock_guard lock(failures_mu);
  for (auto& f : failures) {
    if (f.database == request.database && f.table == request.table && f.error_code == code) {
      ++f.count;
      f.last_on = now;
      f.details = sanitizeUtf8(details);
      return;
    }
  }
  IngestFailure f;
  f.database = sanitizeUtf8(request.database);
  f.table = sanitizeUtf8(request.table);
  f.root_activity_id = newGuid();
  f.properties = nlohmann::json{{"Format", sanitizeUtf8(request.format)},
                                {"IngestionMappingReference", sanitizeUtf8(request.mapping_name)}}
                     .dump();
  f.count = 1;
  f.first_on = now;
  f.last_on = now;
  f.error_code = std::string(code);
  f.details = sanitizeUtf8(details);
  failures.push_back(std::move(f));
  if (failures.size() > kMaxFailures) {
    failures.pop_front();
  }
}

EngineResult Engine::ingest(const IngestRequest& request) { return impl_->ingest(request, true); }

// What ingest needs from the catalog, copied under the shared lock so decoding can run
// without it.
struct IngestSnapshot {
  std::vector<ColumnSpec> schema;
  std::shared_ptr<const ParsedMapping> mapping;
};

std::optional<IngestFailureInfo> EngineCore::snapshotForIngest(const IngestRequest& request,
                                                               DataFormat format, bool check_policy,
                                                               IngestSnapshot& out) const {
  std::shared_lock lock(mu);
  auto db = catalog.databases.find(request.database);
  if (db == catalog.databases.end()) {
    return IngestFailureInfo{400, "BadRequest_DatabaseNotExist",
                             fmt::format("Database '{}' does not exist", request.database)};
  }
  auto table = db->second.tables.find(request.table);
  if (table == db->second.tables.end()) {
    return IngestFailureInfo{400, "BadRequest_TableNotExist",
                             fmt::format("Table '{}' does not exist in database '{}'",
                                         request.table, request.database)};
  }
  const Table& t = table->second;
  const auto& policy = t.policy ? t.policy : db->second.policy;
  if (check_policy && !policyEnabled(policy)) {
    return IngestFailureInfo{400, "BadRequest_StreamingIngestionPolicyNotEnabled",
                             fmt::format("Streaming ingestion policy is not enabled for table "
                                         "'{}' in database '{}'",
                                         request.table, request.database)};
  }
  std::string_view kind = mappingKindFor(format);
  if (!request.mapping_name.empty()) {
    const StoredMapping* m = findMapping(t.mappings, kind, request.mapping_name);
    if (m == nullptr) {
      m = findMapping(db->second.mappings, kind, request.mapping_name);
    }
    if (m == nullptr) {
      return IngestFailureInfo{400, "BadRequest_MappingReferenceWasNotFound",
                               fmt::format("Mapping reference '{}' of kind '{}' was not found "
                                           "on table '{}' or database '{}'",
                                           request.mapping_name, kind, request.table,
                                           request.database)};
    }
    out.mapping = m->parsed;
  } else if (options.require_json_mapping && isJsonFormat(format)) {
    return IngestFailureInfo{400, "BadRequest_MissingMappingtFailure",
                             "Avro and Json formats must be ingested with ingestionMapping or "
                             "ingestionMappingReference parameter"};
  }
  out.schema = t.schema();
  return std::nullopt;
}

std::optional<IngestFailureInfo> EngineCore::appendDecoded(const IngestRequest& request,
                                                           const std::vector<ColumnSpec>& schema,
                                                           DecodedRows& decoded,
                                                           std::string_view lines) {
  std::unique_lock lock(mu);
  Table* target = nullptr;
  if (auto db = catalog.databases.find(request.database); db != catalog.databases.end()) {
    if (auto it = db->second.tables.find(request.table); it != db->second.tables.end()) {
      target = &it->second;
    }
  }
  if (target == nullptr) {
    return IngestFailureInfo{400, "BadRequest_TableNotExist",
                             fmt::format("Table '{}' was dropped during ingestion", request.table)};
  }
  Table& t = *target;
  if (persistence.enabled()) {
    if (std::string error = persistence.appendRows(t.id, lines); !error.empty()) {
      return IngestFailureInfo{500, "General_InternalServerError", error};
    }
  }
  // The schema can only have grown (create-merge appends columns) since the snapshot.
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    auto& dst = t.columns[c].data;
    if (c < decoded.columns.size() && t.columns[c].name == schema[c].name) {
      dst.insert(dst.end(), std::make_move_iterator(decoded.columns[c].begin()),
                 std::make_move_iterator(decoded.columns[c].end()));
    } else {
      dst.resize(dst.size() + decoded.rows, defaultValue(t.columns[c].type));
    }
  }
  t.rows += decoded.rows;
  t.stats.records += decoded.rows;
  t.stats.bytes += request.data.size();
  t.stats.requests += 1;
  return std::nullopt;
}

EngineResult EngineCore::ingest(const IngestRequest& request, bool check_policy) {
  auto fail = [&](int status, std::string_view code, const std::string& message) {
    recordFailure(request, code, message);
    return ingestError(status, code, message);
  };
  auto format = parseDataFormat(request.format);
  if (!format) {
    return fail(400, "BadRequest_FormatNotSupported",
                fmt::format("Stream format '{}' is not supported by kusto-local", request.format));
  }
  IngestSnapshot snapshot;
  if (auto failure = snapshotForIngest(request, *format, check_policy, snapshot)) {
    return fail(failure->status, failure->code, failure->message);
  }
  if (request.data.size() > options.max_ingest_raw_bytes) {
    return fail(413, "Stream_InputStreamTooLarge",
                fmt::format("Input stream of {} bytes exceeds the streaming limit of {} bytes",
                            request.data.size(), options.max_ingest_raw_bytes));
  }
  DecodedRows decoded =
      decodeRecords(*format, request.data, snapshot.schema, snapshot.mapping.get());
  if (decoded.error) {
    return fail(400, decoded.error->code, decoded.error->message);
  }
  if (decoded.rows == 0) {
    return fail(400, "Stream_NoDataToIngest", "The input stream contains no records to ingest");
  }
  std::string lines;
  if (persistence.enabled()) {
    lines = Persistence::serializeRows(snapshot.schema, decoded.columns, decoded.rows);
  }
  std::size_t rows = decoded.rows;
  if (auto failure = appendDecoded(request, snapshot.schema, decoded, lines)) {
    recordFailure(request, failure->code, failure->message);
    // A disk write failure is the service's problem, not the request's: transient.
    return errorResult(failure->status, failure->code, failure->message, kIngestType,
                       failure->status < 500);
  }
  return EngineResult{200, ingestSuccessBody(rows)};
}

std::uint64_t Engine::countRecords(std::string_view format, std::string_view data) {
  return countRecordsFast(format, data);
}

EngineResult Engine::query(std::string_view database, std::string_view csl, bool v2) {
  KqlParse parsed = parseKql(csl);
  if (!parsed.query) {
    return queryError(parsed.error, kSyntaxType, "SYN0002");
  }
  if (database.empty()) {
    return badRequest("No database was specified for the query (the request's 'db' field)");
  }
  std::shared_lock lock(impl_->mu);
  auto db = impl_->catalog.databases.find(std::string(database));
  if (db == impl_->catalog.databases.end()) {
    return entityNotFound("Database", database);
  }
  auto table = db->second.tables.find(parsed.query->table);
  if (table == db->second.tables.end()) {
    return queryError(fmt::format("Semantic error: Failed to resolve table or column expression "
                                  "named '{}'",
                                  parsed.query->table),
                      kSemanticType, "SEM0100");
  }
  Frame frame;
  frame.columns = table->second.schema();
  for (const auto& c : table->second.columns) {
    frame.data.push_back(&c.data);
  }
  frame.rows = table->second.rows;
  KqlExec exec = executeKql(parsed.query->ops, frame);
  lock.unlock();
  if (!exec.result) {
    return queryError(exec.error, kSemanticType, "SEM0100");
  }
  auto& r = *exec.result;
  return EngineResult{200, v2 ? v2QueryFrames(r.columns, std::move(r.rows))
                              : v1QueryDataset(r.columns, std::move(r.rows))};
}

EngineResult Engine::mgmt(std::string_view database, std::string_view csl) {
  std::size_t pipe = pipeOffset(csl);
  std::string_view command_text = pipe == std::string_view::npos ? csl : csl.substr(0, pipe);
  CommandParse parsed = parseCommand(command_text);
  if (!parsed.command) {
    return errorResult(400, "General_BadRequest", parsed.error, kSyntaxType, true);
  }
  std::optional<KqlParse> ops;
  if (pipe != std::string_view::npos) {
    ops = parseKqlOperators(csl.substr(pipe));
    if (!ops->query) {
      return queryError(ops->error, kSyntaxType, "SYN0002");
    }
  }
  MgmtOutcome outcome = impl_->runCommand(database, *parsed.command);
  if (!outcome.table) {
    return std::move(outcome.error);
  }
  ResultSet& result = *outcome.table;
  if (ops) {
    // Re-type the JSON rows into cells so the query operators can run over them.
    std::vector<std::vector<Value>> cells(result.columns.size());
    for (const auto& row : result.rows) {
      for (std::size_t c = 0; c < result.columns.size(); ++c) {
        cells[c].push_back(valueFromJson(result.columns[c].type, row.at(c)));
      }
    }
    Frame frame;
    frame.columns = result.columns;
    for (const auto& c : cells) {
      frame.data.push_back(&c);
    }
    frame.rows = result.rows.size();
    KqlExec exec = executeKql(ops->query->ops, frame);
    if (!exec.result) {
      return queryError(exec.error, kSemanticType, "SEM0100");
    }
    result = std::move(*exec.result);
  }
  return EngineResult{200, v1SingleTable(result.columns, std::move(result.rows))};
}

std::map<std::string, TableStats> Engine::tableStats() const {
  std::shared_lock lock(impl_->mu);
  std::map<std::string, TableStats> out;
  for (const auto& [dname, db] : impl_->catalog.databases) {
    for (const auto& [tname, t] : db.tables) {
      std::string key = dname;
      key += '.';
      key += tname;
      out[key] = t.stats;
    }
  }
  return out;
}

}  // namespace kusto_local
