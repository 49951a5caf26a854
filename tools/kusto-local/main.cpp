// kusto-local: the command-line entry point. Parses flags, builds the engine, auth, faults and
// the HTTP server, prints "listening on HOST:PORT" and runs until SIGTERM or SIGINT.
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "auth.h"
#include "engine.h"
#include "faults.h"
#include "http_server.h"
#include "service.h"

namespace kusto_local {
namespace {

constexpr const char* kUsage = R"(Usage: kusto-local [flags]

A Kusto (Azure Data Explorer) compatible local endpoint: streaming ingestion, management
commands, a KQL subset, Entra ID / managed identity token endpoints and fault injection.
See docs/kusto-local.md.

Flags:
  --listen HOST:PORT          address to listen on (default 127.0.0.1:8080; port 0: the OS
                              picks one). The first line on stdout is "listening on HOST:PORT".
  --database NAME             create this database at start (repeatable)
  --data-dir DIR              persist databases, tables, mappings, policies and rows in DIR
  --discard                   accept ingest requests, count bytes and records, store nothing
  --max-ingest-bytes N        limit on decompressed ingest data (default 4194304); larger: 413
  --strict-json-mapping       JSON formats without mappingName are refused (permanent 400)
  --auth none|aad             aad: Kusto endpoints need a bearer token kusto-local issued
                              (default none)
  --client ID:SECRET          register an application for client credentials (repeatable);
                              "--client ID" registers one that may only use client assertions
  --token-lifetime DURATION   lifetime of issued tokens: 3600, 3600s, 60m, 1h (default 3600s)
  --identity-header VALUE     X-IDENTITY-HEADER value the App Service endpoint expects
                              (default kusto-local-identity-header)
  --seed N                    seed of the fault injection random sequence (default 0)
  --fault-429 P               probability of 429 Too Many Requests on ingest
  --fault-retry-after S       Retry-After seconds sent with injected 429s (default: none)
  --fault-500 P               probability of 500 on ingest
  --fault-503 P               probability of 503 on ingest
  --fault-drop-before P       probability of closing the connection before storing
  --fault-drop-after P        probability of storing, then closing without a response
  --fault-latency MS          delay added to every ingest request
  --fault-fail-table DB.TABLE ingest into this table always fails permanently (repeatable)
  --help                      print this help
)";

struct Flags {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::vector<std::string> databases;
  std::string data_dir;
  bool discard = false;
  std::size_t max_ingest_bytes = std::size_t{4} * 1024 * 1024;
  bool strict_json_mapping = false;
  AuthOptions auth;
  FaultSettings faults;
};

bool parseUnsigned(std::string_view s, std::uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

bool parseProbability(std::string_view s, double& out) {
  try {
    std::size_t used = 0;
    std::string str(s);
    out = std::stod(str, &used);
    return used == str.size() && out >= 0 && out <= 1;
  } catch (const std::exception&) {
    return false;
  }
}

// "3600", "3600s", "60m", "1h" -> seconds.
bool parseDuration(std::string_view s, std::chrono::seconds& out) {
  std::uint64_t mult = 1;
  if (!s.empty() && (s.back() == 's' || s.back() == 'm' || s.back() == 'h')) {
    mult = s.back() == 's' ? 1 : s.back() == 'm' ? 60 : 3600;
    s.remove_suffix(1);
  }
  std::uint64_t v = 0;
  if (!parseUnsigned(s, v) || v == 0 || v > 10ULL * 365 * 24 * 3600) {
    return false;
  }
  out = std::chrono::seconds(static_cast<std::int64_t>(v * mult));
  return true;
}

bool parseListen(std::string_view s, Flags& f) {
  std::size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  std::string_view host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::uint64_t port = 0;
  if (host.empty() || !parseUnsigned(s.substr(colon + 1), port) || port > 65535) {
    return false;
  }
  f.host = std::string(host);
  f.port = static_cast<std::uint16_t>(port);
  return true;
}

// Applies one flag that takes a value. Returns an error message or "".
std::string applyValueFlag(const std::string& name, const std::string& v, Flags& f) {
  std::string bad = fmt::format("bad value for {}", name);
  std::uint64_t n = 0;
  double p = 0;
  if (name == "--listen") {
    return parseListen(v, f)
               ? ""
               : fmt::format("bad value for --listen (expected HOST:PORT): \"{}\"", v);
  }
  if (name == "--database") {
    if (v.empty()) {
      return bad;
    }
    f.databases.push_back(v);
  } else if (name == "--data-dir") {
    f.data_dir = v;
  } else if (name == "--max-ingest-bytes") {
    if (!parseUnsigned(v, n) || n == 0) {
      return bad;
    }
    f.max_ingest_bytes = static_cast<std::size_t>(n);
  } else if (name == "--auth") {
    if (v != "none" && v != "aad") {
      return "bad value for --auth (expected none or aad)";
    }
    f.auth.mode = v == "aad" ? AuthMode::kAad : AuthMode::kNone;
  } else if (name == "--client") {
    std::size_t colon = v.find(':');
    std::string id = v.substr(0, colon);
    if (id.empty()) {
      return "bad value for --client (expected ID:SECRET or ID)";
    }
    f.auth.clients[id] = colon == std::string::npos ? std::string() : v.substr(colon + 1);
  } else if (name == "--token-lifetime") {
    return parseDuration(v, f.auth.token_lifetime) ? "" : bad;
  } else if (name == "--identity-header") {
    f.auth.identity_header = v;
  } else if (name == "--seed") {
    if (!parseUnsigned(v, n)) {
      return bad;
    }
    f.faults.seed = n;
  } else if (name == "--fault-retry-after" || name == "--fault-latency") {
    if (!parseUnsigned(v, n) || n > 24ULL * 3600 * 1000) {
      return bad;
    }
    (name == "--fault-latency" ? f.faults.latency_ms : f.faults.retry_after_seconds) =
        static_cast<int>(n);
  } else if (name == "--fault-fail-table") {
    if (v.find('.') == std::string::npos) {
      return "bad value for --fault-fail-table (expected DB.TABLE)";
    }
    f.faults.fail_tables.insert(v);
  } else {
    double* target = name == "--fault-429"           ? &f.faults.throttle_429
                     : name == "--fault-500"         ? &f.faults.error_500
                     : name == "--fault-503"         ? &f.faults.error_503
                     : name == "--fault-drop-before" ? &f.faults.drop_before_store
                     : name == "--fault-drop-after"  ? &f.faults.drop_after_store
                                                     : nullptr;
    if (target == nullptr) {
      return fmt::format("unknown flag \"{}\"", name);
    }
    if (!parseProbability(v, p)) {
      return fmt::format("bad value for {} (expected a probability 0..1)", name);
    }
    *target = p;
  }
  return "";
}

// Returns an error message, or "" when every flag was understood.
std::string parseFlags(int argc, char** argv, Flags& f, bool& help) {
  static const std::set<std::string> kValueFlags = {"--listen",
                                                    "--database",
                                                    "--data-dir",
                                                    "--max-ingest-bytes",
                                                    "--auth",
                                                    "--client",
                                                    "--token-lifetime",
                                                    "--identity-header",
                                                    "--seed",
                                                    "--fault-429",
                                                    "--fault-500",
                                                    "--fault-503",
                                                    "--fault-drop-before",
                                                    "--fault-drop-after",
                                                    "--fault-retry-after",
                                                    "--fault-latency",
                                                    "--fault-fail-table"};
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> value;
    if (std::size_t eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "--help" || name == "-h") {
      help = true;
      return "";
    }
    if (name == "--discard" || name == "--strict-json-mapping") {
      if (value) {
        return fmt::format("{} takes no value", name);
      }
      (name == "--discard" ? f.discard : f.strict_json_mapping) = true;
      continue;
    }
    if (kValueFlags.count(name) == 0) {
      return name.rfind("--", 0) == 0 ? fmt::format("unknown flag \"{}\"", name)
                                      : fmt::format("unexpected argument \"{}\"", name);
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return fmt::format("{} needs a value", name);
      }
      value = args[++i];
    }
    if (std::string error = applyValueFlag(name, *value, f); !error.empty()) {
      return error;
    }
  }
  if (std::string problem = f.faults.validate(); !problem.empty()) {
    return "bad fault flags: " + problem;
  }
  return "";
}

