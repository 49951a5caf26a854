// libFuzzer harness for kusto-local's request handling front end: the incremental HTTP parser
// (fed in pieces whose sizes come from the input), then URL/query decoding and gzip inflation
// of whatever body came out, as the service would do.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tools/kusto-local/gzip_body.h"
#include "tools/kusto-local/http_parser.h"
#include "tools/kusto-local/url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  // The first byte picks the piece size (1..256), so splits at every position get explored.
  std::size_t step = static_cast<std::size_t>(data[0]) + 1;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  kusto_local::HttpLimits limits;
  limits.max_head_bytes = 4096;
  limits.max_body_bytes = 64 * 1024;
  kusto_local::HttpRequestParser parser(limits);
  static kusto_local::GzipInflater inflater;
  std::size_t pos = 0;
  int requests = 0;
  while (pos < input.size() && requests < 64) {
    std::string_view piece = input.substr(pos, step);
    std::size_t used = parser.feed(piece);
    pos += used;
    if (parser.failed()) {
      break;
    }
    if (parser.complete()) {
      ++requests;
      const kusto_local::HttpRequest& r = parser.request();
      (void)kusto_local::splitPath(r.path);
      (void)kusto_local::parseQuery(r.query);
      (void)r.header("x-ms-client-request-id");
      if (kusto_local::looksLikeGzip(r.body)) {
        (void)inflater.inflate(r.body, 1024 * 1024);
      }
      parser.reset();
      continue;
    }
    if (used < piece.size()) {
      __builtin_trap();  // a parser that is neither done nor failed must take every byte
    }
  }
  return 0;
}
