// Control-command parser (see commands.h). Recursive descent over lexer tokens.
#include "commands.h"

#include <array>

#include <fmt/format.h>

#include "lexer.h"

namespace kusto_local {
namespace {

constexpr std::array<std::string_view, 8> kMappingKinds = {"csv",        "json",    "avro",
                                                           "apacheavro", "parquet", "orc",
                                                           "w3clogfile", "sstream"};


class Parser : private TokenCursor {
 public:
  explicit Parser(std::vector<Token> tokens) : TokenCursor(std::move(tokens), "end of command") {}

  CommandParse run() {
    CommandParse out;
    Command cmd;
    if (!expectPunct(".") || !parseCommandWord(cmd) || !expectEnd()) {
      out.error = error_;
      return out;
    }
    out.command = std::move(cmd);
    return out;
  }

 private:
  bool expectEnd() {
    acceptPunct(";");
    return cur().kind == TokenKind::kEnd || fail("unexpected text after the command");
  }

  // A table, database, column or mapping name: a word, a bracketed name or a string.
  bool name(std::string& out, std::string_view what) {
    if (cur().kind == TokenKind::kWord || cur().kind == TokenKind::kString) {
      out = cur().text;
      ++pos_;
      if (out.empty()) {
        return fail(fmt::format("{} name is empty", what));
      }
      return true;
    }
    return fail(fmt::format("expected a {} name", what));
  }

  // One or more adjacent string literals, concatenated (how long mappings are written).
  bool stringLiteral(std::string& out, std::string_view what) {
    if (cur().kind != TokenKind::kString) {
      return fail(fmt::format("expected {} as a string literal", what));
    }
    out.clear();
    while (cur().kind == TokenKind::kString) {
      out += cur().text;
      ++pos_;
    }
    return true;
  }

  bool withClause(Command& cmd) {
    if (!acceptWord("with")) {
      return true;
    }
    if (!expectPunct("(")) {
      return false;
    }
    while (!isPunct(")")) {
      std::string key;
      if (!name(key, "property") || !expectPunct("=")) {
        return false;
      }
      const Token& v = cur();
      if (v.kind != TokenKind::kString && v.kind != TokenKind::kWord &&
          v.kind != TokenKind::kNumber) {
        return fail("expected a property value");
      }
      std::string value;
      if (v.kind == TokenKind::kString) {
        stringLiteral(value, "value");
      } else {
        value = v.text;
        ++pos_;
      }
      cmd.with[toLower(key)] = value;
      if (!acceptPunct(",")) {
        break;
      }
    }
    return expectPunct(")");
  }

  bool entity(Command& cmd) {
    if (acceptWord("table")) {
      cmd.entity = EntityKind::kTable;
    } else if (acceptWord("database")) {
      cmd.entity = EntityKind::kDatabase;
    } else {
      return fail("expected 'table' or 'database'");
    }
    if (cmd.entity == EntityKind::kTable && acceptPunct("*")) {
      cmd.name = "*";
      return true;
    }
    return name(cmd.name, cmd.entity == EntityKind::kTable ? "table" : "database");
  }

  bool columnList(Command& cmd) {
    if (!expectPunct("(")) {
      return false;
    }
    while (!isPunct(")")) {
      ColumnDef col;
      std::string type;
      if (!name(col.name, "column") || !expectPunct(":")) {
        return false;
      }
      if (cur().kind != TokenKind::kWord) {
        return fail("expected a column type");
      }
      type = cur().text;
      ++pos_;
      while (acceptPunct(".")) {  // System.String style
        if (cur().kind != TokenKind::kWord) {
          return fail("expected a column type");
        }
        type += "." + cur().text;
        ++pos_;
      }
      auto parsed = parseColumnType(type);
      if (!parsed) {
        return fail(fmt::format("unknown column type '{}'", type));
      }
      col.type = *parsed;
      for (const auto& existing : cmd.columns) {
        if (existing.name == col.name) {
          return fail(fmt::format("duplicate column name '{}'", col.name));
        }
      }
      cmd.columns.push_back(std::move(col));
      if (!acceptPunct(",")) {
        break;
      }
    }
    if (!expectPunct(")")) {
      return false;
    }
    return !cmd.columns.empty() || fail("a table needs at least one column");
  }

