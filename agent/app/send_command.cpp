// `ingestd send`: ingest files once into one output and exit, the equivalent of the SDKs'
// ingest_from_file. The files already hold data in the output's format: plain files are cut
// into blocks of at most batch.max_bytes at line boundaries and compressed; a .gz file whose
// content fits in one block, and that fits in one request of the output (its maxPayloadBytes()),
// is sent as it is; a larger one is decompressed and cut.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>

#include <fmt/format.h>

#include "agent/app/commands.h"
#include "agent/compress/gzip_codec.h"
#include "agent/config/settings.h"
#include "agent/config/validate.h"
#include "agent/core/clock.h"
#include "agent/core/log.h"
#include "agent/loop/loop.h"
#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "agent/pipeline/pipeline.h"

namespace ingestd {

namespace {

bool endsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<std::string> readWholeFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return makeError(ErrorCode::kIo, "Cannot open \"{}\": {}.", path, std::strerror(errno));
  }
  std::string data;
  char buf[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    data.append(buf, n);
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) {
    return makeError(ErrorCode::kIo, "Cannot read \"{}\".", path);
  }
  return data;
}

// Cuts `data` into pieces of at most max_bytes that end at a line boundary (a line longer than
// max_bytes becomes its own piece, cut at max_bytes). Pure.
std::vector<std::string_view> cutAtLines(std::string_view data, std::size_t max_bytes) {
  std::vector<std::string_view> pieces;
  while (!data.empty()) {
    if (data.size() <= max_bytes) {
      pieces.push_back(data);
      break;
    }
    std::string_view window = data.substr(0, max_bytes);
    std::size_t cut = window.rfind('\n');
    cut = cut == std::string_view::npos ? max_bytes : cut + 1;
    pieces.push_back(data.substr(0, cut));
    data.remove_prefix(cut);
  }
  return pieces;
}

std::uint64_t countLines(std::string_view s) {
  std::uint64_t n = 0;
  for (char c : s) {
    n += c == '\n';
  }
  if (!s.empty() && s.back() != '\n') {
    ++n;
  }
  return n;
}

struct SendState {
  std::size_t outstanding = 0;
  std::size_t failed_blocks = 0;
  std::size_t sent_blocks = 0;
  std::uint64_t records = 0;
  bool all_queued = false;
};

// The config with only the chosen output and no inputs, validated; or the message for stderr.
Result<Config> loadSendConfig(const std::string& config_path, const std::string& output_name,
                              const PluginRegistry& registry) {
  auto loaded = loadConfigFile(config_path, registry);
  if (!loaded) {
    return loaded.error();
  }
  Config config = std::move(loaded).value();
  if (output_name.empty() && config.outputs.size() > 1) {
    std::vector<std::string> names;
    for (const auto& o : config.outputs) {
      names.push_back(o.name);
    }
    return makeError(ErrorCode::kInvalidArgument,
                     "several outputs in {}: {}; choose one with --output NAME.", config_path,
                     fmt::join(names, ", "));
  }
  std::vector<PluginSection> chosen;
  for (auto& o : config.outputs) {
    if (o.name == output_name || (output_name.empty() && config.outputs.size() == 1)) {
      chosen.push_back(o);
    }
  }
  if (chosen.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "send: no output named \"{}\" in {} (use --output NAME).", output_name,
                     config_path);
  }
  config.outputs = std::move(chosen);
  config.inputs.clear();
  if (auto validation = validateConfig(config, registry); !validation) {
    return validation.error();
  }
  return config;
}

// Hands a block to the output: (body, is_gzip, raw bytes, records).
using SubmitFn = std::function<void(std::string, bool, std::uint64_t, std::uint64_t)>;

