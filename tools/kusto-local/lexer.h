// Tokenizer shared by the control-command parser and the KQL subset: words, numbers, Kusto
// string literals (quoted, verbatim @'..', obfuscated h'..', ```multi-line```), bracketed names
// ['x'] / ["x"] and punctuation. Pure functions; safe on arbitrary bytes.
#pragma once

#include <algorithm>
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

// What the command and query parsers share: a cursor over tokens, keyword and punctuation
// tests, and the first syntax error ("Syntax error: WHAT (found X at offset N)").
class TokenCursor {
 protected:
  // end_name: how the end of input is called in messages ("end of command", "end of query").
  TokenCursor(std::vector<Token> tokens, std::string_view end_name)
      : t_(std::move(tokens)), end_name_(end_name) {}

  const Token& cur() const { return t_[pos_]; }
  const Token& peek(std::size_t k) const { return t_[std::min(pos_ + k, t_.size() - 1)]; }
  bool fail(std::string_view what);  // records the first error; always false
  bool isWord(std::string_view kw) const;
  bool acceptWord(std::string_view kw);
  bool expectWord(std::string_view kw);
  bool isPunct(std::string_view p) const;
  bool acceptPunct(std::string_view p);
  bool expectPunct(std::string_view p);
  std::string describe(const Token& t) const;

  std::vector<Token> t_;
  std::size_t pos_ = 0;
  std::string error_;

 private:
  std::string_view end_name_;
};

}  // namespace kusto_local
