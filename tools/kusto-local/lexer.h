// Tokenizer shared by the control-command parser and the KQL subset: words, numbers, Kusto
// string literals (quoted, verbatim @'..', obfuscated h'..', ```multi-line```), bracketed names
// ['x'] / ["x"] and punctuation. Pure functions; safe on arbitrary bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kusto_local {

enum class TokenKind {
  kWord,    // identifier or keyword; quoted=true when it came from [..] (never a keyword)
  kNumber,  // digits with optional fraction/exponent
  kString,  // a string literal, already unescaped
  kPunct,   // ( ) , : ; = == != =~ !~ < <= > >= | . * { } [ ] - + /
  kData,    // "<|" and everything after it (inline ingestion data)
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;     // decoded text (string value, word, punctuation)
  bool quoted = false;  // kWord from a bracketed name
  std::size_t offset = 0;
};

struct LexResult {
  std::vector<Token> tokens;  // always ends with kEnd when error is empty
  std::string error;          // non-empty: syntax error (e.g. unterminated string)
};

// dash_words: words may contain '-' followed by a letter (".create-merge", "alter-merge").
LexResult tokenize(std::string_view text, bool dash_words);

bool iequals(std::string_view a, std::string_view b);
std::string toLower(std::string_view s);

}  // namespace kusto_local
