// Pure classification of streaming-ingest responses (see kusto_classify.h for the rules and why).
#include "plugins/outputs/kusto/kusto_classify.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace ingestd::outputs::kusto {

namespace {

constexpr std::size_t kMaxServiceText = 512;

// Service text goes into logs and dead-letter files: one line, bounded.
std::string oneLine(std::string_view text, std::size_t max = kMaxServiceText) {
  std::string out;
  out.reserve(std::min(text.size(), max));
  for (char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7F ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

std::string mappingKind(std::string_view format) {
  return format == "csv" || format == "tsv" ? "csv" : "json";
}

// An explanation an operator can act on for the error codes people actually hit.
std::string explain(std::string_view code, const ClassifyContext& ctx) {
  if (code == "BadRequest_StreamingIngestionPolicyNotEnabled") {
    return fmt::format(
        "streaming ingestion is not enabled on table '{}': run .alter table {} policy "
        "streamingingestion enable (it can take a few minutes to apply)",
        ctx.table, ctx.table);
  }
  if (code == "BadRequest_MappingReferenceWasNotFound") {
    return fmt::format(
        "ingestion mapping '{}' was not found on table '{}': create it with .create table {} "
        "ingestion {} mapping \"{}\" '[...]'",
        ctx.mapping, ctx.table, ctx.table, mappingKind(ctx.format), ctx.mapping);
  }
  if (code == "BadRequest_TableNotExist") {
    return fmt::format(
        "table '{}' does not exist in database '{}': create it with .create table "
        "{} (...)",
        ctx.table, ctx.database, ctx.table);
  }
  if (code == "BadRequest_DatabaseNotExist") {
    return fmt::format("database '{}' does not exist on the cluster", ctx.database);
  }
  if (code == "Stream_InputStreamTooLarge" || code == "BadRequest_FileTooLarge") {
    return "the block is larger than the service accepts for streaming ingestion (4 MB of data): "
           "lower batch.max_bytes";
  }
  if (code == "BadRequest_MissingMappingtFailure") {
    return fmt::format("format '{}' needs an ingestion mapping on table '{}': set mapping:",
                       ctx.format, ctx.table);
  }
  if (code == "BadRequest_InvalidMapping") {
    return fmt::format("ingestion mapping '{}' of table '{}' is invalid for this data", ctx.mapping,
                       ctx.table);
  }
  return {};
}

std::string statusText(long status) {
  switch (status) {
    case 400: return "bad request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not found";
    case 408: return "request timeout";
    case 413: return "payload too large";
    case 429: return "throttled";
    case 500: return "internal server error";
    case 502: return "bad gateway";
    case 503: return "service unavailable";
    case 504: return "gateway timeout";
    default: return fmt::format("HTTP {}", status);
  }
}

// "<explanation>. The service said: <code>: <message>." (parts left out when unknown).
std::string compose(std::string_view explanation, const std::optional<OneApiError>& err,
                    std::string_view body) {
  std::string out(explanation);
  std::string service;
  if (err) {
    service = err->code.empty() ? oneLine(err->message)
                                : (err->message.empty()
                                       ? err->code
                                       : fmt::format("{}: {}", err->code, oneLine(err->message)));
  } else if (!body.empty()) {
    service = oneLine(body, 200);
  }
  if (!service.empty()) {
    if (!out.empty()) {
      out += ". ";
    }
    out += "The service said: ";
    out += service;
  }
  if (!out.empty() && out.back() != '.' && out.back() != '?') {
    out.push_back('.');
  }
  if (!out.empty()) {
    out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  }
  return out;
}

std::optional<int> monthIndex(std::string_view m) {
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr",
                                                               "May", "Jun", "Jul", "Aug",
                                                               "Sep", "Oct", "Nov", "Dec"};
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == m) {
      return static_cast<int>(i) + 1;
    }
  }
  return std::nullopt;
}

