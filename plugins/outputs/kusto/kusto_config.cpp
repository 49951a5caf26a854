// KustoOutput::parse(): the kusto output's settings, read with MapReader. No I/O (secret files
// are read by the output when it starts); unknown keys are errors.
#include <charconv>

#include <fmt/format.h>

#include "agent/plugin/config.h"
#include "plugins/outputs/kusto/kusto_output.h"

namespace ingestd::outputs {

namespace {

using namespace std::chrono_literals;

// https://, or http:// on a loopback host (or anywhere with allow_insecure_http).
Result<kusto::ClusterUrl> parseEndpoint(const ConfigNode& node, const std::string& value,
                                        bool allow_insecure_http) {
  auto url = kusto::parseClusterUrl(value);
  if (!url) {
    return node.error(url.error().message);
  }
  if (url->scheme == "http" && !allow_insecure_http && !kusto::isLoopbackHost(url->host)) {
    return node.error(fmt::format(
        "plain http:// is only allowed for localhost, 127.0.0.1 and ::1; use https:// (or set "
        "allow_insecure_http: true to send to '{}' unencrypted, credentials included)",
        url->host));
  }
  return url;
}

Status parseAuth(const ConfigNode& node, const kusto::ClusterUrl& cluster, bool allow_insecure,
                 kusto::AuthSettings& auth) {
  if (!node.defined()) {
    return Status::ok();
  }
  if (!node.isMap()) {
    return node.error("must be a mapping (method: none | token | client_secret, ...)");
  }
  MapReader r(node);
  auth.method = r.oneOf("method", "none",
                        {"none", "token", "client_secret", "managed_identity", "workload_identity",
                         "certificate"});
  auth.token = r.secret("token");
  auth.tenant_id = r.string("tenant_id");
  auth.client_id = r.string("client_id");
  auth.client_secret = r.secret("client_secret");
  auth.authority_host = r.string("authority_host", auth.authority_host);
  auth.scope = r.string("scope");
  INGESTD_RETURN_IF_ERROR(r.finish());

  const std::string& m = auth.method;
  if (m == "managed_identity" || m == "workload_identity" || m == "certificate") {
    return node["method"].error(fmt::format(
        "auth method '{}' is not supported in this version yet (use token or client_secret)", m));
  }
  // Keys of another method are a sign of a mix-up: say so instead of ignoring them.
  auto unused = [&](std::string_view key, std::string_view for_method) -> Status {
    std::string file_key = fmt::format("{}_file", key);
    ConfigNode k = node[key].defined() ? node[key] : node[file_key];
    if (k.defined()) {
      return k.error(fmt::format("is only used with method: {} (method is '{}')", for_method, m));
    }
    return Status::ok();
  };
  if (m != "token") {
    INGESTD_RETURN_IF_ERROR(unused("token", "token"));
  }
  if (m != "client_secret") {
    for (std::string_view key :
         {"tenant_id", "client_id", "client_secret", "authority_host", "scope"}) {
      INGESTD_RETURN_IF_ERROR(unused(key, "client_secret"));
    }
  }
  if (m == "token" && !auth.token.set()) {
    return node.error("method 'token' needs 'token' or 'token_file'");
  }
  if (m == "client_secret") {
    if (auth.tenant_id.empty()) {
      return node.error("method 'client_secret' needs 'tenant_id'");
    }
    if (auth.client_id.empty()) {
      return node.error("method 'client_secret' needs 'client_id'");
    }
    if (!auth.client_secret.set()) {
      return node.error("method 'client_secret' needs 'client_secret' or 'client_secret_file'");
    }
    ConfigNode host_node = node["authority_host"].defined() ? node["authority_host"] : node;
    auto host = parseEndpoint(host_node, auth.authority_host, allow_insecure);
    if (!host) {
      return host.error();
    }
    auth.authority_host = host->base();
    if (auth.scope.empty()) {
      auth.scope = cluster.origin() + "/.default";
    }
  }
  return Status::ok();
}

std::size_t readConcurrency(const ConfigNode& node) {
  // The pipeline owns and validates this key; we only size the connection pool from it.
  ConfigNode n = node["concurrency"];
  if (!n.defined() || !n.isScalar()) {
    return 4;
  }
  auto text = n.scalar();
  if (!text) {
    return 4;
  }
  std::size_t v = 0;
  const std::string& s = text.value();
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v == 0) {
    return 4;
  }
  return std::min<std::size_t>(v, 1024);
}

}  // namespace

