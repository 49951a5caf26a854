// KQL subset parser (see kql.h).
#include "kql.h"

#include <fmt/format.h>

#include "lexer.h"

namespace kusto_local {
namespace {


bool isTimespanUnit(std::string_view w) {
  static constexpr std::string_view kUnits[] = {"d",       "h",           "m",
                                                "s",       "ms",          "min",
                                                "sec",     "microsecond", "microseconds",
                                                "tick",    "ticks",       "day",
                                                "days",    "hour",        "hours",
                                                "minute",  "minutes",     "second",
                                                "seconds", "millisecond", "milliseconds"};
  for (auto u : kUnits) {
    if (iequals(u, w)) {
      return true;
    }
  }
  return false;
}

class KqlParser : private TokenCursor {
 public:
  KqlParser(std::string_view text, std::vector<Token> tokens)
      : TokenCursor(std::move(tokens), "end of query"), text_(text) {}

  KqlParse query() {
    KqlParse out;
    KqlQuery q;
    bool have_query = false;
    while (cur().kind != TokenKind::kEnd) {
      if (acceptPunct(";")) {
        continue;
      }
      if (isWord("set") || isWord("declare") || isWord("alias")) {
        while (cur().kind != TokenKind::kEnd && !isPunct(";")) {
          ++pos_;
        }
        continue;
      }
      if (have_query) {
        fail("only one tabular expression is supported");
        break;
      }
      if (!tableName(q.table) || !operators(q.ops)) {
        break;
      }
      have_query = true;
    }
    if (error_.empty() && !have_query) {
      fail("expected a table name");
    }
    if (!error_.empty()) {
      out.error = error_;
      return out;
    }
    out.query = std::move(q);
    return out;
  }

  KqlParse operatorsOnly() {
    KqlParse out;
    KqlQuery q;
    if (operators(q.ops)) {
      acceptPunct(";");
      if (cur().kind != TokenKind::kEnd) {
        fail("unexpected text after the query");
      }
    }
    if (!error_.empty()) {
      out.error = error_;
      return out;
    }
    out.query = std::move(q);
    return out;
  }

 private:
  bool identifier(std::string& out, std::string_view what) {
    if (cur().kind != TokenKind::kWord) {
      return fail(fmt::format("expected a {} name", what));
    }
    out = cur().text;
    ++pos_;
    return true;
  }

  bool tableName(std::string& out) {
    if (isWord("table") && peek(1).kind == TokenKind::kPunct && peek(1).text == "(") {
      pos_ += 2;
      if (cur().kind != TokenKind::kString) {
        return fail("expected a table name string");
      }
      out = cur().text;
      ++pos_;
      return expectPunct(")");
    }
    return identifier(out, "table");
  }

  bool operators(std::vector<KqlOp>& ops) {
    while (acceptPunct("|")) {
      KqlOp op;
      if (!oneOperator(op)) {
        return false;
      }
      ops.push_back(std::move(op));
    }
    if (cur().kind != TokenKind::kEnd && !isPunct(";")) {
      return fail("expected '|' or the end of the query");
    }
    return true;
  }

  bool oneOperator(KqlOp& op) {
    if (acceptWord("where") || acceptWord("filter")) {
      op.kind = KqlOp::Kind::kWhere;
      do {
        Predicate p;
        if (!predicate(p)) {
          return false;
        }
        op.predicates.push_back(std::move(p));
      } while (acceptWord("and"));
      return true;
    }
    if (acceptWord("take") || acceptWord("limit")) {
      op.kind = KqlOp::Kind::kTake;
      if (cur().kind != TokenKind::kNumber ||
          cur().text.find_first_of(".eE") != std::string::npos) {
        return fail("expected a row count");
      }
      op.n = std::stoull(cur().text.size() > 18 ? std::string("999999999999999999") : cur().text);
      ++pos_;
      return true;
    }
    if (acceptWord("count")) {
      op.kind = KqlOp::Kind::kCount;
      return true;
    }
    if (acceptWord("summarize")) {
      return summarize(op);
    }
    if (acceptWord("project")) {
      return project(op);
    }
    if (acceptWord("sort") || acceptWord("order")) {
      op.kind = KqlOp::Kind::kSort;
      if (!acceptWord("by")) {
        return fail("expected 'by'");
      }
      op.columns.emplace_back();
      if (!identifier(op.columns.back(), "column")) {
        return false;
      }
      if (acceptWord("asc")) {
        op.descending = false;
      } else {
        acceptWord("desc");
      }
      return true;
    }
    if (acceptWord("distinct")) {
      op.kind = KqlOp::Kind::kDistinct;
      return columnList(op.columns);
    }
    return fail("unsupported query operator");
  }

  bool columnList(std::vector<std::string>& out) {
    do {
      out.emplace_back();
      if (!identifier(out.back(), "column")) {
        return false;
      }
    } while (acceptPunct(","));
    return true;
  }

  bool summarize(KqlOp& op) {
    op.kind = KqlOp::Kind::kSummarizeCount;
    if (cur().kind == TokenKind::kWord && peek(1).kind == TokenKind::kPunct &&
        peek(1).text == "=") {
      op.count_name = cur().text;
      pos_ += 2;
    }
    if (!acceptWord("count") || !expectPunct("(") || !expectPunct(")")) {
      return fail("only count() is supported in summarize");
    }
    if (acceptWord("by")) {
      return columnList(op.columns);
    }
    return true;
  }

