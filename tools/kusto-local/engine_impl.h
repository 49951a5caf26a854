// Engine internals shared by engine.cpp (ingest, query) and engine_mgmt.cpp (control commands).
#pragma once

#include <deque>
#include <mutex>
#include <shared_mutex>

#include "catalog.h"
#include "commands.h"
#include "engine.h"
#include "ingest_formats.h"
#include "kql.h"
#include "persistence.h"

namespace kusto_local {

// Exception type names used in OneApi errors.
inline constexpr std::string_view kBadRequestType =
    "Kusto.Data.Exceptions.KustoBadRequestException";
inline constexpr std::string_view kSyntaxType = "Kusto.Data.Exceptions.SyntaxException";
inline constexpr std::string_view kSemanticType = "Kusto.Data.Exceptions.SemanticException";
inline constexpr std::string_view kEntityNotFoundType =
    "Kusto.Data.Exceptions.EntityNotFoundException";
inline constexpr std::string_view kIngestType =
    "Kusto.DataNode.Exceptions.StreamingIngestionRequestException";

struct IngestFailure {
  std::string database;
  std::string table;
  std::string root_activity_id;
  std::string properties;  // JSON text of the request's format/mapping
  std::int64_t count = 0;
  std::string first_on;
  std::string last_on;
  std::string error_code;
  std::string details;
};

struct IngestFailureInfo {
  int status = 400;
  std::string code;
  std::string message;
};

struct IngestSnapshot;

// The result of a management command: a table, or an error.
// NOLINTNEXTLINE(bugprone-exception-escape): a nlohmann::json member, whose moves do not throw
struct MgmtOutcome {
  std::optional<ResultSet> table;
  EngineResult error;

  static MgmtOutcome ok(std::vector<ColumnSpec> columns, nlohmann::json rows) {
    MgmtOutcome out;
    out.table = ResultSet{std::move(columns), std::move(rows)};
    return out;
  }
  static MgmtOutcome fail(EngineResult error) {
    MgmtOutcome out;
    out.error = std::move(error);
    return out;
  }
};

// The engine state; Engine::Impl derives from it so the command handlers in
// engine_mgmt.cpp can reach it (Engine::Impl itself is private).
struct EngineCore {
  explicit EngineCore(EngineOptions opts)
      : options(std::move(opts)), persistence(options.data_dir) {}

  EngineOptions options;
  // Guards catalog. Ingest decodes without it and takes it exclusively only to append.
  mutable std::shared_mutex mu;
  Catalog catalog;
  // Guards failures; never held together with mu.
  std::mutex failures_mu;
  std::deque<IngestFailure> failures;
  Persistence persistence;

  void recordFailure(const IngestRequest& request, std::string_view code, std::string_view details);
  // Shared by streaming ingest and `.ingest inline`; check_policy=false for the latter.
  EngineResult ingest(const IngestRequest& request, bool check_policy);
  // Validates the request against the catalog (shared lock) and copies the schema and mapping.
  std::optional<IngestFailureInfo> snapshotForIngest(const IngestRequest& request,
                                                     DataFormat format, bool check_policy,
                                                     IngestSnapshot& out) const;
  // Appends decoded rows (exclusive lock): the row file first, then memory, so a failed write
  // stores nothing. Returns an error text ("" on success).
  std::optional<IngestFailureInfo> appendDecoded(const IngestRequest& request,
                                                 const std::vector<ColumnSpec>& schema,
                                                 DecodedRows& decoded, std::string_view lines);
  // Saves metadata when persistence is on; call with mu held.
  void persistMetadata();

  MgmtOutcome runCommand(std::string_view database, const Command& cmd);
};

struct Engine::Impl : EngineCore {
  using EngineCore::EngineCore;
};

// Errors shared by the command handlers.
EngineResult badRequest(std::string_view message);
EngineResult entityNotFound(std::string_view kind, std::string_view name);

}  // namespace kusto_local