Result<KustoOutput::Settings> KustoOutput::parse(const ConfigNode& node) {
  if (!node.isMap()) {
    return node.error("an output must be a mapping");
  }
  MapReader r(node);
  r.allow(kCoreOutputKeys);
  Settings s;
  s.cluster = r.requiredString("cluster");
  s.database = r.requiredString("database");
  s.table = r.requiredString("table");
  s.format = r.oneOf("format", "multijson", {"multijson", "json", "csv", "tsv", "txt"});
  s.mapping = r.string("mapping");
  s.columns = r.stringList("columns");
  s.app_name = r.string("app_name", s.app_name);
  s.request_id_prefix = r.string("request_id_prefix", s.request_id_prefix);
  s.ingest_prefix_strip = r.boolean("ingest_prefix_strip", true);
  s.allow_insecure_http = r.boolean("allow_insecure_http", false);
  s.timeout = r.duration("timeout", s.timeout, 1s, 1h);
  s.connect_timeout = r.duration("connect_timeout", s.connect_timeout, 100ms, 5min);
  s.retry_after_max = r.duration("retry_after_max", s.retry_after_max, 0ms, 1h);
  s.proxy = r.string("proxy");
  ConfigNode tls = r.child("tls");
  ConfigNode auth = r.child("auth");
  INGESTD_RETURN_IF_ERROR(r.finish());

  if (tls.defined()) {
    if (!tls.isMap()) {
      return tls.error("must be a mapping (ca_file, verify)");
    }
    MapReader t(tls);
    s.ca_file = t.path("ca_file");
    s.tls_verify = t.boolean("verify", true);
    INGESTD_RETURN_IF_ERROR(t.finish());
  }

  auto url = parseEndpoint(node["cluster"], s.cluster, s.allow_insecure_http);
  if (!url) {
    return url.error();
  }
  if (s.ingest_prefix_strip) {
    url->host = kusto::stripIngestPrefix(url->host);
  }
  s.endpoint = url->base();

  if (!s.columns.empty() && s.format != "csv" && s.format != "tsv") {
    return node["columns"].error(
        fmt::format("is only used with format csv or tsv (format is '{}')", s.format));
  }
  if (s.request_id_prefix.empty() ||
      s.request_id_prefix.find_first_of("; \t") != std::string::npos) {
    return node["request_id_prefix"].error("must be non-empty, without ';' or spaces");
  }
  if (s.app_name.empty()) {
    return node["app_name"].error("must not be empty");
  }
  INGESTD_RETURN_IF_ERROR(parseAuth(auth, *url, s.allow_insecure_http, s.auth));
  s.concurrency = readConcurrency(node);
  return s;
}

Status KustoOutput::validate(const ConfigNode& node, const Settings& s, ValidationReport& report) {
  if (!s.ca_file.empty()) {
    auto ca = checkCaFile(node["tls"]["ca_file"], s.ca_file);
    if (!ca) {
      return ca.error();
    }
    report.files[s.ca_file] = std::move(ca).value();
  }
  const std::pair<const MapReader::Secret*, std::string_view> secrets[] = {
      {&s.auth.token, "token_file"}, {&s.auth.client_secret, "client_secret_file"}};
  for (const auto& [secret, key] : secrets) {
    if (secret->file.empty()) {
      continue;
    }
    auto found = checkReadableFile(node["auth"][key], secret->file);
    if (!found) {
      return found.error();
    }
    report.files[secret->file] = std::move(found).value();
  }
  return Status::ok();
}

namespace {

// "/run/secrets/x (exists, readable)", or the bare path when it was not checked.
std::string fileWithCheck(const std::string& path, const ValidationReport* checked) {
  if (checked != nullptr) {
    if (auto it = checked->files.find(path); it != checked->files.end()) {
      return fmt::format("{} ({})", path, it->second);
    }
  }
  return path;
}

std::string secretSource(const MapReader::Secret& secret, const ValidationReport* checked) {
  return secret.file.empty() ? std::string("from the config")
                             : "from file " + fileWithCheck(secret.file, checked);
}

}  // namespace

std::string KustoOutput::describe(const Settings& s, const ValidationReport* checked) {
  std::string out =
      fmt::format("      cluster:     {} (requests go to {})\n", s.cluster, s.endpoint);
  out += fmt::format("      table:       {}.{}, format {}, mapping {}\n", s.database, s.table,
                     s.format, s.mapping.empty() ? "(none)" : "\"" + s.mapping + "\"");
  out += fmt::format("      auth:        {}", s.auth.method);
  if (s.auth.method == "client_secret") {
    out += fmt::format(", tenant {}, client {}\n", s.auth.tenant_id, s.auth.client_id);
    out += fmt::format("      client_secret: {}\n", secretSource(s.auth.client_secret, checked));
  } else if (s.auth.method == "token") {
    out += fmt::format("\n      token:       {}\n", secretSource(s.auth.token, checked));
  } else {
    out += "\n";
  }
  if (!s.tls_verify) {
    out += "      tls:         verify OFF (insecure)";
    out += s.ca_file.empty() ? "\n" : fmt::format("; ca_file {} unused\n", s.ca_file);
  } else {
    out += fmt::format("      tls:         verify on, CA {}\n",
                       s.ca_file.empty() ? std::string("system default")
                                         : fileWithCheck(s.ca_file, checked));
  }
  return out;
}

}  // namespace ingestd::outputs
