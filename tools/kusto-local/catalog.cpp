// Catalog helpers: schemas in the shapes the management commands return.
#include "catalog.h"

namespace kusto_local {

std::vector<ColumnSpec> Table::schema() const {
  std::vector<ColumnSpec> out;
  out.reserve(columns.size());
  for (const auto& c : columns) {
    out.push_back({c.name, c.type});
  }
  return out;
}

std::string Table::cslSchema() const {
  std::string out;
  for (const auto& c : columns) {
    if (!out.empty()) {
      out += ',';
    }
    out += c.name;
    out += ':';
    out += cslTypeName(c.type);
  }
  return out;
}

nlohmann::json Table::schemaJson() const {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : columns) {
    cols.push_back(
        {{"Name", c.name}, {"Type", dotNetTypeName(c.type)}, {"CslType", cslTypeName(c.type)}});
  }
  return {{"Name", name}, {"OrderedColumns", std::move(cols)}};
}

void Table::addColumn(std::string column_name, ColumnType type) {
  Column c;
  c.name = std::move(column_name);
  c.type = type;
  c.data.assign(rows, defaultValue(type));
  columns.push_back(std::move(c));
}

const StoredMapping* findMapping(const std::vector<StoredMapping>& list, std::string_view kind,
                                 std::string_view name) {
  for (const auto& m : list) {
    if (m.name == name && (kind.empty() || m.kind == kind)) {
      return &m;
    }
  }
  return nullptr;
}

Value defaultValue(ColumnType type) {
  return type == ColumnType::kString ? Value(std::string()) : Value();
}

}  // namespace kusto_local
