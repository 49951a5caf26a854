// KQL subset execution over column vectors (see kql.h). Rows are addressed through a
// selection of indices so `where`/`take` never copy cells.
#include <algorithm>
#include <deque>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "kql.h"
#include "lexer.h"

namespace kusto_local {
namespace {

std::string cellText(ColumnType type, const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v); s != nullptr && type != ColumnType::kDynamic) {
    return *s;
  }
  auto json = valueToJson(type, v);
  return json.is_string() ? json.get<std::string>() : json.dump();
}

bool matchText(CompareOp op, const std::string& cell, const std::string& lit) {
  std::string c = toLower(cell);
  std::string l = toLower(lit);
  switch (op) {
    case CompareOp::kEqCi: return c == l;
    case CompareOp::kNeCi: return c != l;
    case CompareOp::kContains:
    case CompareOp::kHas: return c.find(l) != std::string::npos;
    case CompareOp::kNotContains: return c.find(l) == std::string::npos;
    case CompareOp::kStartsWith: return c.rfind(l, 0) == 0;
    case CompareOp::kEndsWith:
      return c.size() >= l.size() && c.compare(c.size() - l.size(), l.size(), l) == 0;
    default: return false;
  }
}

class Executor {
 public:
  explicit Executor(const Frame& in) : cols_(in.columns), data_(in.data), rows_(in.rows) {}

  std::string run(const std::vector<KqlOp>& ops) {
    for (const auto& op : ops) {
      std::string error = apply(op);
      if (!error.empty()) {
        return error;
      }
    }
    return "";
  }

  ResultSet result() const {
    ResultSet out;
    out.columns = cols_;
    std::size_t n = count();
    for (std::size_t k = 0; k < n; ++k) {
      nlohmann::json row = nlohmann::json::array();
      std::size_t r = at(k);
      for (std::size_t c = 0; c < cols_.size(); ++c) {
        row.push_back(valueToJson(cols_[c].type, (*data_[c])[r]));
      }
      out.rows.push_back(std::move(row));
    }
    return out;
  }

 private:
  std::size_t count() const { return has_sel_ ? sel_.size() : rows_; }
  std::size_t at(std::size_t k) const { return has_sel_ ? sel_[k] : k; }

  void materialize() {
    if (!has_sel_) {
      sel_.resize(rows_);
      std::iota(sel_.begin(), sel_.end(), 0);
      has_sel_ = true;
    }
  }

  std::optional<std::size_t> column(std::string_view name) const {
    for (std::size_t i = 0; i < cols_.size(); ++i) {
      if (cols_[i].name == name) {
        return i;
      }
    }
    return std::nullopt;
  }

  std::string unresolved(std::string_view op, std::string_view name) const {
    return fmt::format(
        "Semantic error: '{}' operator: Failed to resolve scalar expression named "
        "'{}'",
        op, name);
  }

  // Replaces the current columns with freshly computed ones.
  void replace(std::vector<ColumnSpec> cols, std::vector<std::vector<Value>> data,
               std::size_t rows) {
    cols_ = std::move(cols);
    data_.clear();
    for (auto& d : data) {
      owned_.push_back(std::move(d));
      data_.push_back(&owned_.back());
    }
    rows_ = rows;
    has_sel_ = false;
    sel_.clear();
  }

  std::string apply(const KqlOp& op) {
    switch (op.kind) {
      case KqlOp::Kind::kWhere: return where(op);
      case KqlOp::Kind::kTake:
        materialize();
        if (sel_.size() > op.n) {
          sel_.resize(op.n);
        }
        return "";
      case KqlOp::Kind::kCount: {
        std::vector<std::vector<Value>> data(1);
        data[0].push_back(static_cast<std::int64_t>(count()));
        replace({{"Count", ColumnType::kLong}}, std::move(data), 1);
        return "";
      }
      case KqlOp::Kind::kSummarizeCount: return group(op, "summarize", true);
      case KqlOp::Kind::kDistinct: return group(op, "distinct", false);
      case KqlOp::Kind::kProject: return project(op);
      case KqlOp::Kind::kSort: return sort(op);
    }
    return "";
  }

