// The HTTP/1.x of the status server as pure functions: find the end of a request head, parse it,
// format a response. No I/O; the loop-side StatusServer feeds bytes in and writes bytes out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ingestd::status_http {

// Bytes of empty lines (CR, LF) before a request line; RFC 9112 2.2 asks servers to skip them
// (clients may send a CRLF after a request).
std::size_t leadingEmptyLines(std::string_view data);

// The offset just past the empty line ending the head that starts `data` ("\r\n\r\n", "\n\n" or
// a mix), or nullopt while the head is incomplete. `from` is where to resume scanning after
// more bytes arrived (the previous data size minus 2 is safe; 0 scans everything).
std::optional<std::size_t> findHeadEnd(std::string_view data, std::size_t from = 0);

struct RequestHead {
  std::string method;
  std::string path;        // the target without its query
  int minor_version = 1;   // HTTP/1.<minor>
  bool keep_alive = true;  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only if asked
  bool has_body = false;   // Content-Length > 0 or Transfer-Encoding: bodies are not read
};

struct ParseResult {
  int error = 0;  // 0: `head` is valid; otherwise the status to answer (400, 505)
  RequestHead head;
};

// Parses a complete head as delimited by findHeadEnd() (trailing empty line included).
ParseResult parseRequestHead(std::string_view head);

// "OK", "Not Found", ... for the codes the status server answers.
std::string_view reasonPhrase(int code);

struct ResponseSpec {
  int code = 200;
  std::string_view content_type = "text/plain; charset=utf-8";
  std::string_view body;
  bool send_body = true;      // false for HEAD: same headers (Content-Length too), no body
  bool keep_alive = true;     // false: "Connection: close"
  bool allow_header = false;  // "Allow: GET, HEAD" (with 405)
};

std::string formatResponse(const ResponseSpec& spec);

}  // namespace ingestd::status_http
