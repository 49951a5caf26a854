// Micro-benchmark of the CPU work on the worker pool: encoding nginx access-log lines into
// multijson/csv/txt blocks, and gzip with every compiled-in codec. Single-threaded; reports
// per-core throughput from thread CPU time (the best of several runs, so other processes on a
// shared machine disturb it little) and wall time.
//
//   bench_codec [--mib N] [--runs N]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "agent/compress/gzip_codec.h"
#include "agent/pipeline/encoder.h"
#include "bench/bench_timing.h"
#include "bench/nginx_log_gen.h"

namespace ingestd::bench {
namespace {

double mbps(std::size_t bytes, double seconds) {
  return static_cast<double>(bytes) / 1e6 / seconds;
}

// Cuts the log into chunks the way a tail input hands them over (whole lines, ~256 KiB).
std::vector<std::shared_ptr<const RecordChunk>> makeChunks(const std::string& log,
                                                           RecordFormat format) {
  auto source = std::make_shared<SourceInfo>();
  source->input = "nginx";
  source->tag = "nginx.access";
  source->source = "/var/log/nginx/access.log";
  source->format = format;
  std::vector<std::shared_ptr<const RecordChunk>> chunks;
  std::size_t pos = 0;
  const Clock::Wall t0{std::chrono::milliseconds(1795476607123)};
  while (pos < log.size()) {
    std::size_t end = std::min(log.size(), pos + (256u << 10));
    std::size_t nl = log.rfind('\n', end - 1);
    end = (nl == std::string::npos || nl < pos) ? log.size() : nl + 1;
    auto chunk = std::make_shared<RecordChunk>();
    chunk->source = source;
    chunk->data = log.substr(pos, end - pos);
    chunk->records =
        static_cast<std::uint64_t>(std::count(chunk->data.begin(), chunk->data.end(), '\n'));
    chunk->time = t0 + std::chrono::milliseconds(chunks.size());
    chunks.push_back(std::move(chunk));
    pos = end;
  }
  return chunks;
}

// Raw log as 4 MiB blocks of whole lines (what `txt` or `send` compresses).
std::vector<std::string> rawBlocks(const std::string& log) {
  std::vector<std::string> blocks;
  std::size_t pos = 0;
  while (pos < log.size()) {
    std::size_t end = std::min(log.size(), pos + (4u << 20));
    std::size_t nl = log.rfind('\n', end - 1);
    end = (nl == std::string::npos || nl < pos) ? log.size() : nl + 1;
    blocks.push_back(log.substr(pos, end - pos));
    pos = end;
  }
  return blocks;
}

void printRule() { fmt::print("{:-<94}\n", ""); }

}  // namespace

int run(int argc, char** argv) {
  std::size_t mib = 64;
  int runs = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--mib") == 0 && i + 1 < argc) {
      mib = static_cast<std::size_t>(std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      fmt::print(stderr, "usage: bench_codec [--mib N] [--runs N]\n");
      return 2;
    }
  }

  NginxLogGenerator gen;
  const std::string log = gen.generate(mib << 20);
  const auto lines = static_cast<std::size_t>(std::count(log.begin(), log.end(), '\n'));
  fmt::print("input: {:.1f} MB of nginx access log, {} lines, {:.0f} bytes/line; best of {} runs\n",
             static_cast<double>(log.size()) / 1e6, lines,
             static_cast<double>(log.size()) / static_cast<double>(lines), runs);
  fmt::print(
      "MB/s = 10^6 bytes per second of one core (thread CPU time; wall time in brackets)\n\n");

