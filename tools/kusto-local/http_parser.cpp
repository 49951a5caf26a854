// Incremental HTTP/1.1 request parser (see http_parser.h). Strict where ambiguity could let a
// request be read two ways (Content-Length vs chunked, folded headers), lenient about bare LF
// line endings, which some hand-written test clients send.
#include "http_parser.h"

#include "url.h"

#include <algorithm>
#include <cstring>

namespace kusto_local {
namespace {

bool isTchar(unsigned char c) {
  if (c >= '0' && c <= '9') {
    return true;
  }
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
    return true;
  }
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

bool isToken(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return isTchar(static_cast<unsigned char>(c)); });
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string_view stripCr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) {
      return false;
    }
  }
  return true;
}

// Calls fn for each comma-separated element of a header value, trimmed, skipping empty ones.
template <class Fn>
void forEachListElement(std::string_view value, Fn fn) {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = trimOws(value.substr(0, comma));
    if (!item.empty()) {
      fn(item);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
}

// Parses a non-empty run of decimal digits into out; false on anything else or overflow.
bool parseDecimal(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) {
    return false;
  }
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = v;
  return true;
}

// Header field values may hold visible ASCII, spaces, tabs and obs-text, but no other controls.
bool isValidFieldValue(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c == '\t' || (c >= 0x20 && c != 0x7f);
  });
}

}  // namespace

const std::string* HttpRequest::header(std::string_view lower_name) const {
  for (const HttpHeader& h : headers) {
    if (h.name == lower_name) {
      return &h.value;
    }
  }
  return nullptr;
}

void HttpRequest::clear() {
  method.clear();
  target.clear();
  path.clear();
  query.clear();
  version_minor = 1;
  headers.clear();
  body.clear();
  keep_alive = true;
  expect_continue = false;
  chunked = false;
}

HttpRequestParser::HttpRequestParser(HttpLimits limits) : limits_(limits) {}

void HttpRequestParser::reset() {
  state_ = ParseState::kHead;
  request_.clear();
  head_.clear();
  head_scan_ = 0;
  body_mode_ = BodyMode::kNone;
  remaining_ = 0;
  chunk_state_ = ChunkState::kSize;
  line_.clear();
  trailer_bytes_ = 0;
  body_started_ = false;
  error_status_ = 0;
  error_message_.clear();
}

bool HttpRequestParser::needsContinue() const {
  return state_ == ParseState::kBody && request_.expect_continue && !body_started_;
}

void HttpRequestParser::fail(int status, std::string message) {
  state_ = ParseState::kError;
  error_status_ = status;
  error_message_ = std::move(message);
}

std::size_t HttpRequestParser::feed(std::string_view data) {
  std::size_t used = 0;
  while (used < data.size() || state_ == ParseState::kBody) {
    std::size_t n = 0;
    if (state_ == ParseState::kHead) {
      n = feedHead(data.substr(used));
    } else if (state_ == ParseState::kBody) {
      n = feedBody(data.substr(used));
    } else {
      break;
    }
    used += n;
    if (n == 0 && state_ != ParseState::kComplete) {
      // No progress: either out of input or finished; avoid spinning on an empty body.
      if (used >= data.size()) {
        break;
      }
    }
  }
  return used;
}