// Reads one file and submits its blocks. A .gz file whose content fits in one block (and that
// is small enough to send as it is) goes unchanged; anything else is cut at line boundaries.
Status queueFile(const std::string& path, std::uint64_t max_bytes, std::uint64_t max_payload,
                 const SubmitFn& submit) {
  auto data = readWholeFile(path);
  if (!data) {
    return data.error();
  }
  if (endsWith(path, ".gz")) {
    auto isize = gzipTrailerSize(data.value());
    // As it is when it fits in one block and one request of this output (0: no cap).
    if (isize && *isize <= max_bytes && (max_payload == 0 || data->size() <= max_payload)) {
      std::string plain;
      std::uint64_t records = 0;
      if (gunzip(data.value(), plain, max_bytes + 1)) {
        records = countLines(plain);
      }
      submit(std::move(data).value(), true, isize.value_or(0), records);
      return Status::ok();
    }
    std::string plain;
    if (auto st = gunzip(data.value(), plain, SIZE_MAX); !st) {
      return makeError(ErrorCode::kInvalidArgument, "\"{}\" is not a valid gzip file: {}", path,
                       st.message());
    }
    data = std::move(plain);
  }
  for (auto piece : cutAtLines(data.value(), max_bytes)) {
    submit(std::string(piece), false, piece.size(), countLines(piece));
  }
  return Status::ok();
}

}  // namespace

int sendCommand(const std::string& config_path, const std::string& output_name,
                const std::vector<std::string>& files, const PluginRegistry& registry) {
  Logger log;
  auto loaded = loadSendConfig(config_path, output_name, registry);
  if (!loaded) {
    std::fprintf(stderr, "ingestd: %s\n", loaded.error().message.c_str());
    return 2;
  }
  Config config = std::move(loaded).value();
  log.setLevel(config.service.log_level);
  const std::string name = config.outputs.front().name;
  const std::uint64_t max_bytes = config.outputs.front().pipeline.batch_max_bytes;
  ::signal(SIGPIPE, SIG_IGN);

  SystemClock clock;
  Loop loop;
  SendState state;
  int exit_code = 0;
  {
    WorkerPool workers(loop, config.service.workers);
    Metrics metrics;
    Pipeline pipeline(config, registry, loop, workers, metrics, log, clock);
    Timer watchdog(loop);

    auto maybe_finish = [&] {
      if (state.all_queued && state.outstanding == 0) {
        watchdog.stop();
        pipeline.shutdown([](bool) {});
      }
    };
    const SubmitFn submit = [&](std::string body, bool gz, std::uint64_t raw,
                                std::uint64_t records) {
      ++state.outstanding;
      pipeline.runner(name)->sendPrepared(std::move(body), gz, raw, records,
                                          [&, records](bool delivered) {
                                            --state.outstanding;
                                            if (delivered) {
                                              ++state.sent_blocks;
                                              state.records += records;
                                            } else {
                                              ++state.failed_blocks;
                                            }
                                            maybe_finish();
                                          });
    };

    loop.post([&] {
      if (auto st = pipeline.start(false); !st) {
        log.error("send", "Start-up failed: {}", st.message());
        exit_code = 1;
        state.all_queued = true;
        maybe_finish();
        return;
      }
      // Reading happens here, before anything is sent: `send` is a one-shot command and the
      // files are the whole job, so there is nothing else for the loop to serve meanwhile.
      for (const auto& path : files) {
        const std::uint64_t max_payload = pipeline.output(name)->maxPayloadBytes();
        if (auto st = queueFile(path, max_bytes, max_payload, submit); !st) {
          log.error("send", "{}", st.message());
          exit_code = 1;
        }
      }
      state.all_queued = true;
      maybe_finish();
    });
    // Keeps the loop alive until every block is done (posted work alone does not).
    watchdog.startRepeating(std::chrono::seconds(1), [] {});
    loop.run();
  }
  loop.shutdown();
  std::fprintf(stderr, "ingestd: sent %zu block(s), %llu record(s); %zu block(s) failed.\n",
               state.sent_blocks, static_cast<unsigned long long>(state.records),
               state.failed_blocks);
  if (state.failed_blocks > 0) {
    return 1;
  }
  return exit_code;
}

}  // namespace ingestd
