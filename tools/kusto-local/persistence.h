// --data-dir persistence: metadata.json (databases, tables, mappings, policies) rewritten
// atomically on every metadata change, and one append-only rows/<table-id>.jsonl file per table
// (one JSON array per row). Called with the engine's catalog lock held.
#pragma once

#include <string>
#include <string_view>

#include "catalog.h"

namespace kusto_local {

class Persistence {
 public:
  explicit Persistence(std::string dir) : dir_(std::move(dir)) {}

  bool enabled() const { return !dir_.empty(); }
  // Writes metadata.json via temp file + fsync + rename + directory fsync. Returns an error
  // text or "".
  std::string saveMetadata(const Catalog& catalog) const;
  // Appends already-serialized row lines ("[...]\n" each) to the table's row file.
  std::string appendRows(std::uint64_t table_id, std::string_view lines) const;
  void removeRows(std::uint64_t table_id) const;
  // Rebuilds the catalog. A torn last line (crash during an append) is dropped and the file
  // truncated to its last complete row.
  std::string load(Catalog& catalog) const;

  // One JSON array per row, newline-terminated.
  static std::string serializeRows(const std::vector<ColumnSpec>& schema,
                                   const std::vector<std::vector<Value>>& columns,
                                   std::size_t rows);

 private:
  std::string rowsPath(std::uint64_t table_id) const;
  std::string loadRows(Table& table) const;

  std::string dir_;
};

}  // namespace kusto_local
