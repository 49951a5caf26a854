// The syslog grammars as pure functions: RFC 5424 (strict header, structured data to JSON) and
// RFC 3164 (lenient: missing PRI, missing hostname, ISO 8601 dates, Cisco sequence numbers).
#include <array>

#include "plugins/common/json_text.h"
#include "plugins/parsers/syslog/syslog_parser.h"

namespace ingestd::parsers {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// "<PRI>" at text[pos], 0-191; advances pos.
bool scanPri(std::string_view text, std::size_t& pos, int& pri) {
  std::size_t p = pos;
  if (p >= text.size() || text[p] != '<') {
    return false;
  }
  ++p;
  int v = 0;
  int digits = 0;
  while (p < text.size() && isDigit(text[p]) && digits < 3) {
    v = v * 10 + (text[p] - '0');
    ++p;
    ++digits;
  }
  if (digits == 0 || p >= text.size() || text[p] != '>' || v > 191) {
    return false;
  }
  pri = v;
  pos = p + 1;
  return true;
}

void addPri(int pri, ParsedRecord& out) {
  out.addString("facility", syslogFacilityName(pri / 8));
  out.addString("severity", syslogSeverityName(pri % 8));
}

// A header field of RFC 5424 at text[pos]: one or more non-space bytes followed by a space.
// Advances past the space. An empty view means NILVALUE.
bool headerField(std::string_view text, std::size_t& pos, std::string_view& value) {
  const std::size_t end = text.find(' ', pos);
  if (end == std::string_view::npos || end == pos) {
    return false;
  }
  value = text.substr(pos, end - pos);
  if (value == "-") {
    value = {};
  }
  pos = end + 1;
  return true;
}

bool sdNameChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 32 && u < 127 && c != '=' && c != ']' && c != '"';
}

// SD-NAME at text[pos] (1-32 printable bytes except = ] " and space; we allow any length).
std::string_view sdName(std::string_view text, std::size_t& pos) {
  const std::size_t start = pos;
  while (pos < text.size() && sdNameChar(text[pos])) {
    ++pos;
  }
  return text.substr(start, pos - start);
}

// One PARAM-VALUE: the content between the quotes, with \" \\ \] decoded (a backslash before
// any other byte stays, RFC 5424 6.3.3). pos is just after the opening quote; ends after the
// closing one.
bool sdValue(std::string_view text, std::size_t& pos, std::string& value) {
  value.clear();
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '"') {
      ++pos;
      return true;
    }
    if (c == '\\' && pos + 1 < text.size()) {
      const char n = text[pos + 1];
      if (n == '"' || n == '\\' || n == ']') {
        value.push_back(n);
        pos += 2;
        continue;
      }
    }
    value.push_back(c);
    ++pos;
  }
  return false;
}

// STRUCTURED-DATA (one or more elements) at text[pos] as a JSON object in `json`.
bool structuredData(std::string_view text, std::size_t& pos, std::string& json,
                    std::string& value) {
  json.clear();
  json.push_back('{');
  bool first_element = true;
  while (pos < text.size() && text[pos] == '[') {
    ++pos;
    const std::string_view id = sdName(text, pos);
    if (id.empty()) {
      return false;
    }
    if (!first_element) {
      json.push_back(',');
    }
    first_element = false;
    appendJsonString(json, id);
    json.append(":{");
    bool first_param = true;
    while (pos < text.size() && text[pos] == ' ') {
      while (pos < text.size() && text[pos] == ' ') {
        ++pos;
      }
      if (pos < text.size() && text[pos] == ']') {
        break;  // trailing space before ']'
      }
      const std::string_view name = sdName(text, pos);
      if (name.empty() || pos + 1 >= text.size() || text[pos] != '=' || text[pos + 1] != '"') {
        return false;
      }
      pos += 2;
      if (!sdValue(text, pos, value)) {
        return false;
      }
      if (!first_param) {
        json.push_back(',');
      }
      first_param = false;
      appendJsonString(json, name);
      json.push_back(':');
      appendJsonString(json, value);
    }
    if (pos >= text.size() || text[pos] != ']') {
      return false;
    }
    ++pos;
    json.push_back('}');
  }
  json.push_back('}');
  return !first_element;
}

void addIfSet(ParsedRecord& out, std::string_view key, std::string_view value) {
  if (!value.empty()) {
    out.addString(key, value);
  }
}