  // After "X ingestion": [kind] mapping "m" ['json'...] | [kind] mappings.
  bool mappingKind(Command& cmd, bool required) {
    if (cur().kind == TokenKind::kWord && !cur().quoted && !isWord("mapping") &&
        !isWord("mappings")) {
      std::string kind = toLower(cur().text);
      for (auto k : kMappingKinds) {
        if (kind == k) {
          cmd.mapping_kind = kind;
          ++pos_;
          return true;
        }
      }
      return fail(fmt::format("unknown ingestion mapping kind '{}'", cur().text));
    }
    return !required || fail("expected a mapping kind (csv, json, avro, ...)");
  }

  bool createMapping(Command& cmd, MappingMode mode) {
    cmd.kind = CommandKind::kCreateMapping;
    cmd.mapping_mode = mode;
    if (!mappingKind(cmd, true) || !expectWord("mapping") || !name(cmd.mapping_name, "mapping") ||
        !stringLiteral(cmd.literal, "the mapping")) {
      return false;
    }
    return withClause(cmd);
  }

  bool policyTail(Command& cmd) {
    if (!expectWord("policy") || !expectWord("streamingingestion")) {
      return false;
    }
    if (cmd.kind == CommandKind::kAlterPolicy) {
      if (acceptWord("enable")) {
        cmd.literal = R"({"IsEnabled":true,"HintAllocatedRate":null})";
        return true;
      }
      if (acceptWord("disable")) {
        cmd.literal = R"({"IsEnabled":false,"HintAllocatedRate":null})";
        return true;
      }
    }
    if (cmd.kind == CommandKind::kAlterPolicy || cmd.kind == CommandKind::kAlterMergePolicy) {
      return stringLiteral(cmd.literal, "the policy");
    }
    return true;
  }

  bool parseCreate(Command& cmd) {
    if (acceptWord("database")) {
      cmd.entity = EntityKind::kDatabase;
      if (!name(cmd.name, "database")) {
        return false;
      }
      if (acceptWord("ingestion")) {
        return createMapping(cmd, MappingMode::kCreate);
      }
      cmd.kind = CommandKind::kCreateDatabase;
      if (acceptWord("volatile")) {
        cmd.volatile_db = true;
      } else if (acceptWord("persist")) {
        if (!expectPunct("(")) {
          return false;
        }
        std::string ignored;
        while (cur().kind == TokenKind::kString) {
          stringLiteral(ignored, "a path");
          acceptPunct(",");
        }
        if (!expectPunct(")")) {
          return false;
        }
      }
      cmd.if_not_exists = acceptWord("ifnotexists");
      return withClause(cmd);
    }
    if (!expectWord("table") || !name(cmd.name, "table")) {
      return false;
    }
    cmd.entity = EntityKind::kTable;
    if (acceptWord("ingestion")) {
      return createMapping(cmd, MappingMode::kCreate);
    }
    cmd.kind = CommandKind::kCreateTable;
    return columnList(cmd) && withClause(cmd);
  }

  bool parseAlterLike(Command& cmd, bool merge) {
    if (!entity(cmd)) {
      return false;
    }
    if (!merge && acceptWord("ingestion")) {
      return createMapping(cmd, MappingMode::kAlter);
    }
    cmd.kind = merge ? CommandKind::kAlterMergePolicy : CommandKind::kAlterPolicy;
    return policyTail(cmd);
  }

  bool parseDrop(Command& cmd) {
    bool is_table = isWord("table");
    if (!entity(cmd)) {
      return false;
    }
    if (acceptWord("ingestion")) {
      cmd.kind = CommandKind::kDropMapping;
      return mappingKind(cmd, true) && expectWord("mapping") && name(cmd.mapping_name, "mapping");
    }
    cmd.kind = is_table ? CommandKind::kDropTable : CommandKind::kDropDatabase;
    cmd.if_exists = acceptWord("ifexists");
    return true;
  }

