// Tokenizer for control commands and KQL (see lexer.h).
#include "lexer.h"

#include <fmt/format.h>

namespace kusto_local {
namespace {

bool isWordStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

bool isWordChar(char c) { return isWordStart(c) || isDigit(c); }

void appendUtf8(std::string& out, unsigned cp) {
  if (cp >= 0xD800 && cp <= 0xDFFF) {
    cp = 0xFFFD;  // a lone surrogate has no UTF-8 form
  }
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  Lexer(std::string_view text, bool dash_words) : s_(text), dash_words_(dash_words) {}

  LexResult run() {
    LexResult result;
    while (true) {
      skipSpaceAndComments();
      if (pos_ >= s_.size()) {
        break;
      }
      Token token;
      token.offset = pos_;
      if (!next(token)) {
        result.error = error_;
        return result;
      }
      bool data = token.kind == TokenKind::kData;
      result.tokens.push_back(std::move(token));
      if (data) {
        break;
      }
    }
    Token end;
    end.offset = s_.size();
    result.tokens.push_back(end);
    return result;
  }

 private:
  void skipSpaceAndComments() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/') {
        while (pos_ < s_.size() && s_[pos_] != '\n') {
          ++pos_;
        }
      } else {
        return;
      }
    }
  }

  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  bool next(Token& token) {
    char c = s_[pos_];
    if (s_.substr(pos_, 3) == "```") {
      return tripleBacktick(token);
    }
    if ((c == '@' || c == 'h' || c == 'H') && pos_ + 1 < s_.size() &&
        (s_[pos_ + 1] == '\'' || s_[pos_ + 1] == '"')) {
      ++pos_;
      return c == '@' ? verbatimString(token) : quotedString(token);
    }
    if ((c == 'h' || c == 'H') && pos_ + 2 < s_.size() && s_[pos_ + 1] == '@' &&
        (s_[pos_ + 2] == '\'' || s_[pos_ + 2] == '"')) {
      pos_ += 2;
      return verbatimString(token);
    }
    if (c == '\'' || c == '"') {
      return quotedString(token);
    }
    if (c == '[') {
      return bracketName(token);
    }
    if (isWordStart(c)) {
      word(token);
      return true;
    }
    if (isDigit(c)) {
      number(token);
      return true;
    }
    return punct(token);
  }

  bool tripleBacktick(Token& token) {
    std::size_t end = s_.find("```", pos_ + 3);
    if (end == std::string_view::npos) {
      return fail(fmt::format("unterminated ``` string literal at offset {}", pos_));
    }
    token.kind = TokenKind::kString;
    token.text = std::string(s_.substr(pos_ + 3, end - pos_ - 3));
    pos_ = end + 3;
    return true;
  }

  bool verbatimString(Token& token) {
    char quote = s_[pos_];
    std::size_t start = pos_;
    ++pos_;
    token.kind = TokenKind::kString;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == quote) {
        if (pos_ < s_.size() && s_[pos_] == quote) {
          token.text += quote;
          ++pos_;
          continue;
        }
        return true;
      }
      token.text += c;
    }
    return fail(fmt::format("unterminated string literal at offset {}", start));
  }

  bool escape(std::string& out) {
    if (pos_ >= s_.size()) {
      return false;
    }
    char e = s_[pos_++];
    switch (e) {
      case 'n': out += '\n'; return true;
      case 't': out += '\t'; return true;
      case 'r': out += '\r'; return true;
      case '0': out += '\0'; return true;
      case 'u': {
        if (pos_ + 4 > s_.size()) {
          return false;
        }
        unsigned cp = 0;
        for (int i = 0; i < 4; ++i) {
          char h = s_[pos_++];
          cp <<= 4;
          if (isDigit(h)) {
            cp |= static_cast<unsigned>(h - '0');
          } else if (h >= 'a' && h <= 'f') {
            cp |= static_cast<unsigned>(h - 'a' + 10);
          } else if (h >= 'A' && h <= 'F') {
            cp |= static_cast<unsigned>(h - 'A' + 10);
          } else {
            return false;
          }
        }
        appendUtf8(out, cp);
        return true;
      }
      default: out += e; return true;  // \' \" \\ and anything else: the character itself
    }
  }

  bool quotedString(Token& token) {
    char quote = s_[pos_];
    std::size_t start = pos_;
    ++pos_;
    token.kind = TokenKind::kString;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == quote) {
        return true;
      }
      if (c == '\\') {
        if (!escape(token.text)) {
          return fail(fmt::format("invalid escape sequence in string at offset {}", start));
        }
        continue;
      }
      token.text += c;
    }
    return fail(fmt::format("unterminated string literal at offset {}", start));
  }

  // [name], ['name'], ["name"]: a name that is never a keyword.
  bool bracketName(Token& token) {
    std::size_t start = pos_;
    ++pos_;
    skipSpaceAndComments();
    token.kind = TokenKind::kWord;
    token.quoted = true;
    if (pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"')) {
      Token inner;
      if (!quotedString(inner)) {
        return false;
      }
      token.text = std::move(inner.text);
      skipSpaceAndComments();
      if (pos_ >= s_.size() || s_[pos_] != ']') {
        return fail(fmt::format("expected ']' after bracketed name at offset {}", start));
      }
      ++pos_;
      return true;
    }
    std::size_t end = s_.find(']', pos_);
    if (end == std::string_view::npos) {
      return fail(fmt::format("unterminated bracketed name at offset {}", start));
    }
    token.text = std::string(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    if (token.text.empty()) {
      return fail(fmt::format("empty bracketed name at offset {}", start));
    }
    return true;
  }

  void word(Token& token) {
    std::size_t start = pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      const bool dash_in_word =
          dash_words_ && c == '-' && pos_ + 1 < s_.size() && isWordStart(s_[pos_ + 1]);
      if (!isWordChar(c) && !dash_in_word) {
        break;
      }
      ++pos_;
    }
    token.kind = TokenKind::kWord;
    token.text = std::string(s_.substr(start, pos_ - start));
  }

  void number(Token& token) {
    std::size_t start = pos_;
    while (pos_ < s_.size() && isDigit(s_[pos_])) {
      ++pos_;
    }
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' && isDigit(s_[pos_ + 1])) {
      ++pos_;
      while (pos_ < s_.size() && isDigit(s_[pos_])) {
        ++pos_;
      }
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      std::size_t save = pos_;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
        ++pos_;
      }
      if (pos_ < s_.size() && isDigit(s_[pos_])) {
        while (pos_ < s_.size() && isDigit(s_[pos_])) {
          ++pos_;
        }
      } else {
        pos_ = save;
      }
    }
    token.kind = TokenKind::kNumber;
    token.text = std::string(s_.substr(start, pos_ - start));
  }

  bool punct(Token& token) {
    static constexpr std::string_view kTwo[] = {"==", "!=", "=~", "!~", "<=", ">="};
    token.kind = TokenKind::kPunct;
    if (s_.substr(pos_, 2) == "<|") {
      pos_ += 2;
      while (pos_ < s_.size() &&
             (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\r' || s_[pos_] == '\n')) {
        ++pos_;
      }
      token.kind = TokenKind::kData;
      token.text = std::string(s_.substr(pos_));
      pos_ = s_.size();
      return true;
    }
    for (auto two : kTwo) {
      if (s_.substr(pos_, 2) == two) {
        token.text = std::string(two);
        pos_ += 2;
        return true;
      }
    }
    static constexpr std::string_view kOne = "(),:;=<>|.*{}[]-+/";
    char c = s_[pos_];
    if (kOne.find(c) == std::string_view::npos) {
      return fail(fmt::format("unexpected character '{}' at offset {}",
                              c >= 0x20 && c < 0x7f ? std::string(1, c) : std::string("?"), pos_));
    }
    token.text = std::string(1, c);
    ++pos_;
    return true;
  }

  std::string_view s_;
  bool dash_words_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace

LexResult tokenize(std::string_view text, bool dash_words) { return Lexer(text, dash_words).run(); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = static_cast<char>(x - 'A' + 'a');
    }
    if (y >= 'A' && y <= 'Z') {
      y = static_cast<char>(y - 'A' + 'a');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

std::string toLower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  return out;
}

bool TokenCursor::fail(std::string_view what) {
  if (error_.empty()) {
    error_ = fmt::format("Syntax error: {} (found {} at offset {})", what, describe(cur()),
                         cur().offset);
  }
  return false;
}

bool TokenCursor::isWord(std::string_view kw) const {
  return cur().kind == TokenKind::kWord && !cur().quoted && iequals(cur().text, kw);
}

bool TokenCursor::acceptWord(std::string_view kw) {
  if (isWord(kw)) {
    ++pos_;
    return true;
  }
  return false;
}

bool TokenCursor::expectWord(std::string_view kw) {
  return acceptWord(kw) || fail(fmt::format("expected '{}'", kw));
}

bool TokenCursor::isPunct(std::string_view p) const {
  return cur().kind == TokenKind::kPunct && cur().text == p;
}

bool TokenCursor::acceptPunct(std::string_view p) {
  if (isPunct(p)) {
    ++pos_;
    return true;
  }
  return false;
}

bool TokenCursor::expectPunct(std::string_view p) {
  return acceptPunct(p) || fail(fmt::format("expected '{}'", p));
}

std::string TokenCursor::describe(const Token& t) const {
  switch (t.kind) {
    case TokenKind::kEnd: return std::string(end_name_);
    case TokenKind::kString: return "a string literal";
    case TokenKind::kData: return "'<|'";
    default: return fmt::format("'{}'", t.text);
  }
}

}  // namespace kusto_local
