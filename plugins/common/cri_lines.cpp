// CRI line splitting and partial-chunk reassembly (cri_lines.h).
#include "plugins/common/cri_lines.h"

#include <algorithm>

namespace ingestd::parsers {

std::optional<CriLine> splitCriLine(std::string_view line) {
  CriLine c;
  const std::size_t s1 = line.find(' ');
  if (s1 == std::string_view::npos || s1 == 0) {
    return std::nullopt;
  }
  c.time = line.substr(0, s1);
  const std::size_t s2 = line.find(' ', s1 + 1);
  if (s2 == std::string_view::npos) {
    return std::nullopt;
  }
  c.stream = line.substr(s1 + 1, s2 - s1 - 1);
  if (c.stream != "stdout" && c.stream != "stderr") {
    return std::nullopt;
  }
  std::size_t s3 = line.find(' ', s2 + 1);
  if (s3 == std::string_view::npos) {
    s3 = line.size();  // no message and no space after the tag
  }
  c.logtag = line.substr(s2 + 1, s3 - s2 - 1);
  if (c.logtag.empty()) {
    return std::nullopt;
  }
  c.message = s3 < line.size() ? line.substr(s3 + 1) : std::string_view();
  c.partial = c.logtag == "P" || c.logtag.substr(0, 2) == "P:";
  return c;
}

bool isCriPartial(std::string_view line) {
  auto c = splitCriLine(line);
  return c && c->partial;
}

CriReassembler::CriReassembler(std::size_t max_bytes) : max_bytes_(max_bytes) {}

void CriReassembler::append(Pending& p, std::string_view message) {
  const std::size_t have = p.line.size() - p.header_len;
  const std::size_t room = max_bytes_ > have ? max_bytes_ - have : 0;
  const std::size_t take = std::min(room, message.size());
  p.line.append(message.data(), take);
  truncated_bytes_ += message.size() - take;
}

std::string_view CriReassembler::finish(Pending& p) {
  out_.swap(p.line);  // p keeps the old buffer's capacity for its next record
  p.line.clear();
  p.active = false;
  return out_;
}

std::optional<std::string_view> CriReassembler::feed(std::string_view line) {
  auto c = splitCriLine(line);
  if (!c) {
    return line;  // not CRI: the parser will say so
  }
  Pending& p = streams_[c->stream == "stdout" ? 0 : 1];
  if (c->partial) {
    if (!p.active) {
      p.line.clear();
      p.line.append(c->time).append(" ").append(c->stream).append(" F ");
      p.header_len = p.line.size();
      p.active = true;
    }
    append(p, c->message);
    return std::nullopt;
  }
  if (!p.active) {
    return line;
  }
  append(p, c->message);
  return finish(p);
}

std::optional<std::string_view> CriReassembler::flush() {
  for (Pending& p : streams_) {
    if (p.active) {
      return finish(p);
    }
  }
  return std::nullopt;
}

}  // namespace ingestd::parsers