// TAG at the start of `text` in RFC 3164: "name:", "name[pid]:" or "name[pid]" followed by a
// space or the end. `rest` is what follows the tag's colon and one space.
struct Tag {
  std::string_view app;
  std::string_view pid;
  std::string_view rest;
};
bool scanTag(std::string_view text, Tag& tag) {
  std::size_t pos = 0;
  while (pos < text.size() && text[pos] != ' ' && text[pos] != ':' && text[pos] != '[') {
    ++pos;
  }
  if (pos == 0 || pos >= text.size() || text[0] == '%') {
    return false;
  }
  tag.app = text.substr(0, pos);
  tag.pid = {};
  bool had_pid = false;
  if (text[pos] == '[') {
    const std::size_t close = text.find(']', pos + 1);
    if (close == std::string_view::npos) {
      return false;
    }
    const std::string_view pid = text.substr(pos + 1, close - pos - 1);
    if (pid.find(' ') != std::string_view::npos) {
      return false;
    }
    tag.pid = pid;
    had_pid = true;
    pos = close + 1;
  }
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
  } else if (!had_pid) {
    return false;
  }
  if (pos < text.size() && text[pos] != ' ') {
    return false;  // "http://...", "a:b": not a tag
  }
  if (pos < text.size()) {
    ++pos;
  }
  tag.rest = text.substr(pos);
  return true;
}

// The timestamp of an RFC 3164 message at text[pos], with the Cisco decorations around it
// ("*" or "." for an unsynchronised clock, a zone name, a trailing colon). Advances pos past
// the space after it.
bool scan3164Time(std::string_view text, std::size_t& pos, const DefaultZone& zone, NowFn now,
                  std::int64_t& unix_ns) {
  std::size_t p = pos;
  if (p < text.size() && (text[p] == '*' || text[p] == '.')) {
    ++p;
  }
  const std::string_view at = text.substr(p);
  if (auto bsd = scanBsdTime(at)) {
    auto wall = bsdWallNs(*bsd, bsd->year ? 0 : now());
    if (!wall) {
      return false;
    }
    p += bsd->length;
    // Cisco "show-timezone": " UTC:" or " CET:" after the time.
    std::size_t q = p;
    if (q < text.size() && text[q] == ' ') {
      ++q;
      const std::size_t zstart = q;
      while (q < text.size() && text[q] >= 'A' && text[q] <= 'Z' && q - zstart < 6) {
        ++q;
      }
      if (q - zstart >= 2 && q < text.size() && text[q] == ':') {
        const std::string_view z = text.substr(zstart, q - zstart);
        p = q;
        unix_ns = (z == "UTC" || z == "GMT") ? *wall : zone.toUtc(*wall);
      } else {
        unix_ns = zone.toUtc(*wall);
      }
    } else {
      unix_ns = zone.toUtc(*wall);
    }
  } else if (auto iso = scanIso8601(at)) {
    p += iso->length;
    unix_ns = iso->has_zone ? iso->unix_ns : zone.toUtc(iso->unix_ns);
  } else {
    return false;
  }
  if (p < text.size() && text[p] == ':') {
    ++p;  // Cisco: "00:00:01.123: %LINK-3-UPDOWN: ..."
  }
  if (p < text.size()) {
    if (text[p] != ' ') {
      return false;
    }
    ++p;
  }
  pos = p;
  return true;
}

// HOSTNAME, TAG and MSG after the timestamp (RFC 3164 4.1.2-4.1.3), each optional.
void add3164Body(std::string_view body, bool allow_host, ParsedRecord& out) {
  while (!body.empty() && body[0] == ' ') {
    body.remove_prefix(1);
  }
  Tag tag;
  if (scanTag(body, tag)) {
    addIfSet(out, "appname", tag.app);
    addIfSet(out, "procid", tag.pid);
    addIfSet(out, "message", tag.rest);
    return;
  }
  const std::size_t space = body.find(' ');
  // One word alone, or a word ending in ':' (Cisco "%LINK-3-UPDOWN:"), is message, not host.
  if (allow_host && space != std::string_view::npos && space > 0 && body[space - 1] != ':') {
    out.addString("host", body.substr(0, space));
    body.remove_prefix(space + 1);
    while (!body.empty() && body[0] == ' ') {
      body.remove_prefix(1);
    }
    if (body.substr(0, 2) == ": ") {
      body.remove_prefix(2);  // Cisco ASA: "fw01 : %ASA-6-302013: ..."
    }
    if (scanTag(body, tag)) {
      addIfSet(out, "appname", tag.app);
      addIfSet(out, "procid", tag.pid);
      body = tag.rest;
    }
  }
  addIfSet(out, "message", body);
}