bool parseInt(std::string_view s, int& out) {
  if (s.empty()) {
    return false;
  }
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<std::chrono::system_clock::time_point> parseHttpDate(std::string_view v) {
  auto comma = v.find(", ");
  if (comma == std::string_view::npos || v.size() != comma + 2 + 24) {
    return std::nullopt;
  }
  std::string_view d = v.substr(comma + 2);  // "06 Nov 1994 08:49:37 GMT"
  if (d[2] != ' ' || d[6] != ' ' || d[11] != ' ' || d[14] != ':' || d[17] != ':' || d[20] != ' ' ||
      d.substr(21) != "GMT") {
    return std::nullopt;
  }
  int day = 0;
  int year = 0;
  int hh = 0;
  int mm = 0;
  int ss = 0;
  auto month = monthIndex(d.substr(3, 3));
  if (!month || !parseInt(d.substr(0, 2), day) || !parseInt(d.substr(7, 4), year) ||
      !parseInt(d.substr(12, 2), hh) || !parseInt(d.substr(15, 2), mm) ||
      !parseInt(d.substr(18, 2), ss)) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(year),
                                  std::chrono::month(static_cast<unsigned>(*month)),
                                  std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 60) {
    return std::nullopt;
  }
  return std::chrono::sys_days(ymd) + std::chrono::hours(hh) + std::chrono::minutes(mm) +
         std::chrono::seconds(ss);
}

}  // namespace

std::optional<OneApiError> parseOneApiError(std::string_view body) {
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return std::nullopt;
  }
  auto it = doc.find("error");
  if (it == doc.end() || !it->is_object()) {
    return std::nullopt;
  }
  const auto& e = *it;
  OneApiError out;
  if (auto c = e.find("code"); c != e.end() && c->is_string()) {
    out.code = c->get<std::string>();
  }
  if (auto m = e.find("@message");
      m != e.end() && m->is_string() && !m->get<std::string>().empty()) {
    out.message = m->get<std::string>();
  } else if (auto m2 = e.find("message"); m2 != e.end() && m2->is_string()) {
    out.message = m2->get<std::string>();
  }
  if (auto p = e.find("@permanent"); p != e.end() && p->is_boolean()) {
    out.permanent = p->get<bool>();
  }
  return out;
}

std::optional<std::chrono::milliseconds> parseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now,
                                                         std::chrono::milliseconds cap) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  if (value.empty()) {
    return std::nullopt;
  }
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    if (value.size() > 9) {
      return cap;  // absurdly large: the cap applies anyway
    }
    int seconds = 0;
    if (!parseInt(value, seconds)) {
      return std::nullopt;
    }
    return std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), cap);
  }
  auto when = parseHttpDate(value);
  if (!when) {
    return std::nullopt;
  }
  if (*when <= now) {
    return std::chrono::milliseconds(0);
  }
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(*when - now);
  return std::min(delay, cap);
}

std::string transportErrorCode(int curl_code) {
  switch (curl_code) {
    case CURLE_OPERATION_TIMEDOUT: return "Timeout";
    case CURLE_COULDNT_CONNECT: return "ConnectFailed";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "ResolveFailed";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR: return "TlsError";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE: return "ConnectionDropped";
    default: return "NetworkError";
  }
}

