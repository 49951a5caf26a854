// IngestdHarness implementation (see ingestd_harness.h).
#include "tests/e2e/ingestd_harness.h"

#include <signal.h>

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "tests/support/http_client.h"
#include "tests/support/wait_for.h"

namespace ingestd::test {

std::vector<std::int64_t> Arrivals::missing(std::int64_t n) const {
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < n; ++i) {
    if (!counts.contains(i)) {
      out.push_back(i);
    }
  }
  return out;
}

std::int64_t Arrivals::duplicates() const {
  std::int64_t d = 0;
  for (const auto& [seq, c] : counts) {
    d += c - 1;
  }
  return d;
}

IngestdHarness::IngestdHarness(std::vector<std::string> kusto_args) {
  kusto_args.emplace_back("--database");
  kusto_args.emplace_back(kDb);
  kusto_ = KustoLocal::start(kusto_args);
}

IngestdHarness::~IngestdHarness() {
  if (ingestd_ && ingestd_->running()) {
    ingestd_->signal(SIGKILL);
    ingestd_->wait(std::chrono::seconds(5));
  }
}

void IngestdHarness::createTable(const std::string& name) {
  kusto_->createTableWithStreaming(
      kDb, name, "(timestamp:datetime, tag:string, host:string, source:string, message:string)");
  kusto_->mgmt(
      kDb, fmt::format(".create table {0} ingestion json mapping \"{0}_json\" "
                       "'[{{\"column\":\"timestamp\",\"Properties\":{{\"Path\":\"$.timestamp\"}}}},"
                       "{{\"column\":\"tag\",\"Properties\":{{\"Path\":\"$.tag\"}}}},"
                       "{{\"column\":\"host\",\"Properties\":{{\"Path\":\"$.host\"}}}},"
                       "{{\"column\":\"source\",\"Properties\":{{\"Path\":\"$.source\"}}}},"
                       "{{\"column\":\"message\",\"Properties\":{{\"Path\":\"$.message\"}}}}]'",
                       name));
}

std::string IngestdHarness::writeConfig(const std::string& inputs_yaml,
                                        const std::string& outputs_yaml,
                                        const std::string& service_extra) {
  std::string path = dir_.file("ingestd.yaml");
  std::ofstream out(path);
  out << "service:\n"
      << "  state_dir: " << dir_.file("state") << "\n"
      << "  log_level: info\n"
      << "  http:\n    listen: 127.0.0.1:0\n"
      << "  checkpoint_interval: 200ms\n"
      << "  shutdown_timeout: 20s\n"
      << service_extra << (inputs_yaml.empty() ? "" : "inputs:\n") << inputs_yaml << "outputs:\n"
      << outputs_yaml;
  return path;
}

std::string IngestdHarness::kustoOutput(const std::string& name, const std::string& table,
                                        const std::string& match, const std::string& extra,
                                        const std::string& batch) const {
  return fmt::format(
      "  - name: {}\n    type: kusto\n    match: [\"{}\"]\n    cluster: {}\n"
      "    database: {}\n    table: {}\n    format: multijson\n    mapping: {}_json\n"
      "    auth: {{ method: none }}\n    batch: {}\n"
      "    retry: {{ initial: 100ms, max: 2s }}\n{}",
      name, match, kusto_->url(), kDb, table, table, batch, extra);
}

std::string IngestdHarness::tailInput(const std::string& name, const std::string& path_glob,
                                      const std::string& extra) {
  return fmt::format(
      "  - name: {}\n    type: tail\n    tag: {}\n    paths: [\"{}\"]\n"
      "    read_from: head\n{}",
      name, name, path_glob, extra);
}

bool IngestdHarness::startIngestd(const std::string& config) { return startIngestd(config, {}); }

bool IngestdHarness::startIngestd(const std::string& config,
                                  const std::vector<std::string>& prefix) {
  return startIngestd(config, prefix, {});
}

bool IngestdHarness::startIngestd(const std::string& config, const std::vector<std::string>& prefix,
                                  const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = prefix;
  for (const auto& a : {binPath("ingestd"), std::string("run"), std::string("-c"), config}) {
    argv.push_back(a);
  }
  ProcessOptions options;
  options.env = env;
  ingestd_ = std::make_unique<Process>(std::move(argv), std::move(options));
  auto serving = ingestd_->waitForStderrLine("/metrics", std::chrono::seconds(15));
  if (!serving) {
    return false;
  }
  auto pos = serving->rfind("port ");
  if (pos == std::string::npos) {
    return false;
  }
  metrics_port_ = std::stoi(serving->substr(pos + 5));
  return ingestd_->waitForStderrLine("started", std::chrono::seconds(15)).has_value();
}

std::optional<int> IngestdHarness::stopIngestd(std::chrono::milliseconds timeout) {
  ingestd_->signal(SIGTERM);
  return ingestd_->wait(timeout);
}

void IngestdHarness::killIngestd() {
  ingestd_->signal(SIGKILL);
  ingestd_->wait(std::chrono::seconds(10));
}

double IngestdHarness::metric(const std::string& name, const std::vector<std::string>& labels) {
  auto r = httpRequest("GET", fmt::format("http://127.0.0.1:{}/metrics", metrics_port_));
  double sum = 0;
  std::istringstream in(r.body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind(name, 0) != 0) {
      continue;
    }
    const char after = line.size() > name.size() ? line[name.size()] : ' ';
    if (after != '{' && after != ' ') {
      continue;
    }
    bool ok = true;
    for (const auto& l : labels) {
      ok = ok && line.find(l) != std::string::npos;
    }
    if (ok) {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  return sum;
}

std::uint64_t IngestdHarness::ingestdRss() {
  std::ifstream in(fmt::format("/proc/{}/status", ingestd_->pid()));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stoull(line.substr(6)) * 1024;
    }
  }
  return 0;
}

void IngestdHarness::appendLines(const std::string& path, std::int64_t from, std::int64_t to,
                                 std::size_t payload_bytes, bool random_payload) {
  std::string buf;
  std::string payload(payload_bytes, 'x');
  std::uint64_t state = static_cast<std::uint64_t>(from) * 0x9E3779B97F4A7C15ull + 1;
  for (std::int64_t i = from; i < to; ++i) {
    if (random_payload) {
      for (auto& c : payload) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        c = static_cast<char>('a' + state % 26);
      }
    }
    buf += "seq=";
    buf += std::to_string(i);
    buf += ' ';
    buf += payload;
    buf += '\n';
  }
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << buf;
}

Arrivals IngestdHarness::arrivals(const std::string& table) {
  Arrivals a;
  for (const auto& row : kusto_->rows(kDb, table + " | project message")) {
    const std::string msg = row[0].get<std::string>();
    ++a.rows;
    if (msg.rfind("seq=", 0) != 0) {
      continue;
    }
    ++a.counts[std::stoll(msg.substr(4))];
  }
  return a;
}

bool IngestdHarness::waitForAll(const std::string& table, std::int64_t n,
                                std::chrono::milliseconds timeout) {
  return waitFor(
      [&] { return kusto_->count(kDb, table) >= n && arrivals(table).missing(n).empty(); }, timeout,
      std::chrono::milliseconds(250));
}

}  // namespace ingestd::test
