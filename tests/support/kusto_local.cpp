// KustoLocal implementation: process start-up, JSON requests and response unwrapping.
#include "tests/support/kusto_local.h"

#include <signal.h>

#include <stdexcept>

namespace ingestd::test {
namespace {

std::runtime_error httpFailure(std::string_view what, const HttpResponse& r) {
  std::string msg(what);
  msg += ": HTTP " + std::to_string(r.status);
  if (!r.error.empty()) {
    msg += " (" + r.error + ")";
  }
  msg += ": " + r.body.substr(0, 2000);
  return std::runtime_error(msg);
}

nlohmann::json parseBody(std::string_view what, const HttpResponse& r) {
  try {
    return nlohmann::json::parse(r.body);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string(what) + ": response is not JSON (" + e.what() +
                             "): " + r.body.substr(0, 2000));
  }
}

}  // namespace

std::unique_ptr<KustoLocal> KustoLocal::start(std::vector<std::string> extra_args,
                                              std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{binPath("kusto-local"), "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  std::unique_ptr<KustoLocal> kl(new KustoLocal());
  kl->process_ = std::make_unique<Process>(argv);
  const auto line = kl->process_->waitForLine("listening on ", timeout);
  const std::string prefix = "listening on 127.0.0.1:";
  if (!line || line->rfind(prefix, 0) != 0) {
    const bool alive = kl->process_->running();
    throw std::runtime_error("kusto-local did not print '" + prefix + "<port>' (" +
                             (alive ? "still running" : "exited") + "); stdout: " +
                             kl->process_->stdoutText() + " stderr: " + kl->process_->stderrText());
  }
  kl->port_ = std::stoi(line->substr(prefix.size()));
  if (kl->port_ <= 0 || kl->port_ > 65535) {
    throw std::runtime_error("kusto-local printed a bad port: " + *line);
  }
  kl->url_ = "http://127.0.0.1:" + std::to_string(kl->port_);
  return kl;
}

KustoLocal::~KustoLocal() {
  // Stop gracefully so the process runs its exit path (and writes its coverage counters in a
  // coverage build); Process's destructor still kills it if it has not exited by then.
  if (process_) {
    process_->signal(SIGTERM);
    (void)process_->wait(std::chrono::seconds(5));
  }
}

std::vector<std::string> KustoLocal::authHeaders(const std::vector<std::string>& extra) const {
  std::vector<std::string> h;
  if (!token_.empty()) {
    h.push_back("Authorization: Bearer " + token_);
  }
  h.insert(h.end(), extra.begin(), extra.end());
  return h;
}

HttpResponse KustoLocal::postJson(const std::string& path, const nlohmann::json& body,
                                  const std::vector<std::string>& extra_headers) {
  auto headers = authHeaders(extra_headers);
  headers.emplace_back("Content-Type: application/json; charset=utf-8");
  headers.emplace_back("Accept: application/json");
  return httpRequest("POST", url_ + path, body.dump(), headers);
}

HttpResponse KustoLocal::mgmtRaw(std::string_view db, std::string_view csl,
                                 const std::vector<std::string>& extra_headers) {
  return postJson("/v1/rest/mgmt", {{"db", db}, {"csl", csl}}, extra_headers);
}

nlohmann::json KustoLocal::mgmt(std::string_view db, std::string_view csl) {
  const auto r = mgmtRaw(db, csl);
  if (r.status != 200) {
    throw httpFailure("mgmt '" + std::string(csl) + "'", r);
  }
  return parseBody("mgmt", r);
}

HttpResponse KustoLocal::queryRaw(std::string_view db, std::string_view kql, bool v2,
                                  const std::vector<std::string>& extra_headers) {
  return postJson(v2 ? "/v2/rest/query" : "/v1/rest/query", {{"db", db}, {"csl", kql}},
                  extra_headers);
}

nlohmann::json KustoLocal::query(std::string_view db, std::string_view kql, bool v2) {
  const auto r = queryRaw(db, kql, v2);
  if (r.status != 200) {
    throw httpFailure("query '" + std::string(kql) + "'", r);
  }
  return parseBody("query", r);
}

std::vector<nlohmann::json> primaryRows(const nlohmann::json& frames) {
  if (!frames.is_array()) {
    throw std::runtime_error("v2 answer is not an array of frames: " + frames.dump());
  }
  for (const auto& f : frames) {
    if (f.value("FrameType", "") == "DataTable" && f.value("TableKind", "") == "PrimaryResult") {
      const auto& rows = f.at("Rows");
      return {rows.begin(), rows.end()};
    }
  }
  throw std::runtime_error("v2 answer has no PrimaryResult table: " + frames.dump());
}

std::vector<nlohmann::json> KustoLocal::rows(std::string_view db, std::string_view kql) {
  return primaryRows(query(db, kql, true));
}

std::int64_t KustoLocal::count(std::string_view db, std::string_view table) {
  const auto r = rows(db, std::string(table) + " | count");
  if (r.size() != 1 || !r[0].is_array() || r[0].empty() || !r[0][0].is_number_integer()) {
    throw std::runtime_error("count: unexpected rows for '" + std::string(table) + " | count'");
  }
  return r[0][0].get<std::int64_t>();
}

nlohmann::json KustoLocal::stats() {
  const auto r = httpRequest("GET", url_ + "/kusto-local/stats", {}, authHeaders({}));
  if (r.status != 200) {
    throw httpFailure("stats", r);
  }
  return parseBody("stats", r);
}

void KustoLocal::setFaults(const nlohmann::json& faults) {
  const auto r = postJson("/kusto-local/faults", faults, {});
  if (r.status != 200) {
    throw httpFailure("faults " + faults.dump(), r);
  }
}

std::string KustoLocal::ingestUrl(std::string_view db, std::string_view table,
                                  std::string_view format, std::string_view mapping) const {
  std::string u = url_ + "/v1/rest/ingest/" + urlEncode(db) + "/" + urlEncode(table) +
                  "?streamFormat=" + urlEncode(format);
  if (!mapping.empty()) {
    u += "&mappingName=" + urlEncode(mapping);
  }
  return u;
}

HttpResponse KustoLocal::ingest(std::string_view db, std::string_view table,
                                std::string_view format, std::string_view body,
                                std::string_view mapping,
                                const std::vector<std::string>& extra_headers, bool gzip,
                                bool chunked) {
  auto headers = authHeaders(extra_headers);
  headers.emplace_back("Content-Type: application/octet-stream");
  headers.emplace_back("Accept: application/json");
  std::string compressed;
  if (gzip) {
    compressed = gzipCompress(body);
    body = compressed;
    headers.emplace_back("Content-Encoding: gzip");
  }
  return httpRequest("POST", ingestUrl(db, table, format, mapping), body, headers,
                     std::chrono::seconds(30), chunked);
}

void KustoLocal::createTableWithStreaming(std::string_view db, std::string_view table,
                                          std::string_view schema) {
  mgmt(db, ".create table " + std::string(table) + " " + std::string(schema));
  mgmt(db, ".alter table " + std::string(table) + " policy streamingingestion enable");
}

int KustoLocal::stop(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  const auto status = process_->wait(timeout);
  if (!status) {
    process_->signal(SIGKILL);
    process_->wait(std::chrono::seconds(5));
    throw std::runtime_error("kusto-local did not exit within the deadline after SIGTERM");
  }
  return *status;
}

}  // namespace ingestd::test