namespace {

// A 2xx other than 200, or a 3xx: neither acknowledges the block, both are sent again.
void classifyNotAcknowledged(const ResponseView& r, const std::optional<OneApiError>& err,
                             SendOutcome& out) {
  const long s = r.status;
  out.delivery = Delivery::kRetry;
  if (s < 300) {
    out.error_code = out.error_code.empty() ? "UnexpectedStatus" : out.error_code;
    out.message = compose(fmt::format("unexpected success status {} (only 200 acknowledges a "
                                      "block), sending again",
                                      s),
                          err, r.body);
    return;
  }
  out.error_code = "Redirect";
  std::string location;
  if (r.headers != nullptr) {
    if (auto it = r.headers->find("location"); it != r.headers->end()) {
      location = oneLine(it->second, 200);
    }
  }
  out.message = compose(fmt::format("the cluster answered {} with a redirect{}{}; ingestd does "
                                    "not follow redirects: set cluster to the engine URL",
                                    s, location.empty() ? "" : " to ", location),
                        std::nullopt, {});
}

// 401, 403, 404 and 413: the statuses with an explanation of their own.
void classifyKnownClientError(const ResponseView& r, const ClassifyContext& ctx,
                              const std::optional<OneApiError>& err, const std::string& explanation,
                              SendOutcome& out) {
  const long s = r.status;
  out.delivery = s == 413 ? Delivery::kRejected : Delivery::kRetry;
  std::string text;
  const char* code = "";
  if (s == 401) {
    code = "Unauthorized";
    text =
        "the cluster rejected the credentials even after a token refresh: check auth (tenant, "
        "client id, secret, token) and that the principal has the Ingestor role on the database";
  } else if (s == 403) {
    code = "Forbidden";
    text = fmt::format(
        "the principal may not ingest into '{}.{}': grant it the Ingestor role on database '{}' "
        "(role changes take minutes to apply)",
        ctx.database, ctx.table, ctx.database);
  } else if (s == 404) {
    code = "NotFound";
    text =
        "streaming ingestion endpoint not found: is streaming ingestion enabled on the cluster, "
        "and is cluster the engine URL (not the ingest- one)?";
  } else {
    code = "PayloadTooLarge";
    text =
        "the block is larger than the service accepts for streaming ingestion: lower "
        "batch.max_bytes";
  }
  out.error_code = out.error_code.empty() ? code : out.error_code;
  // The 401 text holds even when the service explains more: the refresh already happened.
  const bool own_text = s == 401 || explanation.empty();
  out.message = compose(own_text ? text : explanation, err, r.body);
}

// 408, 429 and 5xx are transient unless a 5xx says @permanent; other 4xx are permanent unless
// the service says they are not.
void classifyOtherError(const ResponseView& r, const std::optional<OneApiError>& err,
                        const std::string& explanation, SendOutcome& out) {
  const long s = r.status;
  if (s == 408 || s == 429 || s >= 500) {
    const bool permanent = s >= 500 && err && err->permanent.value_or(false);
    out.delivery = permanent ? Delivery::kRejected : Delivery::kRetry;
    if (out.error_code.empty()) {
      out.error_code = s == 429 ? "Throttled" : (s == 408 ? "RequestTimeout" : "ServerError");
    }
  } else {
    const bool transient = err && err->permanent.has_value() && !*err->permanent;
    out.delivery = transient ? Delivery::kRetry : Delivery::kRejected;
    if (out.error_code.empty()) {
      out.error_code = s == 400 ? "BadRequest" : fmt::format("Http{}", s);
    }
  }
  out.message = compose(explanation.empty() ? statusText(s) : explanation, err, r.body);
}

}  // namespace

SendOutcome classifyResponse(const ResponseView& r, const ClassifyContext& ctx,
                             std::chrono::system_clock::time_point now) {
  SendOutcome out;
  out.http_status = static_cast<int>(r.status);

  if (r.status == 0) {
    out.delivery = Delivery::kRetry;
    out.error_code = transportErrorCode(r.curl_code);
    out.message = fmt::format("No response from the cluster: {}.",
                              r.transport_error.empty() ? std::string("transport error")
                                                        : oneLine(r.transport_error));
    return out;
  }
  if (r.status == 200) {
    out.delivery = Delivery::kDelivered;
    return out;
  }

  const auto err = parseOneApiError(r.body);
  if (err && !err->code.empty()) {
    out.error_code = err->code;
  }
  const std::string explanation = err ? explain(err->code, ctx) : std::string();
  const long s = r.status;
  if (s >= 200 && s < 400) {
    classifyNotAcknowledged(r, err, out);
  } else if (s == 401 || s == 403 || s == 404 || s == 413) {
    classifyKnownClientError(r, ctx, err, explanation, out);
  } else {
    classifyOtherError(r, err, explanation, out);
  }

  if (out.delivery == Delivery::kRetry && r.headers != nullptr) {
    if (auto it = r.headers->find("retry-after"); it != r.headers->end()) {
      out.retry_after = parseRetryAfter(it->second, now, ctx.max_retry_after);
    }
  }
  return out;
}

}  // namespace ingestd::outputs::kusto
