// Pure parsers and formatters of config values: sizes, durations, and the did-you-mean hint.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "agent/config/text_util.h"
#include "agent/plugin/config.h"

namespace ingestd {

namespace {

// Reads leading decimal digits into `out`. False if there are none or they overflow.
bool readDigits(std::string_view& s, std::uint64_t& out) {
  std::size_t n = 0;
  while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) {
    ++n;
  }
  if (n == 0) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, out);
  if (ec != std::errc() || ptr != s.data() + n) {
    return false;
  }
  s.remove_prefix(n);
  return true;
}

// Optimal string alignment distance: edits, with a swap of neighbours counting as one.
std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) {
    d[i][0] = i;
  }
  for (std::size_t j = 0; j <= b.size(); ++j) {
    d[0][j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

std::optional<std::uint64_t> parseSize(std::string_view text) {
  std::string_view s = trimSpaces(text);
  std::uint64_t n = 0;
  if (!readDigits(s, n)) {
    return std::nullopt;
  }
  std::string unit = asciiLower(trimSpaces(s));
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"", 1},
      {"b", 1},
      {"kb", 1000ull},
      {"mb", 1000ull * 1000},
      {"gb", 1000ull * 1000 * 1000},
      {"tb", 1000ull * 1000 * 1000 * 1000},
      {"k", 1ull << 10},
      {"kib", 1ull << 10},
      {"m", 1ull << 20},
      {"mib", 1ull << 20},
      {"g", 1ull << 30},
      {"gib", 1ull << 30},
      {"t", 1ull << 40},
      {"tib", 1ull << 40},
  };
  for (const auto& [name, mult] : kUnits) {
    if (unit == name) {
      if (n > std::numeric_limits<std::uint64_t>::max() / mult) {
        return std::nullopt;
      }
      return n * mult;
    }
  }
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  std::string_view s = trimSpaces(text);
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; })) {
    return std::chrono::milliseconds(0);
  }
  // Units in the order they must appear; each at most once.
  static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
      {"h", 3600 * 1000}, {"m", 60 * 1000}, {"s", 1000}, {"ms", 1}};
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t total = 0;
  std::size_t next_unit = 0;  // index of the smallest unit still allowed
  if (s.empty()) {
    return std::nullopt;
  }
  while (!s.empty()) {
    std::uint64_t n = 0;
    if (!readDigits(s, n)) {
      return std::nullopt;
    }
    std::size_t len = 0;
    while (len < s.size() && std::isalpha(static_cast<unsigned char>(s[len]))) {
      ++len;
    }
    std::string_view unit = s.substr(0, len);
    s.remove_prefix(len);
    std::size_t u = next_unit;
    while (u < std::size(kUnits) && kUnits[u].first != unit) {
      ++u;
    }
    if (u == std::size(kUnits)) {
      return std::nullopt;  // unknown, missing or out-of-order unit
    }
    next_unit = u + 1;
    std::int64_t mult = kUnits[u].second;
    if (n > static_cast<std::uint64_t>(kMax / mult)) {
      return std::nullopt;
    }
    std::int64_t part = static_cast<std::int64_t>(n) * mult;
    if (part > kMax - total) {
      return std::nullopt;
    }
    total += part;
  }
  return std::chrono::milliseconds(total);
}

std::optional<std::string> didYouMean(std::string_view key,
                                      const std::set<std::string, std::less<>>& known) {
  std::string k = asciiLower(key);
  // Roughly one typo per four characters, at least one, at most three.
  std::size_t limit = std::clamp<std::size_t>(k.size() / 4, 1, 3);
  std::optional<std::string> best;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : known) {
    std::size_t d = editDistance(k, asciiLower(candidate));
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string formatSize(std::uint64_t bytes) {
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}};
  if (bytes != 0) {
    for (const auto& [name, mult] : kUnits) {
      if (bytes % mult == 0) {
        return fmt::format("{}{}", bytes / mult, name);
      }
    }
  }
  return fmt::format("{}B", bytes);
}

std::string formatDuration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  if (ms == 0) {
    return "0s";
  }
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  std::int64_t h = ms / 3600000;
  std::int64_t m = ms / 60000 % 60;
  std::int64_t s = ms / 1000 % 60;
  std::int64_t rest = ms % 1000;
  if (h != 0) {
    out += fmt::format("{}h", h);
  }
  if (m != 0) {
    out += fmt::format("{}m", m);
  }
  if (s != 0) {
    out += fmt::format("{}s", s);
  }
  if (rest != 0) {
    out += fmt::format("{}ms", rest);
  }
  return out;
}

}  // namespace ingestd
