// scrubSecrets (see scrub.h): builds the forms a secret may be echoed in, then replaces them.
#include "agent/core/scrub.h"

#include <algorithm>
#include <cctype>

namespace ingestd {

namespace {

struct Percent {
  bool lower_hex = false;
  bool space_plus = false;    // form encoding: ' ' -> '+'
  bool encode_tilde = false;  // WHATWG form encoding leaves '*' and encodes '~'
};

std::string percentEncoded(std::string_view s, Percent p) {
  const char* hex = p.lower_hex ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    const bool keep = std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' ||
                      (c == '~' && !p.encode_tilde) || (c == '*' && p.encode_tilde);
    if (keep) {
      out.push_back(ch);
    } else if (c == ' ' && p.space_plus) {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    }
  }
  return out;
}

std::string jsonEscaped(std::string_view s, bool escape_slash) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '/': out += escape_slash ? "\\/" : "/"; break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(ch);
        }
    }
  }
  return out;
}

std::vector<std::string> formsOf(std::string_view secret) {
  std::vector<std::string> forms{std::string(secret)};
  for (bool lower : {false, true}) {
    for (bool plus : {false, true}) {
      for (bool tilde : {false, true}) {
        forms.push_back(percentEncoded(secret, Percent{lower, plus, tilde}));
      }
    }
  }
  const std::size_t plain = forms.size();
  for (std::size_t i = 0; i < plain; ++i) {
    forms.push_back(jsonEscaped(forms[i], false));
    forms.push_back(jsonEscaped(forms[i], true));
  }
  return forms;
}

}  // namespace

std::string scrubSecrets(std::string_view text, const std::vector<std::string_view>& secrets) {
  std::vector<std::string> needles;
  for (std::string_view secret : secrets) {
    if (secret.size() < kMinScrubbedSecretBytes) {
      continue;
    }
    for (std::string& form : formsOf(secret)) {
      if (text.find(form) != std::string_view::npos) {
        needles.push_back(std::move(form));
      }
    }
  }
  if (needles.empty()) {
    return std::string(text);
  }
  std::sort(needles.begin(), needles.end());
  needles.erase(std::unique(needles.begin(), needles.end()), needles.end());
  // Longest first, so that an encoded form is not left half replaced by a shorter one.
  std::stable_sort(needles.begin(), needles.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    for (const std::string& n : needles) {
      if (text.compare(i, n.size(), n) == 0) {
        out += "***";
        i += n.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      out.push_back(text[i++]);
    }
  }
  return out;
}

}  // namespace ingestd