  // Encoder.
  printRule();
  fmt::print("{:<34} {:>18} {:>14} {:>12} {:>12}\n", "encoder (4 MiB batches)", "raw MB/s",
             "out/raw", "blocks", "ns/line");
  printRule();
  std::vector<EncodedBlock> multijson_blocks;
  struct EncCase {
    const char* name;
    OutputFormat format;
    RecordFormat input;
    std::string data;
  };
  // A JSON-lines input for the pass-through path: each log line as a small JSON object.
  std::string json_log;
  json_log.reserve(log.size() * 5 / 4);
  {
    std::size_t pos = 0;
    while (pos < log.size()) {
      std::size_t nl = log.find('\n', pos);
      std::string_view line(log.data() + pos, nl - pos);
      std::size_t sp = line.find(' ');
      bool repaired = false;
      json_log += "{\"remote_addr\":\"";
      json_log += line.substr(0, sp);
      json_log += "\",\"status\":200,\"request\":\"";
      appendJsonEscaped(json_log, line.substr(sp + 1), repaired);
      json_log += "\"}\n";
      pos = nl + 1;
    }
  }
  EncCase cases[] = {
      {"multijson", OutputFormat::kMultiJson, RecordFormat::kLines, log},
      {"csv", OutputFormat::kCsv, RecordFormat::kLines, log},
      {"txt", OutputFormat::kTxt, RecordFormat::kLines, log},
      {"multijson, json input pass-through", OutputFormat::kMultiJson, RecordFormat::kJsonLines,
       json_log},
  };
  for (auto& c : cases) {
    auto chunks = makeChunks(c.data, c.input);
    EncoderOptions options;
    options.format = c.format;
    options.hostname = "web-01.example.com";
    // Batches of chunks holding up to 4 MiB of raw input, as a batcher hands them to a worker;
    // the blocks of a batch are dropped before the next (in the daemon they are compressed and
    // freed), so the allocator reuses their memory as it does in the daemon.
    std::vector<std::span<const std::shared_ptr<const RecordChunk>>> batches;
    for (std::size_t i = 0; i < chunks.size();) {
      std::size_t j = i;
      std::size_t bytes = 0;
      while (j < chunks.size() && (j == i || bytes + chunks[j]->data.size() <= (4u << 20))) {
        bytes += chunks[j++]->data.size();
      }
      batches.push_back(std::span(chunks).subspan(i, j - i));
      i = j;
    }
    std::size_t out_bytes = 0;
    std::size_t block_count = 0;
    Timing t = measure(runs, [&] {
      out_bytes = 0;
      block_count = 0;
      for (auto batch : batches) {
        std::vector<EncodedBlock> blocks;
        std::vector<RejectedRecord> rejected;
        EncodeStats stats;
        encodeChunks(options, batch, blocks, rejected, stats);
        for (const auto& b : blocks) {
          out_bytes += b.data.size();
        }
        block_count += blocks.size();
      }
    });
    std::vector<EncodedBlock> blocks;
    {
      std::vector<RejectedRecord> rejected;
      EncodeStats stats;
      encodeChunks(options, chunks, blocks, rejected, stats);
    }
    const auto n = static_cast<std::size_t>(std::count(c.data.begin(), c.data.end(), '\n'));
    fmt::print("{:<34} {:>8.0f} [{:>6.0f}] {:>14.2f} {:>12} {:>12.1f}\n", c.name,
               mbps(c.data.size(), t.cpu), mbps(c.data.size(), t.wall),
               static_cast<double>(out_bytes) / static_cast<double>(c.data.size()), block_count,
               t.cpu * 1e9 / static_cast<double>(n));
    if (c.format == OutputFormat::kMultiJson && c.input == RecordFormat::kLines) {
      multijson_blocks = std::move(blocks);
    }
  }

  // Codecs, on the multijson blocks (what the daemon compresses) and on raw log blocks.
  std::size_t mj_bytes = 0;
  for (const auto& b : multijson_blocks) {
    mj_bytes += b.data.size();
  }
  const auto raw = rawBlocks(log);
  struct Codec {
    CodecKind kind;
    int level;
  };
  std::vector<Codec> codecs = {{CodecKind::kZlib, 1}, {CodecKind::kZlib, 6}};
  if (codecAvailable(CodecKind::kLibdeflate)) {
    for (int level : {1, 4, 6, 9}) {
      codecs.push_back({CodecKind::kLibdeflate, level});
    }
  }
  if (codecAvailable(CodecKind::kIsal)) {
    codecs.push_back({CodecKind::kIsal, 0});
    codecs.push_back({CodecKind::kIsal, 1});
    codecs.push_back({CodecKind::kIsal, 2});
    codecs.push_back({CodecKind::kIsal, 3});
  }
  double zlib1_cpu[2] = {0, 0};
  for (int input = 0; input < 2; ++input) {
    fmt::print("\n");
    printRule();
    fmt::print("{:<24} {:>18} {:>14} {:>10} {:>12} {:>10}\n",
               input == 0 ? "gzip of multijson blocks" : "gzip of raw log blocks", "in MB/s",
               "raw-log MB/s", "ratio", "vs zlib-1", "");
    printRule();
    const std::size_t in_bytes = input == 0 ? mj_bytes : log.size();
    for (const auto& codec : codecs) {
      auto compressor = GzipCompressor::create(codec.kind, codec.level);
      std::size_t out_bytes = 0;
      Timing t = measure(runs, [&] {
        out_bytes = 0;
        std::string out;
        if (input == 0) {
          for (const auto& b : multijson_blocks) {
            out.clear();
            compressor->compress(b.data, out);
            out_bytes += out.size();
          }
        } else {
          for (const auto& b : raw) {
            out.clear();
            compressor->compress(b, out);
            out_bytes += out.size();
          }
        }
      });
      if (codec.kind == CodecKind::kZlib && codec.level == 1) {
        zlib1_cpu[input] = t.cpu;
      }
      fmt::print("{:<24} {:>8.0f} [{:>6.0f}] {:>14.0f} {:>10.2f} {:>11.2f}x\n",
                 fmt::format("{} -{}", codecName(codec.kind), codec.level), mbps(in_bytes, t.cpu),
                 mbps(in_bytes, t.wall), mbps(log.size(), t.cpu),
                 static_cast<double>(in_bytes) / static_cast<double>(out_bytes),
                 zlib1_cpu[input] / t.cpu);
    }
  }
  fmt::print(
      "\nraw-log MB/s: bytes of the original log per second, the unit of the end-to-end "
      "target.\n");
  return 0;
}

}  // namespace ingestd::bench

int main(int argc, char** argv) { return ingestd::bench::run(argc, argv); }
