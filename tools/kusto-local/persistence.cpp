// --data-dir persistence (see persistence.h).
#include "persistence.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace kusto_local {
namespace {

constexpr int kFormatVersion = 1;

std::string writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::strerror(errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return "";
}

nlohmann::json mappingsToJson(const std::vector<StoredMapping>& mappings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : mappings) {
    out.push_back({{"name", m.name},
                   {"kind", m.kind},
                   {"mapping", m.text},
                   {"last_updated", m.last_updated}});
  }
  return out;
}

std::string mappingsFromJson(const nlohmann::json& in, std::vector<StoredMapping>& out) {
  for (const auto& j : in) {
    StoredMapping m;
    m.name = j.at("name").get<std::string>();
    m.kind = j.at("kind").get<std::string>();
    m.text = j.at("mapping").get<std::string>();
    m.last_updated = j.value("last_updated", "");
    auto parsed = parseMapping(m.kind, m.text);
    if (!parsed.mapping) {
      return fmt::format("mapping '{}': {}", m.name, parsed.error);
    }
    m.parsed = std::make_shared<const ParsedMapping>(std::move(*parsed.mapping));
    out.push_back(std::move(m));
  }
  return "";
}

nlohmann::json policyJson(const std::optional<nlohmann::json>& policy) {
  return policy ? *policy : nlohmann::json();
}

std::optional<nlohmann::json> policyFrom(const nlohmann::json& j) {
  if (j.is_null()) {
    return std::nullopt;
  }
  return j;
}

nlohmann::json tableToJson(const Table& t) {
  nlohmann::json cols = nlohmann::json::array();
  for (const auto& c : t.columns) {
    cols.push_back({c.name, cslTypeName(c.type)});
  }
  return {{"id", t.id},
          {"name", t.name},
          {"folder", t.folder},
          {"docstring", t.docstring},
          {"columns", cols},
          {"policy", policyJson(t.policy)},
          {"mappings", mappingsToJson(t.mappings)}};
}

std::string tableFromJson(const nlohmann::json& j, Table& t) {
  t.id = j.at("id").get<std::uint64_t>();
  t.name = j.at("name").get<std::string>();
  t.folder = j.value("folder", "");
  t.docstring = j.value("docstring", "");
  for (const auto& c : j.at("columns")) {
    auto type = parseColumnType(c.at(1).get<std::string>());
    if (!type) {
      return fmt::format("table '{}': unknown column type", t.name);
    }
    t.addColumn(c.at(0).get<std::string>(), *type);
  }
  t.policy = policyFrom(j.value("policy", nlohmann::json()));
  return mappingsFromJson(j.value("mappings", nlohmann::json::array()), t.mappings);
}

}  // namespace

std::string Persistence::rowsPath(std::uint64_t table_id) const {
  return fmt::format("{}/rows/{}.jsonl", dir_, table_id);
}

std::string Persistence::saveMetadata(const Catalog& catalog) const {
  nlohmann::json dbs = nlohmann::json::array();
  for (const auto& [name, db] : catalog.databases) {
    nlohmann::json tables = nlohmann::json::array();
    for (const auto& [tname, t] : db.tables) {
      tables.push_back(tableToJson(t));
    }
    dbs.push_back({{"name", db.name},
                   {"volatile", db.is_volatile},
                   {"policy", policyJson(db.policy)},
                   {"mappings", mappingsToJson(db.mappings)},
                   {"tables", std::move(tables)}});
  }
  nlohmann::json doc = {{"version", kFormatVersion},
                        {"next_table_id", catalog.next_table_id},
                        {"databases", std::move(dbs)}};
  std::error_code ec;
  std::filesystem::create_directories(dir_ + "/rows", ec);
  std::string tmp = dir_ + "/metadata.json.tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fmt::format("cannot write '{}': {}", tmp, std::strerror(errno));
  }
  std::string error = writeAll(fd, doc.dump(1) + "\n");
  if (error.empty() && ::fsync(fd) != 0) {
    error = std::strerror(errno);
  }
  ::close(fd);
  if (error.empty() && ::rename(tmp.c_str(), (dir_ + "/metadata.json").c_str()) != 0) {
    error = std::strerror(errno);
  }
  if (!error.empty()) {
    return fmt::format("cannot write metadata in '{}': {}", dir_, error);
  }
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return "";
}

std::string Persistence::appendRows(std::uint64_t table_id, std::string_view lines) const {
  std::error_code ec;
  std::filesystem::create_directories(dir_ + "/rows", ec);
  std::string path = rowsPath(table_id);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return fmt::format("cannot open '{}': {}", path, std::strerror(errno));
  }
  std::string error = writeAll(fd, lines);
  ::close(fd);
  return error.empty() ? "" : fmt::format("cannot append to '{}': {}", path, error);
}

void Persistence::removeRows(std::uint64_t table_id) const {
  std::error_code ec;
  std::filesystem::remove(rowsPath(table_id), ec);
}

std::string Persistence::serializeRows(const std::vector<ColumnSpec>& schema,
                                       const std::vector<std::vector<Value>>& columns,
                                       std::size_t rows) {
  std::string out;
  for (std::size_t r = 0; r < rows; ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (std::size_t c = 0; c < schema.size(); ++c) {
      row.push_back(valueToJson(schema[c].type, columns[c][r]));
    }
    out += row.dump();
    out += '\n';
  }
  return out;
}

std::string Persistence::loadRows(Table& table) const {
  std::string path = rowsPath(table.id);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return "";
  }
  std::string line;
  std::uint64_t good_bytes = 0;
  bool torn = false;
  while (std::getline(in, line)) {
    bool complete = !in.eof();
    auto row = nlohmann::json::parse(line, nullptr, false);
    if (!complete || row.is_discarded() || !row.is_array()) {
      torn = true;
      break;
    }
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      auto& col = table.columns[c];
      col.data.push_back(c < row.size() ? valueFromJson(col.type, row[c]) : defaultValue(col.type));
    }
    ++table.rows;
    good_bytes += line.size() + 1;
  }
  in.close();
  if (torn) {
    std::error_code ec;
    std::filesystem::resize_file(path, good_bytes, ec);
  }
  table.stats.records = table.rows;
  return "";
}

std::string Persistence::load(Catalog& catalog) const {
  std::string path = dir_ + "/metadata.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return "";  // a fresh directory
  }
  auto doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fmt::format("'{}' is not valid JSON", path);
  }
  if (doc.value("version", 0) != kFormatVersion) {
    return fmt::format("'{}' has an unsupported version", path);
  }
  try {
    catalog = Catalog{};
    catalog.next_table_id = doc.value("next_table_id", std::uint64_t{1});
    for (const auto& jdb : doc.at("databases")) {
      Database db;
      db.name = jdb.at("name").get<std::string>();
      db.is_volatile = jdb.value("volatile", false);
      db.policy = policyFrom(jdb.value("policy", nlohmann::json()));
      if (auto e = mappingsFromJson(jdb.value("mappings", nlohmann::json::array()), db.mappings);
          !e.empty()) {
        return e;
      }
      for (const auto& jt : jdb.at("tables")) {
        Table t;
        if (auto e = tableFromJson(jt, t); !e.empty()) {
          return e;
        }
        if (auto e = loadRows(t); !e.empty()) {
          return e;
        }
        std::string tname = t.name;
        db.tables.emplace(tname, std::move(t));
      }
      std::string dname = db.name;
      catalog.databases.emplace(dname, std::move(db));
    }
  } catch (const nlohmann::json::exception& e) {
    return fmt::format("'{}' is malformed: {}", path, e.what());
  }
  return "";
}

}  // namespace kusto_local
