// Incremental HTTP/1.1 request parser for kusto-local: bytes in, requests out. Pure (no
// sockets, no threads), so it can be tested byte by byte and fuzzed with arbitrary input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kusto_local {

// The service caps request bodies at 10 MiB on the wire ("regardless of format or
// compression", spec section 2).
inline constexpr std::size_t kMaxRequestBodyBytes = std::size_t{10} * 1024 * 1024;

struct HttpLimits {
  std::size_t max_head_bytes = 65536;  // request line + headers, and again for trailers
  std::size_t max_headers = 128;
  std::size_t max_body_bytes = kMaxRequestBodyBytes;  // decoded body (after de-chunking)
};

struct HttpHeader {
  std::string name;   // lower case
  std::string value;  // without surrounding whitespace
};

struct HttpRequest {
  std::string method;               // as sent, e.g. "POST"
  std::string target;               // request target as sent
  std::string path;                 // target up to '?', still percent-encoded
  std::string query;                // target after '?', still percent-encoded ("" when absent)
  int version_minor = 1;            // HTTP/1.<minor>
  std::vector<HttpHeader> headers;  // includes trailers of a chunked body
  std::string body;                 // de-chunked body bytes
  bool keep_alive = true;           // false: close the connection after the response
  bool expect_continue = false;     // "Expect: 100-continue" was sent
  bool chunked = false;             // "Transfer-Encoding: chunked"

  // The first header with this name (pass it lower case), or nullptr.
  const std::string* header(std::string_view lower_name) const;
  // Empties every field but keeps allocated buffers, so a connection reuses them.
  void clear();
};

enum class ParseState {
  kHead,      // reading the request line and headers
  kBody,      // headers done, reading the body
  kComplete,  // request() is ready; call reset() before feeding the next request
  kError,     // errorStatus()/errorMessage() say why; the connection cannot be reused
};

class HttpRequestParser {
 public:
  explicit HttpRequestParser(HttpLimits limits = {});

  // Consumes bytes and returns how many it used. It stops right after a complete request
  // (the remaining bytes belong to the next, pipelined request) and at an error.
  std::size_t feed(std::string_view data);

  ParseState state() const { return state_; }
  bool headComplete() const { return state_ == ParseState::kBody || complete(); }
  bool complete() const { return state_ == ParseState::kComplete; }
  bool failed() const { return state_ == ParseState::kError; }

  // True when the client asked for "100 Continue" and is waiting for it: the headers are
  // complete, no body byte has arrived yet and the request is not finished.
  bool needsContinue() const;

  // The HTTP status to answer with after an error: 400, 413 (body too large), 431 (head too
  // large), 501 (unsupported transfer coding) or 505 (HTTP version).
  int errorStatus() const { return error_status_; }
  const std::string& errorMessage() const { return error_message_; }

  // The request being parsed; complete once state() is kComplete. Headers are valid from
  // headComplete() on (also after a body error, for echoing request ids).
  HttpRequest& request() { return request_; }
  const HttpRequest& request() const { return request_; }

  // Prepares for the next request on the same connection, keeping buffers.
  void reset();

 private:
  enum class BodyMode { kNone, kLength, kChunked };
  enum class ChunkState { kSize, kData, kDataEnd, kTrailer };

  std::size_t feedHead(std::string_view data);
  std::size_t feedBody(std::string_view data);
  std::size_t feedChunked(std::string_view data);
  std::size_t feedChunkSize(std::string_view rest, bool& stop);
  std::size_t feedChunkData(std::string_view rest);
  std::size_t feedChunkDataEnd(std::string_view rest, bool& stop);
  std::size_t feedTrailer(std::string_view rest, bool& stop);
  bool parseHead();
  bool parseRequestLine(std::string_view line);
  bool parseHeaderLine(std::string_view line, bool trailer);
  bool applyHeaders();
  bool applyFraming(bool have_length, std::uint64_t length, bool have_te, bool chunked_last,
                    bool other_coding);
  bool parseChunkSizeLine(std::string_view line);
  // Appends to line_ up to a '\n'; returns bytes used and sets done when the line is whole.
  std::size_t takeLine(std::string_view data, bool& done);
  void fail(int status, std::string message);

  HttpLimits limits_;
  ParseState state_ = ParseState::kHead;
  HttpRequest request_;
  std::string head_;           // raw head bytes collected so far
  std::size_t head_scan_ = 0;  // where to resume looking for the blank line
  BodyMode body_mode_ = BodyMode::kNone;
  std::uint64_t remaining_ = 0;  // bytes left of the Content-Length body or current chunk
  ChunkState chunk_state_ = ChunkState::kSize;
  std::string line_;  // partial chunk-size or trailer line
  std::size_t trailer_bytes_ = 0;
  bool body_started_ = false;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace kusto_local