std::size_t HttpRequestParser::feedHead(std::string_view data) {
  std::size_t used = 0;
  // Robustness (RFC 9112 2.2): ignore empty lines before the request line.
  if (head_.empty()) {
    while (used < data.size() && (data[used] == '\r' || data[used] == '\n')) {
      ++used;
    }
  }
  data.remove_prefix(used);
  if (data.empty()) {
    return used;
  }
  std::size_t before = head_.size();
  std::size_t room = limits_.max_head_bytes + 1 - std::min(before, limits_.max_head_bytes);
  head_.append(data.data(), std::min(room, data.size()));
  // The head ends at the first empty line: "\n\n" or "\n\r\n".
  std::size_t end = std::string::npos;
  for (std::size_t i = head_scan_; i < head_.size(); ++i) {
    if (head_[i] != '\n' || i == 0) {
      continue;
    }
    if (head_[i - 1] == '\n') {
      end = i + 1;
      break;
    }
    if (head_[i - 1] == '\r' && i >= 2 && head_[i - 2] == '\n') {
      end = i + 1;
      break;
    }
  }
  if (end == std::string::npos) {
    head_scan_ = head_.size();
    if (head_.size() > limits_.max_head_bytes) {
      fail(431, "request header fields too large");
    }
    return used + (head_.size() - before);
  }
  if (end > limits_.max_head_bytes) {
    fail(431, "request header fields too large");
    return used + (head_.size() - before);
  }
  // Bytes after the blank line belong to the body; give them back to the caller.
  std::size_t taken = end - before;
  head_.resize(end);
  if (!parseHead()) {
    return used + taken;
  }
  state_ = (body_mode_ == BodyMode::kNone) ? ParseState::kComplete : ParseState::kBody;
  return used + taken;
}

bool HttpRequestParser::parseHead() {
  std::string_view rest(head_);
  bool first = true;
  while (!rest.empty()) {
    std::size_t nl = rest.find('\n');
    std::string_view line = stripCr(rest.substr(0, nl));
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (first) {
      if (!parseRequestLine(line)) {
        return false;
      }
      first = false;
      continue;
    }
    if (line.empty()) {
      break;
    }
    if (!parseHeaderLine(line, false)) {
      return false;
    }
  }
  return applyHeaders();
}

bool HttpRequestParser::parseRequestLine(std::string_view line) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) {
    fail(400, "malformed request line");
    return false;
  }
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    fail(400, "malformed request line");
    return false;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(method)) {
    fail(400, "malformed request method");
    return false;
  }
  bool target_ok = !target.empty() && std::all_of(target.begin(), target.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c > 0x20 && c != 0x7f;
  });
  if (!target_ok) {
    fail(400, "malformed request target");
    return false;
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    fail(400, "malformed HTTP version");
    return false;
  }
  if (version[5] != '1') {
    fail(505, "HTTP version not supported");
    return false;
  }
  request_.method.assign(method);
  request_.target.assign(target);
  request_.version_minor = version[7] - '0';
  request_.keep_alive = request_.version_minor >= 1;

  // Absolute form (proxies): drop "scheme://authority" and keep the path and query.
  std::string_view t = target;
  if (t.front() != '/') {
    if (std::size_t scheme = t.find("://"); scheme != std::string_view::npos) {
      std::size_t start = t.find_first_of("/?", scheme + 3);
      t = start == std::string_view::npos ? std::string_view() : t.substr(start);
    }
  }
  std::size_t q = t.find('?');
  request_.path.assign(t.substr(0, q));
  if (request_.path.empty()) {
    request_.path = "/";
  }
  if (q != std::string_view::npos) {
    request_.query.assign(t.substr(q + 1));
  }
  return true;
}

bool HttpRequestParser::parseHeaderLine(std::string_view line, bool trailer) {
  if (line.front() == ' ' || line.front() == '\t') {
    fail(400, "obsolete header line folding is not accepted");
    return false;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    fail(400, "malformed header line");
    return false;
  }
  std::string_view name = line.substr(0, colon);
  std::string_view value = trimOws(line.substr(colon + 1));
  if (!isToken(name)) {
    fail(400, "malformed header name");
    return false;
  }
  if (!isValidFieldValue(value)) {
    fail(400, "invalid character in header value");
    return false;
  }
  if (request_.headers.size() >= limits_.max_headers) {
    fail(431, "too many header fields");
    return false;
  }
  HttpHeader& h = request_.headers.emplace_back();
  h.name.resize(name.size());
  std::transform(name.begin(), name.end(), h.name.begin(), lowerAscii);
  h.value.assign(value);
  if (trailer) {
    // Framing fields in trailers would be ambiguous; they carry no meaning here.
    if (h.name == "content-length" || h.name == "transfer-encoding" || h.name == "host") {
      request_.headers.pop_back();
    }
  }
  return true;
}

