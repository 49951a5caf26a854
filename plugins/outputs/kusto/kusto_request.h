// Pure request building for the kusto output: cluster URL handling, the streaming-ingest URL and
// the exact headers the official SDKs send (spec section 1). No I/O; tested without a network.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/core/status.h"

namespace ingestd::outputs::kusto {

using Headers = std::vector<std::pair<std::string, std::string>>;

// scheme://host[:port] of a cluster, parsed from the configured URL.
struct ClusterUrl {
  std::string scheme;  // "https" or "http" (lower case)
  std::string host;    // lower case; IPv6 literals without brackets
  int port = 0;        // 0: the scheme's default
  // "scheme://host[:port]" with brackets around IPv6 literals; no trailing slash.
  std::string base() const;
  // "scheme://host" (no port): the token audience, as in "<cluster>/.default".
  std::string origin() const;
};

// Accepts "https://host", "https://host:443/", "http://127.0.0.1:8080". Rejects other schemes,
// user info, paths other than "/", queries and fragments. The error message says what is wrong
// (the caller adds the config location).
Result<ClusterUrl> parseClusterUrl(std::string_view url);

// True for the hosts the SDKs never rewrite: localhost, IP literals and
// onebox.dev.kusto.windows.net.
bool isReservedHost(std::string_view host);
// True for localhost, 127.0.0.0/8 and ::1: the only hosts where plain http:// is allowed
// without allow_insecure_http.
bool isLoopbackHost(std::string_view host);
// "ingest-mycluster.region.kusto.windows.net" -> "mycluster.region.kusto.windows.net" (the
// streaming endpoint is the engine, not the data-management service). Reserved hosts unchanged.
std::string stripIngestPrefix(std::string_view host);

// RFC 3986 percent-encoding: everything except ALPHA / DIGIT / "-" / "." / "_" / "~".
std::string percentEncode(std::string_view text);

// base + "/v1/rest/ingest/{db}/{table}?streamFormat=<format>[&mappingName=<mapping>]", with the
// path segments and query values percent-encoded.
std::string ingestUrl(std::string_view base, std::string_view database, std::string_view table,
                      std::string_view format, std::string_view mapping);

// Non-ASCII characters (one '?' per UTF-8 sequence) and control characters become '?', as the
// SDKs do for every header value.
std::string asciiHeaderValue(std::string_view value);
// A value inside "key:{value}" of x-ms-client-version: whitespace, '{', '}' and '|' become '_'.
std::string clientDetailValue(std::string_view value);
// "Kusto.ingestd:{<version>}|Runtime.cpp:{<runtime>}".
std::string clientVersionHeader(std::string_view version, std::string_view runtime);
// The compiler that built us, e.g. "gcc 12.2.0" (the "runtime" of a C++ program).
std::string compilerRuntime();

// Everything that is the same for every request of one output instance.
struct RequestIdentity {
  std::string request_id_prefix = "ingestd";  // "<prefix>.executeStreamingIngest;..."
  std::string app = "ingestd";                // x-ms-app
  std::string user = "[none]";                // x-ms-user
  std::string client_version;                 // x-ms-client-version (clientVersionHeader())
};

// "<prefix>.executeStreamingIngest;<block_id>;<attempt>": the block id stays the same across
// the block's retries, the attempt number (0-based, as in the SDKs' managed streaming) changes.
std::string clientRequestId(std::string_view prefix, std::string_view block_id,
                            std::uint32_t attempt);

// The headers of one streaming-ingest request, in this order:
//   Authorization: Bearer <token>      (only when token is non-empty)
//   Content-Type: application/octet-stream
//   Content-Encoding: gzip
//   Accept: application/json
//   Connection: Keep-Alive
//   x-ms-version: 2024-12-12
//   x-ms-client-request-id, x-ms-client-version, x-ms-app, x-ms-user
// Accept-Encoding is not in the list: the HTTP client sets it ("gzip,deflate") so that it also
// decodes a compressed answer. Values pass through asciiHeaderValue().
Headers ingestHeaders(const RequestIdentity& identity, std::string_view block_id,
                      std::uint32_t attempt, std::string_view token);

inline constexpr std::string_view kApiVersion = "2024-12-12";
inline constexpr std::string_view kAcceptEncoding = "gzip,deflate";

}  // namespace ingestd::outputs::kusto