  bool project(KqlOp& op) {
    op.kind = KqlOp::Kind::kProject;
    do {
      std::string out_name;
      if (!identifier(out_name, "column")) {
        return false;
      }
      std::string source = out_name;
      if (acceptPunct("=") && !identifier(source, "column")) {
        return false;
      }
      op.project.emplace_back(out_name, source);
    } while (acceptPunct(","));
    return true;
  }

  bool predicate(Predicate& p) {
    static constexpr std::pair<std::string_view, CompareOp> kFuncs[] = {
        {"isnull", CompareOp::kIsNull},
        {"isnotnull", CompareOp::kIsNotNull},
        {"isempty", CompareOp::kIsEmpty},
        {"isnotempty", CompareOp::kIsNotEmpty}};
    for (auto [name, op] : kFuncs) {
      if (isWord(name) && peek(1).kind == TokenKind::kPunct && peek(1).text == "(") {
        pos_ += 2;
        p.op = op;
        return identifier(p.column, "column") && expectPunct(")");
      }
    }
    if (!identifier(p.column, "column")) {
      return false;
    }
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {"==", CompareOp::kEq},   {"!=", CompareOp::kNe}, {"=~", CompareOp::kEqCi},
        {"!~", CompareOp::kNeCi}, {"<", CompareOp::kLt},  {"<=", CompareOp::kLe},
        {">", CompareOp::kGt},    {">=", CompareOp::kGe}};
    static constexpr std::pair<std::string_view, CompareOp> kWords[] = {
        {"contains", CompareOp::kContains},
        {"has", CompareOp::kHas},
        {"startswith", CompareOp::kStartsWith},
        {"endswith", CompareOp::kEndsWith}};
    bool found = false;
    for (auto [text, op] : kOps) {
      if (isPunct(text)) {
        p.op = op;
        found = true;
        ++pos_;
        break;
      }
    }
    for (auto [text, op] : kWords) {
      if (!found && acceptWord(text)) {
        p.op = op;
        found = true;
      }
    }
    if (!found) {
      return fail("expected a comparison operator");
    }
    return literal(p);
  }

  // Text between '(' and the matching ')' of datetime(...) / timespan(...).
  bool rawCall(std::string& out) {
    if (!isPunct("(")) {
      return fail("expected '('");
    }
    std::size_t open = cur().offset;
    while (cur().kind != TokenKind::kEnd && !isPunct(")")) {
      ++pos_;
    }
    if (!isPunct(")")) {
      return fail("expected ')'");
    }
    out = std::string(text_.substr(open + 1, cur().offset - open - 1));
    ++pos_;
    while (!out.empty() && (out.front() == ' ' || out.front() == '\'' || out.front() == '"')) {
      out.erase(0, 1);
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '\'' || out.back() == '"')) {
      out.pop_back();
    }
    return true;
  }

  bool number(Predicate& p, bool negative) {
    std::string text = (negative ? "-" : "") + cur().text;
    const Token& num = cur();
    ++pos_;
    if (cur().kind == TokenKind::kWord && cur().offset == num.offset + num.text.size() &&
        isTimespanUnit(cur().text)) {
      p.literal = text + cur().text;
      p.literal_text = true;
      ++pos_;
      return true;
    }
    auto parsed = nlohmann::json::parse(text, nullptr, false);
    if (parsed.is_discarded()) {
      return fail("invalid number");
    }
    p.literal = parsed;
    return true;
  }

  bool literal(Predicate& p) {
    if (cur().kind == TokenKind::kString) {
      p.literal = cur().text;
      p.literal_text = true;
      ++pos_;
      return true;
    }
    if (cur().kind == TokenKind::kNumber) {
      return number(p, false);
    }
    if (acceptPunct("-")) {
      if (cur().kind != TokenKind::kNumber) {
        return fail("expected a number");
      }
      return number(p, true);
    }
    if (acceptWord("true") || acceptWord("false")) {
      p.literal = iequals(t_[pos_ - 1].text, "true");
      return true;
    }
    if (acceptWord("datetime") || acceptWord("timespan") || acceptWord("time") ||
        acceptWord("guid") || acceptWord("int") || acceptWord("long") || acceptWord("real") ||
        acceptWord("bool") || acceptWord("dynamic")) {
      std::string raw;
      if (!rawCall(raw)) {
        return false;
      }
      p.literal = raw;
      p.literal_text = true;
      return true;
    }
    return fail("expected a literal");
  }

  std::string_view text_;
};

}  // namespace

KqlParse parseKql(std::string_view text) {
  LexResult lexed = tokenize(text, false);
  if (!lexed.error.empty()) {
    KqlParse out;
    out.error = "Syntax error: " + lexed.error;
    return out;
  }
  return KqlParser(text, std::move(lexed.tokens)).query();
}

KqlParse parseKqlOperators(std::string_view text) {
  LexResult lexed = tokenize(text, false);
  if (!lexed.error.empty()) {
    KqlParse out;
    out.error = "Syntax error: " + lexed.error;
    return out;
  }
  return KqlParser(text, std::move(lexed.tokens)).operatorsOnly();
}

}  // namespace kusto_local