  std::string where(const KqlOp& op) {
    struct Bound {
      std::size_t col;
      const Predicate* p;
      Value lit;
      std::string lit_text;
    };
    std::vector<Bound> bound;
    for (const auto& p : op.predicates) {
      auto idx = column(p.column);
      if (!idx) {
        return unresolved("where", p.column);
      }
      ColumnType type = cols_[*idx].type;
      Bound b{*idx, &p, {}, {}};
      b.lit = p.literal_text ? valueFromText(type, p.literal.get<std::string>())
                             : valueFromJson(type, p.literal);
      b.lit_text = p.literal.is_string() ? p.literal.get<std::string>() : p.literal.dump();
      bound.push_back(std::move(b));
    }
    std::vector<std::uint32_t> kept;
    std::size_t n = count();
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t r = at(k);
      bool ok = true;
      for (const auto& b : bound) {
        if (!test(b.p->op, cols_[b.col].type, (*data_[b.col])[r], b.lit, b.lit_text)) {
          ok = false;
          break;
        }
      }
      if (ok) {
        kept.push_back(static_cast<std::uint32_t>(r));
      }
    }
    sel_ = std::move(kept);
    has_sel_ = true;
    return "";
  }

  static bool test(CompareOp op, ColumnType type, const Value& cell, const Value& lit,
                   const std::string& lit_text) {
    switch (op) {
      case CompareOp::kIsNull: return isNull(cell);
      case CompareOp::kIsNotNull: return !isNull(cell);
      case CompareOp::kIsEmpty: return isNull(cell) || cellText(type, cell).empty();
      case CompareOp::kIsNotEmpty: return !isNull(cell) && !cellText(type, cell).empty();
      case CompareOp::kEq: return !isNull(lit) && cell == lit;
      case CompareOp::kNe: return !isNull(lit) && !isNull(cell) && cell != lit;
      case CompareOp::kLt: return !isNull(lit) && !isNull(cell) && cell < lit;
      case CompareOp::kLe: return !isNull(lit) && !isNull(cell) && cell <= lit;
      case CompareOp::kGt: return !isNull(lit) && !isNull(cell) && cell > lit;
      case CompareOp::kGe: return !isNull(lit) && !isNull(cell) && cell >= lit;
      default: return !isNull(cell) && matchText(op, cellText(type, cell), lit_text);
    }
  }

  std::string group(const KqlOp& op, std::string_view name, bool with_count) {
    std::vector<std::size_t> keys;
    for (const auto& c : op.columns) {
      auto idx = column(c);
      if (!idx) {
        return unresolved(name, c);
      }
      keys.push_back(*idx);
    }
    std::map<std::vector<Value>, std::size_t> index;
    std::vector<std::vector<Value>> out(keys.size() + (with_count ? 1 : 0));
    std::size_t groups = 0;
    std::size_t n = count();
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t r = at(k);
      std::vector<Value> key;
      key.reserve(keys.size());
      for (auto c : keys) {
        key.push_back((*data_[c])[r]);
      }
      auto [it, inserted] = index.emplace(std::move(key), groups);
      if (inserted) {
        for (std::size_t i = 0; i < keys.size(); ++i) {
          out[i].push_back(it->first[i]);
        }
        if (with_count) {
          out.back().push_back(std::int64_t{0});
        }
        ++groups;
      }
      if (with_count) {
        ++std::get<std::int64_t>(out.back()[it->second]);
      }
    }
    if (with_count && keys.empty() && groups == 0) {
      out.back().push_back(std::int64_t{0});  // summarize count() over nothing is one row of 0
      groups = 1;
    }
    std::vector<ColumnSpec> cols;
    cols.reserve(keys.size() + 1);
    for (auto c : keys) {
      cols.push_back(cols_[c]);
    }
    if (with_count) {
      cols.push_back({op.count_name, ColumnType::kLong});
    }
    replace(std::move(cols), std::move(out), groups);
    return "";
  }

  std::string project(const KqlOp& op) {
    std::vector<ColumnSpec> cols;
    std::vector<const std::vector<Value>*> data;
    for (const auto& [out_name, source] : op.project) {
      auto idx = column(source);
      if (!idx) {
        return unresolved("project", source);
      }
      cols.push_back({out_name, cols_[*idx].type});
      data.push_back(data_[*idx]);
    }
    cols_ = std::move(cols);
    data_ = std::move(data);
    return "";
  }

  std::string sort(const KqlOp& op) {
    auto idx = column(op.columns.front());
    if (!idx) {
      return unresolved("sort", op.columns.front());
    }
    materialize();
    const auto& col = *data_[*idx];
    bool desc = op.descending;
    std::stable_sort(sel_.begin(), sel_.end(), [&](std::uint32_t a, std::uint32_t b) {
      // Nulls first when ascending, last when descending (Kusto's default placement).
      return desc ? col[b] < col[a] : col[a] < col[b];
    });
    return "";
  }

  std::vector<ColumnSpec> cols_;
  std::vector<const std::vector<Value>*> data_;
  std::deque<std::vector<Value>> owned_;
  std::size_t rows_ = 0;
  bool has_sel_ = false;
  std::vector<std::uint32_t> sel_;
};

}  // namespace

KqlExec executeKql(const std::vector<KqlOp>& ops, const Frame& input) {
  KqlExec out;
  Executor exec(input);
  out.error = exec.run(ops);
  if (out.error.empty()) {
    out.result = exec.result();
  }
  return out;
}

}  // namespace kusto_local