  bool parseShowEntity(Command& cmd) {
    if (!entity(cmd)) {
      return false;
    }
    if (acceptWord("ingestion")) {
      cmd.kind = CommandKind::kShowMappings;
      if (!mappingKind(cmd, false)) {
        return false;
      }
      if (acceptWord("mappings")) {
        return true;
      }
      return expectWord("mapping") && name(cmd.mapping_name, "mapping");
    }
    if (isWord("policy")) {
      cmd.kind = CommandKind::kShowPolicy;
      return policyTail(cmd);
    }
    if (cmd.entity == EntityKind::kTable && acceptWord("cslschema")) {
      cmd.kind = CommandKind::kShowTableSchema;
      cmd.csl_schema = true;
      return true;
    }
    if (cmd.entity == EntityKind::kTable && acceptWord("schema")) {
      cmd.kind = CommandKind::kShowTableSchema;
      return expectWord("as") && expectWord("json");
    }
    return fail("expected 'ingestion', 'policy' or 'schema as json'");
  }

  bool parseShow(Command& cmd) {
    if (acceptWord("databases")) {
      cmd.kind = CommandKind::kShowDatabases;
      return true;
    }
    if (acceptWord("tables")) {
      cmd.kind = CommandKind::kShowTables;
      return true;
    }
    if (acceptWord("version")) {
      cmd.kind = CommandKind::kShowVersion;
      return true;
    }
    if (acceptWord("streamingingestion")) {
      cmd.kind = CommandKind::kShowFailures;
      return expectWord("failures");
    }
    return parseShowEntity(cmd);
  }

  bool parseClear(Command& cmd) {
    cmd.kind = CommandKind::kClearSchemaCache;
    if (acceptWord("database")) {
      cmd.entity = EntityKind::kDatabase;
    } else if (!expectWord("table") || !name(cmd.name, "table")) {
      return false;
    }
    return expectWord("cache") && expectWord("streamingingestion") && expectWord("schema");
  }

  bool parseIngest(Command& cmd) {
    cmd.kind = CommandKind::kIngestInline;
    if (!expectWord("inline") || !expectWord("into") || !expectWord("table") ||
        !name(cmd.name, "table") || !withClause(cmd)) {
      return false;
    }
    if (cur().kind != TokenKind::kData) {
      return fail("expected '<|' followed by the data");
    }
    cmd.data = cur().text;
    ++pos_;
    return true;
  }

  bool parseCommandWord(Command& cmd) {
    if (cur().kind != TokenKind::kWord || cur().quoted) {
      return fail("expected a command name after '.'");
    }
    std::string verb = toLower(cur().text);
    ++pos_;
    if (verb == "create") {
      return parseCreate(cmd);
    }
    if (verb == "create-merge") {
      cmd.kind = CommandKind::kCreateMergeTable;
      return expectWord("table") && name(cmd.name, "table") && columnList(cmd) && withClause(cmd);
    }
    if (verb == "create-or-alter") {
      return entity(cmd) && expectWord("ingestion") &&
             createMapping(cmd, MappingMode::kCreateOrAlter);
    }
    if (verb == "alter" || verb == "alter-merge") {
      return parseAlterLike(cmd, verb == "alter-merge");
    }
    if (verb == "delete") {
      cmd.kind = CommandKind::kDeletePolicy;
      return entity(cmd) && policyTail(cmd);
    }
    if (verb == "drop") {
      return parseDrop(cmd);
    }
    if (verb == "show") {
      return parseShow(cmd);
    }
    if (verb == "clear") {
      return parseClear(cmd);
    }
    if (verb == "ingest") {
      return parseIngest(cmd);
    }
    --pos_;
    return fail(fmt::format("unknown or unsupported command '.{}'", verb));
  }
};

}  // namespace

CommandParse parseCommand(std::string_view text) {
  LexResult lexed = tokenize(text, true);
  if (!lexed.error.empty()) {
    CommandParse out;
    out.error = "Syntax error: " + lexed.error;
    return out;
  }
  return Parser(std::move(lexed.tokens)).run();
}

}  // namespace kusto_local