bool HttpRequestParser::applyHeaders() {
  bool have_length = false;
  std::uint64_t length = 0;
  bool have_te = false;
  bool chunked_last = false;
  bool other_coding = false;
  for (const HttpHeader& h : request_.headers) {
    if (h.name == "content-length") {
      std::uint64_t v = 0;
      if (!parseDecimal(h.value, v)) {
        fail(400, "invalid Content-Length");
        return false;
      }
      if (have_length && v != length) {
        fail(400, "conflicting Content-Length headers");
        return false;
      }
      have_length = true;
      length = v;
    } else if (h.name == "transfer-encoding") {
      have_te = true;
      forEachListElement(h.value, [&](std::string_view coding) {
        if (chunked_last) {
          other_coding = true;  // something after "chunked": framing cannot be determined
        }
        if (equalsIgnoreCase(coding, "chunked")) {
          chunked_last = true;
        } else {
          other_coding = true;
          chunked_last = false;
        }
      });
    } else if (h.name == "connection") {
      forEachListElement(h.value, [&](std::string_view opt) {
        if (equalsIgnoreCase(opt, "close")) {
          request_.keep_alive = false;
        } else if (equalsIgnoreCase(opt, "keep-alive") && request_.version_minor == 0) {
          request_.keep_alive = true;
        }
      });
    } else if (h.name == "expect") {
      if (equalsIgnoreCase(h.value, "100-continue")) {
        request_.expect_continue = request_.version_minor >= 1;
      }
    }
  }
  // A closing "close" wins over a "keep-alive" listed in another Connection header.
  for (const HttpHeader& h : request_.headers) {
    if (h.name == "connection") {
      forEachListElement(h.value, [&](std::string_view opt) {
        if (equalsIgnoreCase(opt, "close")) {
          request_.keep_alive = false;
        }
      });
    }
  }
  return applyFraming(have_length, length, have_te, chunked_last, other_coding);
}

// Chooses the body framing from what the headers said: chunked, a length, or none. Refuses
// both at once (the classic request-smuggling shape) and codings other than chunked.
bool HttpRequestParser::applyFraming(bool have_length, std::uint64_t length, bool have_te,
                                     bool chunked_last, bool other_coding) {
  if (have_te) {
    if (have_length) {
      // Both framings at once is the classic request-smuggling shape: refuse it.
      fail(400, "both Content-Length and Transfer-Encoding");
      return false;
    }
    if (request_.version_minor == 0) {
      fail(400, "Transfer-Encoding in an HTTP/1.0 request");
      return false;
    }
    if (other_coding || !chunked_last) {
      fail(501, "only the chunked transfer coding is supported");
      return false;
    }
    request_.chunked = true;
    body_mode_ = BodyMode::kChunked;
    chunk_state_ = ChunkState::kSize;
    return true;
  }
  if (have_length && length > 0) {
    if (length > limits_.max_body_bytes) {
      fail(413, "request body exceeds the size limit");
      return false;
    }
    body_mode_ = BodyMode::kLength;
    remaining_ = length;
    request_.body.reserve(static_cast<std::size_t>(length));
  }
  return true;
}

std::size_t HttpRequestParser::feedBody(std::string_view data) {
  if (body_mode_ == BodyMode::kLength) {
    if (data.empty()) {
      return 0;
    }
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
    request_.body.append(data.data(), n);
    body_started_ = true;
    remaining_ -= n;
    if (remaining_ == 0) {
      state_ = ParseState::kComplete;
    }
    return n;
  }
  return feedChunked(data);
}

std::size_t HttpRequestParser::takeLine(std::string_view data, bool& done) {
  std::size_t nl = data.find('\n');
  std::size_t n = nl == std::string_view::npos ? data.size() : nl + 1;
  line_.append(data.data(), n);
  done = nl != std::string_view::npos;
  return n;
}