// The RFC 5424 header up to and including the space after MSGID.
struct Header5424 {
  int pri = 0;
  std::optional<std::int64_t> time;
  std::string_view host;
  std::string_view app;
  std::string_view procid;
  std::string_view msgid;
};
bool scan5424Header(std::string_view record, std::size_t& pos, Header5424& h) {
  if (!scanPri(record, pos, h.pri)) {
    return false;
  }
  // VERSION: a non-zero digit and up to two more.
  if (pos >= record.size() || record[pos] < '1' || record[pos] > '9') {
    return false;
  }
  std::size_t digits = 0;
  while (pos < record.size() && isDigit(record[pos]) && digits < 3) {
    ++pos;
    ++digits;
  }
  if (pos >= record.size() || record[pos] != ' ') {
    return false;
  }
  ++pos;
  if (record.substr(pos, 2) == "- ") {
    pos += 2;
  } else {
    // FULL-DATE "T" FULL-TIME with a mandatory offset (ISO 8601's space separator is not allowed).
    auto t = scanIso8601(record.substr(pos));
    if (!t || !t->has_zone || record[pos + 10] == ' ' || pos + t->length >= record.size() ||
        record[pos + t->length] != ' ') {
      return false;
    }
    h.time = t->unix_ns;
    pos += t->length + 1;
  }
  // STRUCTURED-DATA is mandatory ("-" at least), so MSGID is always followed by a space.
  return headerField(record, pos, h.host) && headerField(record, pos, h.app) &&
         headerField(record, pos, h.procid) && headerField(record, pos, h.msgid);
}

}  // namespace

std::string_view syslogFacilityName(int facility) {
  static constexpr std::array<std::string_view, 24> kNames = {
      "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
      "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
      "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};
  return facility >= 0 && facility < 24 ? kNames[static_cast<std::size_t>(facility)] : "";
}

std::string_view syslogSeverityName(int severity) {
  static constexpr std::array<std::string_view, 8> kNames = {"emerg",   "alert",  "crit", "err",
                                                             "warning", "notice", "info", "debug"};
  return severity >= 0 && severity < 8 ? kNames[static_cast<std::size_t>(severity)] : "";
}

bool parseRfc5424(std::string_view record, ParsedRecord& out, std::string& sd_json,
                  std::string& value_scratch) {
  std::size_t pos = 0;
  Header5424 h;
  if (!scan5424Header(record, pos, h) || pos >= record.size()) {
    return false;
  }
  bool has_sd = false;
  if (record[pos] == '-') {
    ++pos;
  } else if (record[pos] == '[') {
    if (!structuredData(record, pos, sd_json, value_scratch)) {
      return false;
    }
    has_sd = true;
  } else {
    return false;
  }
  std::string_view msg;
  if (pos < record.size()) {
    if (record[pos] != ' ') {
      return false;
    }
    msg = record.substr(pos + 1);
    if (msg.substr(0, kBom.size()) == kBom) {
      msg.remove_prefix(kBom.size());
    } else if (!msg.empty() && msg[0] == ' ') {
      // rsyslog's forward formats write its %msg% property, which keeps the space that followed
      // "tag:" in the local message ("- -  text"): one such space is not part of the text.
      msg.remove_prefix(1);
    }
  }
  addPri(h.pri, out);
  addIfSet(out, "host", h.host);
  addIfSet(out, "appname", h.app);
  addIfSet(out, "procid", h.procid);
  addIfSet(out, "msgid", h.msgid);
  if (has_sd) {
    out.addJson("structured_data", sd_json);
  }
  addIfSet(out, "message", msg);
  out.time_unix_ns = h.time;
  return true;
}

bool parseRfc3164(std::string_view record, const DefaultZone& zone, NowFn now, ParsedRecord& out) {
  std::size_t pos = 0;
  int pri = 0;
  const bool has_pri = scanPri(record, pos, pri);
  const std::size_t after_pri = pos;
  // Cisco IOS: a sequence number ("123: ") before the timestamp.
  {
    std::size_t p = pos;
    while (p < record.size() && isDigit(record[p])) {
      ++p;
    }
    if (p > pos && p + 1 < record.size() && record[p] == ':' && record[p + 1] == ' ') {
      pos = p + 2;
    }
  }
  std::int64_t unix_ns = 0;
  const bool has_time = scan3164Time(record, pos, zone, now, unix_ns);
  if (!has_time) {
    pos = after_pri;
  }
  if (!has_pri && !has_time) {
    return false;
  }
  if (has_pri) {
    addPri(pri, out);
  }
  // Without a timestamp there is no header to speak of: no hostname is guessed.
  add3164Body(record.substr(pos), has_time, out);
  if (has_time) {
    out.time_unix_ns = unix_ns;
  }
  return true;
}

}  // namespace ingestd::parsers
