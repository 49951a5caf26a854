// The KQL subset: parsing `T | where ... | take N | count | summarize count() by C | project ...
// | sort by C` into a query struct (pure, fuzzed) and running the operators over columns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "responses.h"
#include "values.h"

namespace kusto_local {

enum class CompareOp {
  kEq,
  kNe,
  kEqCi,  // =~
  kNeCi,  // !~
  kLt,
  kLe,
  kGt,
  kGe,
  kContains,  // case-insensitive, like Kusto
  kNotContains,
  kHas,  // approximated as a case-insensitive substring match
  kStartsWith,
  kEndsWith,
  kIsNull,
  kIsNotNull,
  kIsEmpty,
  kIsNotEmpty,
};

// NOLINTNEXTLINE(bugprone-exception-escape): a nlohmann::json member, whose moves do not throw
struct Predicate {
  std::string column;
  CompareOp op = CompareOp::kEq;
  nlohmann::json literal;     // string, number, bool or null
  bool literal_text = false;  // literal came as text (string, datetime(...), timespan(...))
};

struct KqlOp {
  enum class Kind { kWhere, kTake, kCount, kSummarizeCount, kProject, kSort, kDistinct };
  Kind kind = Kind::kTake;
  std::vector<Predicate> predicates;                         // where: all must hold (`and`)
  std::uint64_t n = 0;                                       // take / limit
  std::string count_name = "count_";                         // summarize [Name=]count()
  std::vector<std::string> columns;                          // summarize by / distinct / sort key
  std::vector<std::pair<std::string, std::string>> project;  // (output name, source column)
  bool descending = true;                                    // sort: Kusto's default is desc
};

struct KqlQuery {
  std::string table;
  std::vector<KqlOp> ops;
};

struct KqlParse {
  std::optional<KqlQuery> query;
  std::string error;  // "Syntax error: ..."
};

// Leading `set ...;` / `declare ...;` statements are ignored.
KqlParse parseKql(std::string_view text);
// Only the operators ("| where ... | count"), for piping management-command results.
KqlParse parseKqlOperators(std::string_view text);

// Input columns (not owned) and their row count.
struct Frame {
  std::vector<ColumnSpec> columns;
  std::vector<const std::vector<Value>*> data;
  std::size_t rows = 0;
};

struct ResultSet {
  std::vector<ColumnSpec> columns;
  nlohmann::json rows = nlohmann::json::array();
};

struct KqlExec {
  std::optional<ResultSet> result;
  std::string error;  // "Semantic error: ..."
};

KqlExec executeKql(const std::vector<KqlOp>& ops, const Frame& input);

}  // namespace kusto_local
