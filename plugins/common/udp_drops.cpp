// Kernel UDP drops from /proc/net/udp(6) (udp_drops.h).
#include "plugins/common/udp_drops.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace ingestd::inputs {

namespace {

// The whitespace-separated fields of one line, at most `max`.
std::size_t splitFields(std::string_view line, std::string_view* out, std::size_t max) {
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < line.size() && n < max) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
      ++i;
    }
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      ++i;
    }
    if (i > start) {
      out[n++] = line.substr(start, i - start);
    }
  }
  return n;
}

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

std::optional<std::uint64_t> udpDropsInProcTable(std::string_view table, std::uint64_t inode) {
  // "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout
  //  inode ref pointer drops": fields 0..12 once tx:rx and tr:when are single tokens.
  constexpr std::size_t kInode = 9;
  constexpr std::size_t kDrops = 12;
  while (!table.empty()) {
    const std::size_t nl = table.find('\n');
    const std::string_view line = table.substr(0, nl);
    table = nl == std::string_view::npos ? std::string_view() : table.substr(nl + 1);
    std::string_view f[kDrops + 1];
    if (splitFields(line, f, kDrops + 1) != kDrops + 1) {
      continue;
    }
    if (number(f[kInode]) == inode) {
      return number(f[kDrops]);
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> readUdpKernelDrops(std::uint64_t inode, const std::string& proc_net) {
  for (const char* name : {"/udp", "/udp6"}) {
    std::ifstream in(proc_net + name);
    if (!in) {
      continue;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (auto d = udpDropsInProcTable(text.str(), inode)) {
      return d;
    }
  }
  return std::nullopt;
}

}  // namespace ingestd::inputs