int run(int argc, char** argv) {
  Flags flags;
  bool help = false;
  if (std::string error = parseFlags(argc, argv, flags, help); !error.empty()) {
    std::cerr << "kusto-local: " << error << "\n(see kusto-local --help)\n";
    return 2;
  }
  if (help) {
    std::cout << kUsage;
    return 0;
  }

  // Every thread inherits this mask, so SIGTERM/SIGINT are only ever taken by sigwait below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  EngineOptions engine_options;
  engine_options.max_ingest_raw_bytes = flags.max_ingest_bytes;
  engine_options.require_json_mapping = flags.strict_json_mapping;
  engine_options.data_dir = flags.data_dir;
  Engine engine(engine_options);
  if (!flags.data_dir.empty()) {
    if (std::string error = engine.load(); !error.empty()) {
      std::cerr << "kusto-local: cannot load " << flags.data_dir << ": " << error << "\n";
      return 1;
    }
  }
  for (const std::string& db : flags.databases) {
    engine.ensureDatabase(db);
  }

  Auth auth(flags.auth);
  std::uint64_t seed = flags.faults.seed;
  Faults faults(flags.faults);
  ServiceOptions service_options;
  service_options.discard = flags.discard;
  service_options.default_fault_seed = seed;
  service_options.max_ingest_raw_bytes = flags.max_ingest_bytes;
  Service service(engine, auth, faults, service_options);
  HttpServer server(service);
  if (std::string error = server.listen(flags.host, flags.port); !error.empty()) {
    std::cerr << "kusto-local: " << error << "\n";
    return 1;
  }
  std::string shown_host =
      flags.host.find(':') != std::string::npos ? "[" + flags.host + "]" : flags.host;
  service.setBaseUrl(fmt::format("http://{}:{}", shown_host, server.port()));
  server.start();
  std::fputs(fmt::format("listening on {}:{}\n", shown_host, server.port()).c_str(), stdout);
  std::fflush(stdout);

  int sig = 0;
  while (sigwait(&stop_signals, &sig) != 0) {
  }
  service.stop();
  server.stop();
  std::fputs(fmt::format("kusto-local: stopped by signal {}\n", sig).c_str(), stderr);
  return 0;
}

}  // namespace
}  // namespace kusto_local

int main(int argc, char** argv) {
  try {
    return kusto_local::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "kusto-local: fatal: " << e.what() << "\n";
    return 1;
  }
}