bool HttpRequestParser::parseChunkSizeLine(std::string_view line) {
  // chunk-size [ BWS ; chunk-ext ]; extensions are allowed and ignored.
  std::size_t i = 0;
  std::uint64_t size = 0;
  while (i < line.size() && hexDigit(line[i]) >= 0) {
    if (i >= 15) {
      fail(413, "chunk size too large");
      return false;
    }
    size = size * 16 + static_cast<std::uint64_t>(hexDigit(line[i]));
    ++i;
  }
  if (i == 0) {
    fail(400, "malformed chunk size");
    return false;
  }
  std::string_view rest = trimOws(line.substr(i));
  if (!rest.empty() && rest.front() != ';') {
    fail(400, "malformed chunk size");
    return false;
  }
  if (!isValidFieldValue(rest)) {
    fail(400, "invalid character in chunk extension");
    return false;
  }
  if (size > limits_.max_body_bytes - request_.body.size()) {
    fail(413, "request body exceeds the size limit");
    return false;
  }
  remaining_ = size;
  return true;
}

// Each step consumes from `rest` and returns how much; it sets `stop` when the parser failed or
// the request is complete.
std::size_t HttpRequestParser::feedChunkSize(std::string_view rest, bool& stop) {
  bool done = false;
  const std::size_t used = takeLine(rest, done);
  body_started_ = true;
  if (line_.size() > 4096) {
    fail(400, "chunk size line too long");
    stop = true;
    return used;
  }
  if (!done) {
    return used;
  }
  std::string_view line = stripCr(std::string_view(line_).substr(0, line_.size() - 1));
  if (!parseChunkSizeLine(line)) {
    stop = true;
    return used;
  }
  line_.clear();
  chunk_state_ = remaining_ == 0 ? ChunkState::kTrailer : ChunkState::kData;
  if (remaining_ > 0) {
    std::size_t want = request_.body.size() + static_cast<std::size_t>(remaining_);
    if (want > request_.body.capacity()) {
      request_.body.reserve(std::max(want, request_.body.capacity() * 2));
    }
  }
  return used;
}

std::size_t HttpRequestParser::feedChunkData(std::string_view rest) {
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
  request_.body.append(rest.data(), n);
  remaining_ -= n;
  if (remaining_ == 0) {
    chunk_state_ = ChunkState::kDataEnd;
  }
  return n;
}

std::size_t HttpRequestParser::feedChunkDataEnd(std::string_view rest, bool& stop) {
  bool done = false;
  const std::size_t used = takeLine(rest, done);
  // Only "\r\n" or "\n" may follow chunk data; reject anything else at once.
  const bool prefix_ok = line_ == "\r" || line_ == "\r\n" || line_ == "\n";
  if (!prefix_ok || (done && line_ != "\r\n" && line_ != "\n")) {
    fail(400, "chunk data not followed by CRLF");
    stop = true;
    return used;
  }
  if (done) {
    line_.clear();
    chunk_state_ = ChunkState::kSize;
  }
  return used;
}

std::size_t HttpRequestParser::feedTrailer(std::string_view rest, bool& stop) {
  bool done = false;
  const std::size_t used = takeLine(rest, done);
  trailer_bytes_ += used;
  if (trailer_bytes_ > limits_.max_head_bytes) {
    fail(431, "trailer fields too large");
    stop = true;
    return used;
  }
  if (!done) {
    return used;
  }
  std::string_view line = stripCr(std::string_view(line_).substr(0, line_.size() - 1));
  if (line.empty()) {
    line_.clear();
    state_ = ParseState::kComplete;
    stop = true;
    return used;
  }
  if (!parseHeaderLine(line, true)) {
    stop = true;
    return used;
  }
  line_.clear();
  return used;
}

std::size_t HttpRequestParser::feedChunked(std::string_view data) {
  std::size_t used = 0;
  bool stop = false;
  while (!stop && used < data.size() && state_ == ParseState::kBody) {
    std::string_view rest = data.substr(used);
    switch (chunk_state_) {
      case ChunkState::kSize: used += feedChunkSize(rest, stop); break;
      case ChunkState::kData: used += feedChunkData(rest); break;
      case ChunkState::kDataEnd: used += feedChunkDataEnd(rest, stop); break;
      case ChunkState::kTrailer: used += feedTrailer(rest, stop); break;
    }
  }
  return used;
}

}  // namespace kusto_local
