// Ingestion mapping parsing and JSON-path evaluation (see mapping.h).
#include "mapping.h"

#include <charconv>

#include <fmt/format.h>

#include "lexer.h"

namespace kusto_local {
namespace {

// Case-insensitive member lookup.
const nlohmann::json* member(const nlohmann::json& obj, std::string_view key) {
  if (!obj.is_object()) {
    return nullptr;
  }
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (iequals(it.key(), key)) {
      return &it.value();
    }
  }
  return nullptr;
}

std::optional<std::string> scalarText(const nlohmann::json* v) {
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  if (v->is_string()) {
    return v->get<std::string>();
  }
  return v->dump();
}

std::optional<Transform> parseTransform(std::string_view name) {
  struct Entry {
    std::string_view name;
    Transform transform;
  };
  static constexpr Entry kEntries[] = {
      {"None", Transform::kNone},
      {"SourceLineNumber", Transform::kSourceLineNumber},
      {"SourceLocation", Transform::kSourceLocation},
      {"DateTimeFromUnixSeconds", Transform::kDateTimeFromUnixSeconds},
      {"DateTimeFromUnixMilliseconds", Transform::kDateTimeFromUnixMilliseconds},
      {"DateTimeFromUnixMicroseconds", Transform::kDateTimeFromUnixMicroseconds},
      {"DateTimeFromUnixNanoseconds", Transform::kDateTimeFromUnixNanoseconds},
      {"PropertyBagArrayToDictionary", Transform::kPropertyBagArrayToDictionary},
  };
  for (const auto& e : kEntries) {
    if (iequals(e.name, name)) {
      return e.transform;
    }
  }
  return std::nullopt;
}

std::string parseElement(const nlohmann::json& el, bool json_kind, MappingColumn& col) {
  if (!el.is_object()) {
    return "each mapping element must be a JSON object";
  }
  auto column = scalarText(member(el, "column"));
  if (!column) {
    column = scalarText(member(el, "name"));
  }
  if (!column || column->empty()) {
    return "a mapping element has no 'Column'";
  }
  col.column = *column;
  if (auto dt = scalarText(member(el, "datatype")); dt && !dt->empty()) {
    col.datatype = parseColumnType(*dt);
    if (!col.datatype) {
      return fmt::format("column '{}': unknown DataType '{}'", col.column, *dt);
    }
  }
  nlohmann::json props = nlohmann::json::object();
  if (const auto* p = member(el, "properties"); p != nullptr && !p->is_null()) {
    props = p->is_string() ? nlohmann::json::parse(p->get<std::string>(), nullptr, false) : *p;
    if (!props.is_object()) {
      return fmt::format("column '{}': 'Properties' must be an object", col.column);
    }
  }
  auto prop = [&](std::string_view key) {
    auto v = scalarText(member(props, key));
    return v ? v : scalarText(member(el, key));
  };
  if (auto t = prop("transform"); t && !t->empty()) {
    auto parsed = parseTransform(*t);
    if (!parsed) {
      return fmt::format("column '{}': unsupported transform '{}'", col.column, *t);
    }
    col.transform = *parsed;
  }
  col.const_value = prop("constvalue");
  if (json_kind) {
    if (auto path = prop("path")) {
      col.path = parseJsonPath(*path);
      if (!col.path) {
        return fmt::format("column '{}': invalid JSON path '{}'", col.column, *path);
      }
    }
  } else if (auto ord = prop("ordinal"); ord && !ord->empty()) {
    std::size_t v = 0;
    auto [ptr, ec] = std::from_chars(ord->data(), ord->data() + ord->size(), v);
    if (ec != std::errc() || ptr != ord->data() + ord->size()) {
      return fmt::format("column '{}': invalid Ordinal '{}'", col.column, *ord);
    }
    col.ordinal = v;
  }
  bool sourced = col.path || col.ordinal || col.const_value ||
                 col.transform == Transform::kSourceLineNumber ||
                 col.transform == Transform::kSourceLocation;
  if (!sourced) {
    return fmt::format("column '{}': needs {} or ConstValue", col.column,
                       json_kind ? "a Path" : "an Ordinal");
  }
  return "";
}

}  // namespace

MappingParse parseMapping(std::string_view kind, std::string_view json_text) {
  MappingParse out;
  auto doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) {
    out.error = "the mapping is not valid JSON";
    return out;
  }
  if (!doc.is_array() || doc.empty()) {
    out.error = "the mapping must be a non-empty JSON array";
    return out;
  }
  ParsedMapping mapping;
  mapping.kind = toLower(kind);
  bool json_kind = mapping.kind != "csv";
  for (const auto& el : doc) {
    MappingColumn col;
    std::string error = parseElement(el, json_kind, col);
    if (!error.empty()) {
      out.error = error;
      return out;
    }
    mapping.columns.push_back(std::move(col));
  }
  out.mapping = std::move(mapping);
  return out;
}

std::optional<std::vector<PathStep>> parseJsonPath(std::string_view path) {
  std::vector<PathStep> steps;
  if (path.empty() || path[0] != '$') {
    return std::nullopt;
  }
  std::size_t i = 1;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      std::size_t start = i;
      while (i < path.size() && path[i] != '.' && path[i] != '[') {
        ++i;
      }
      if (i == start) {
        return std::nullopt;
      }
      steps.push_back({false, std::string(path.substr(start, i - start)), 0});
    } else if (path[i] == '[') {
      ++i;
      if (i < path.size() && (path[i] == '\'' || path[i] == '"')) {
        char quote = path[i++];
        std::string key;
        while (i < path.size() && path[i] != quote) {
          if (path[i] == '\\' && i + 1 < path.size()) {
            ++i;
          }
          key += path[i++];
        }
        if (i + 1 >= path.size() || path[i + 1] != ']') {
          return std::nullopt;
        }
        i += 2;
        steps.push_back({false, std::move(key), 0});
      } else {
        std::size_t start = i;
        while (i < path.size() && path[i] >= '0' && path[i] <= '9') {
          ++i;
        }
        if (i == start || i >= path.size() || path[i] != ']') {
          return std::nullopt;
        }
        std::size_t index = 0;
        std::from_chars(path.data() + start, path.data() + i, index);
        ++i;
        steps.push_back({true, "", index});
      }
    } else {
      return std::nullopt;
    }
  }
  return steps;
}

const nlohmann::json* evalJsonPath(const nlohmann::json& doc, const std::vector<PathStep>& path) {
  const nlohmann::json* cur = &doc;
  for (const auto& step : path) {
    if (step.is_index) {
      if (!cur->is_array() || step.index >= cur->size()) {
        return nullptr;
      }
      cur = &(*cur)[step.index];
    } else {
      if (!cur->is_object()) {
        return nullptr;
      }
      auto it = cur->find(step.key);
      if (it == cur->end()) {
        return nullptr;
      }
      cur = &*it;
    }
  }
  return cur;
}

}  // namespace kusto_local
