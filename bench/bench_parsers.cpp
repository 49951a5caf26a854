// Micro-benchmark of the parser plugins on generated, realistic lines: RFC 5424 (~200-byte
// messages with structured data), RFC 3164, nginx access lines through the regex parser (with
// time_key and types), logfmt application lines, CRI and docker lines. Single-threaded, one
// ParsedRecord reused as the encoder does; reports per-core MB/s and records/s from thread CPU
// time (best of several runs, so other load on a shared machine disturbs it little) and wall
// MB/s. Also measures the regex parser's choice of a per-thread match data block against
// creating one per record.
//
//   bench_parsers [--mib N] [--runs N]
#include <pcre2.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "agent/plugin/parser.h"
#include "agent/plugin/plugin.h"
#include "bench/bench_timing.h"
#include "bench/nginx_log_gen.h"

namespace ingestd::bench {
namespace {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : rng_(seed) {}
  std::size_t operator()(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }

 private:
  std::mt19937_64 rng_;
};

constexpr const char* kWords[] = {"connection", "accepted", "from",    "user",  "session",
                                  "opened",     "closed",   "timeout", "retry", "request",
                                  "completed",  "in",       "ms",      "cache", "miss",
                                  "upstream",   "returned", "status",  "for",   "client",
                                  "disk",       "usage",    "above",   "limit", "rotating"};

void appendWords(std::string& out, Rng& rng, std::size_t target_len) {
  const std::size_t start = out.size();
  while (out.size() - start < target_len) {
    out.append(kWords[rng(std::size(kWords))]);
    out.push_back(' ');
  }
  out.pop_back();
}

// Lines in one buffer, '\n'-separated as an input's chunk holds them, and views of each (without
// the newline).
struct Lines {
  std::string text;
  std::vector<std::string_view> lines;
};

Lines splitLines(std::string text) {
  Lines out;
  out.text = std::move(text);
  std::size_t pos = 0;
  const std::string_view all(out.text);
  while (pos < all.size()) {
    std::size_t nl = all.find('\n', pos);
    if (nl == std::string_view::npos) {
      nl = all.size();
    }
    out.lines.push_back(all.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

// About `bytes` of lines, each made by `line(out)` (which appends one line, without '\n').
Lines makeLines(std::size_t bytes, const std::function<void(std::string&)>& line) {
  std::string text;
  text.reserve(bytes + 4096);
  while (text.size() < bytes) {
    line(text);
    text.push_back('\n');
  }
  return splitLines(std::move(text));
}

Lines rfc5424Lines(std::size_t bytes) {
  Rng rng(5424);
  std::uint64_t us = 0;
  return makeLines(bytes, [&](std::string& out) {
    us += 1 + rng(2000);
    fmt::format_to(std::back_inserter(out),
                   "<{}>1 2026-11-23T06:{:02}:{:02}.{:06}Z host-{:02}.example.net app{} {} ID{} "
                   "[meta@32473 seq=\"{}\" region=\"eu-west-1\"] ",
                   8 * (16 + rng(8)) + rng(8), (us / 60'000'000) % 60, (us / 1'000'000) % 60,
                   us % 1'000'000, rng(40), rng(12), 1000 + rng(60000), rng(100), us);
    appendWords(out, rng, 60 + rng(50));
  });
}

Lines rfc3164Lines(std::size_t bytes) {
  Rng rng(3164);
  constexpr const char* kApps[] = {"sshd", "CRON", "systemd", "kernel", "postfix/smtpd", "nginx"};
  return makeLines(bytes, [&](std::string& out) {
    fmt::format_to(std::back_inserter(out),
                   "<{}>Nov {:2} {:02}:{:02}:{:02} web{:02} {}[{}]: ", 8 * rng(24) + rng(8),
                   1 + rng(28), rng(24), rng(60), rng(60), rng(40), kApps[rng(std::size(kApps))],
                   1 + rng(65535));
    appendWords(out, rng, 60 + rng(80));
  });
}

Lines logfmtLines(std::size_t bytes) {
  Rng rng(7);
  constexpr const char* kLevels[] = {"info", "info", "info", "debug", "warn", "error"};
  constexpr const char* kPaths[] = {"/api/v1/users", "/api/v1/orders", "/healthz", "/login"};
  return makeLines(bytes, [&](std::string& out) {
    fmt::format_to(std::back_inserter(out), "time=2026-11-23T06:{:02}:{:02}.{:03}Z level={} msg=\"",
                   rng(60), rng(60), rng(1000), kLevels[rng(std::size(kLevels))]);
    appendWords(out, rng, 20 + rng(30));
    fmt::format_to(std::back_inserter(out),
                   "\" method=GET path={} status={} duration_ms={} request_id={:016x} "
                   "user_id={} cached",
                   kPaths[rng(std::size(kPaths))], rng(5) == 0 ? 404 : 200, rng(500),
                   rng(~std::size_t{0}), rng(100000));
  });
}

Lines nginxLines(std::size_t bytes) {
  NginxLogGenerator gen;
  return splitLines(gen.generate(bytes));
}

Lines criLines(std::size_t bytes) {
  Rng rng(1);
  return makeLines(bytes, [&](std::string& out) {
    fmt::format_to(std::back_inserter(out), "2026-11-23T06:{:02}:{:02}.{:09}Z {} F ", rng(60),
                   rng(60), rng(1'000'000'000), rng(4) == 0 ? "stderr" : "stdout");
    appendWords(out, rng, 80 + rng(80));
  });
}

Lines dockerLines(std::size_t bytes) {
  Rng rng(2);
  return makeLines(bytes, [&](std::string& out) {
    out.append("{\"log\":\"");
    appendWords(out, rng, 80 + rng(80));
    fmt::format_to(std::back_inserter(out),
                   "\\n\",\"stream\":\"{}\",\"time\":\"2026-11-23T06:{:02}:{:02}.{:09}Z\"}}",
                   rng(4) == 0 ? "stderr" : "stdout", rng(60), rng(60), rng(1'000'000'000));
  });
}

constexpr const char* kNginxParser =
    "type: regex\n"
    "pattern: '^(?<remote_addr>\\S+) \\S+ (?<remote_user>\\S+) \\[(?<time>[^\\]]+)\\] "
    "\"(?<method>[A-Z]+) (?<path>[^ \"]*) (?<protocol>[^\"]*)\" (?<status>\\d{3}) "
    "(?<bytes>\\d+|-) \"(?<referer>[^\"]*)\" \"(?<user_agent>[^\"]*)\"$'\n"
    "time_key: time\n"
    "time_format: '%d/%b/%Y:%H:%M:%S %z'\n"
    "types: {status: int, bytes: int}\n";

std::unique_ptr<Parser> makeParser(const PluginRegistry& registry, const std::string& yaml) {
  const ConfigNode node(YAML::Load(yaml), std::make_shared<const std::string>("bench"), "parser");
  const std::string type =
      node.isMap() ? node["type"].yaml().as<std::string>() : node.yaml().as<std::string>();
  auto p = registry.findParser(type)->make(node);
  if (!p) {
    fmt::print(stderr, "bench_parsers: {}\n", p.error().message);
    std::exit(1);
  }
  return std::move(p).value();
}

void benchParser(const std::string& label, const Parser& parser,
                 const std::vector<std::string_view>& lines, int runs) {
  std::size_t bytes = 0;
  for (const auto& l : lines) {
    bytes += l.size() + 1;
  }
  std::size_t ok = 0;
  std::size_t fields = 0;
  ParsedRecord rec;
  const Timing t = measure(runs, [&] {
    ok = 0;
    fields = 0;
    for (const auto& l : lines) {
      rec.clear();
      if (parser.parse(l, rec)) {
        ++ok;
        fields += rec.size();
      }
    }
  });
  const double mb = static_cast<double>(bytes) / 1e6;
  const auto n = static_cast<double>(lines.size());
  fmt::print("| {} | {:.0f} | {} | **{:.0f}** | {:.2f} M | {:.0f} | {:.0f} | {:.1f} |\n", label,
             static_cast<double>(bytes) / n, ok == lines.size() ? "all" : fmt::format("{}", ok),
             mb / t.cpu, n / t.cpu / 1e6, t.cpu / n * 1e9, mb / t.wall,
             static_cast<double>(fields) / std::max<double>(1, static_cast<double>(ok)));
}

// The cost the regex parser avoids with its per-thread match data: pcre2_match_data_create
// and free around every match, against one block reused.
std::string benchMatchData(const std::vector<std::string_view>& lines, int runs) {
  const char* pattern =
      R"re(^(?<remote_addr>\S+) \S+ (?<remote_user>\S+) \[(?<time>[^\]]+)\] )re"
      R"re("(?<method>[A-Z]+) (?<path>[^ "]*) (?<protocol>[^"]*)" (?<status>\d{3}) )re"
      R"re((?<bytes>\d+|-) "(?<referer>[^"]*)" "(?<user_agent>[^"]*)"$)re";
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED, 0,
                                   &err, &off, nullptr);
  const bool jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  std::size_t matched = 0;
  const auto run = [&](bool per_call) {
    pcre2_match_data* shared = pcre2_match_data_create(16, nullptr);
    const auto result = measure(runs, [&] {
      matched = 0;
      for (const auto& l : lines) {
        pcre2_match_data* md = per_call ? pcre2_match_data_create(16, nullptr) : shared;
        const auto* s = reinterpret_cast<PCRE2_SPTR>(l.data());
        const int rc = jit ? pcre2_jit_match(code, s, l.size(), 0, 0, md, nullptr)
                           : pcre2_match(code, s, l.size(), 0, 0, md, nullptr);
        matched += rc > 0 ? 1 : 0;
        if (per_call) {
          pcre2_match_data_free(md);
        }
      }
    });
    pcre2_match_data_free(shared);  // was never reached after an early return (a leak)
    return result;
  };
  const auto n = static_cast<double>(lines.size());
  const Timing reused = run(false);
  const Timing per_call = run(true);
  pcre2_code_free(code);
  return fmt::format(
      "PCRE2 match only (JIT {}), {} lines matched: match data reused {:.0f} ns/line, created "
      "per call {:.0f} ns/line (+{:.0f} ns)\n",
      jit ? "on" : "off", matched, reused.cpu / n * 1e9, per_call.cpu / n * 1e9,
      (per_call.cpu - reused.cpu) / n * 1e9);
}

int run(int argc, char** argv) {
  std::size_t mib = 100;
  int runs = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mib") == 0 && i + 1 < argc) {
      mib = static_cast<std::size_t>(std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      fmt::print(stderr, "usage: bench_parsers [--mib N] [--runs N]\n");
      return 2;
    }
  }
  const std::size_t bytes = mib << 20;
  PluginRegistry registry;
  registerBuiltins(registry);
  fmt::print("{} MiB of lines per parser, best of {} runs, one core (thread CPU time)\n\n", mib,
             runs);
  fmt::print(
      "| parser, input | bytes/line | parsed | MB/s per core | records/s | ns/record | wall MB/s "
      "| fields/record |\n|---|---|---|---|---|---|---|---|\n");
  struct Case {
    std::string label;
    std::string parser;
    std::function<Lines(std::size_t)> gen;
  };
  const Case cases[] = {
      {"syslog, RFC 5424 with SD", "syslog", rfc5424Lines},
      {"syslog, RFC 3164", "syslog", rfc3164Lines},
      {"regex, nginx combined (time, 2 ints)", kNginxParser, nginxLines},
      {"logfmt, app lines", "logfmt", logfmtLines},
      {"cri", "cri", criLines},
      {"docker", "docker", dockerLines},
  };
  std::string notes;
  for (const Case& c : cases) {
    const Lines input = c.gen(bytes);
    const auto parser = makeParser(registry, c.parser);
    benchParser(c.label, *parser, input.lines, runs);
    if (c.parser == kNginxParser) {
      notes += benchMatchData(input.lines, runs);
    }
  }
  fmt::print("\n{}", notes);
  return 0;
}

}  // namespace
}  // namespace ingestd::bench

int main(int argc, char** argv) { return ingestd::bench::run(argc, argv); }
