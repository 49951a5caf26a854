// `ingestd run` and `ingestd check`: load the config, then run the pipeline until SIGTERM/SIGINT.
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <optional>

#include "agent/app/commands.h"
#include "agent/config/describe.h"
#include "agent/config/settings.h"
#include "agent/config/validate.h"
#include "agent/core/clock.h"
#include "agent/core/log.h"
#include "agent/loop/loop.h"
#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "agent/metrics/status_server.h"
#include "agent/pipeline/deadletter.h"
#include "agent/pipeline/pipeline.h"

namespace ingestd {

namespace {

Result<Config> loadForRun(const std::string& path, const PluginRegistry& registry) {
  auto config = loadConfigFile(path, registry);
  if (!config) {
    return config;
  }
  if (config->inputs.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "{}: 'inputs': at least one input is required to run.", path);
  }
  return config;
}

void configureLogger(Logger& log, const ServiceSettings& s) {
  log.setLevel(s.log_level);
  log.setFormat(s.log_format == "json" ? Logger::Format::kJson : Logger::Format::kText);
}

// Closes a set of uv_signal_t handles.
struct Signals {
  uv_signal_t term{};
  uv_signal_t intr{};
  int count = 0;
  std::function<void(int)> on_signal;

  void start(Loop& loop, std::function<void(int)> fn) {
    on_signal = std::move(fn);
    for (auto* s : {&term, &intr}) {
      uv_signal_init(loop.raw(), s);
      s->data = this;
    }
    auto cb = [](uv_signal_t* h, int signum) {
      auto* self = static_cast<Signals*>(h->data);
      self->on_signal(signum);
    };
    uv_signal_start(&term, cb, SIGTERM);
    uv_signal_start(&intr, cb, SIGINT);
  }
  void close() {
    for (auto* s : {&term, &intr}) {
      uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
    }
  }
};

}  // namespace

int checkCommand(const std::string& config_path, const PluginRegistry& registry) {
  auto config = loadConfigFile(config_path, registry);
  if (!config) {
    std::fprintf(stderr, "ingestd: %s\n", config.error().message.c_str());
    return 2;
  }
  // The same checks `run` makes before it starts: what passes here does not fail there.
  auto validation = validateConfig(config.value(), registry);
  if (!validation) {
    std::fprintf(stderr, "ingestd: %s\n", validation.error().message.c_str());
    return 2;
  }
  std::fputs(describeConfig(config.value(), &registry, &validation.value()).c_str(), stdout);
  std::printf("Configuration OK.\n");
  return 0;
}

int runCommand(const std::string& config_path, const PluginRegistry& registry) {
  Logger log;
  auto loaded = loadForRun(config_path, registry);
  if (!loaded) {
    std::fprintf(stderr, "ingestd: %s\n", loaded.error().message.c_str());
    return 2;
  }
  const Config config = std::move(loaded).value();
  auto validation = validateConfig(config, registry);
  if (!validation) {
    std::fprintf(stderr, "ingestd: %s\n", validation.error().message.c_str());
    return 2;
  }
  configureLogger(log, config.service);
  for (auto& [component, warning] : validationWarnings(config, validation.value())) {
    if (!warning.empty()) {
      warning[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(warning[0])));
    }
    log.warn(component, "{}", warning);  // a sentence, as every log message
  }
  if (auto st = makeDirs(config.service.state_dir); !st) {
    log.error("service", "{}", st.message());
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);

  int exit_code = 0;
  SystemClock clock;
  Loop loop;
  {
    WorkerPool workers(loop, config.service.workers);
    Metrics metrics;
    Pipeline pipeline(config, registry, loop, workers, metrics, log, clock);
    StatusServer status(loop, metrics, [&pipeline] { return pipeline.ready(); });
    Signals signals;
    bool shutting_down = false;

    auto stop_everything = [&](bool clean) {
      if (!clean) {
        exit_code = 0;  // unacknowledged data stays re-readable; that is not a failure
      }
      status.close([] {});
      signals.close();
      log.info("service", "Stopped.");
    };
    signals.start(loop, [&](int signum) {
      if (shutting_down) {
        log.warn("service", "Second signal {}: exiting now; data not yet acknowledged will be "
                 "read again after a restart.", signum);
        std::fflush(nullptr);
        ::_exit(1);
      }
      shutting_down = true;
      log.info("service", "Got signal {}, shutting down.", signum);
      pipeline.shutdown(stop_everything);
    });

    bool started = false;
    loop.post([&] {
      if (!config.service.http_listen.empty()) {
        if (auto st = status.listen(config.service.http_listen); !st) {
          log.error("service", "{}", st.message());
          exit_code = 1;
          shutting_down = true;
          pipeline.shutdown(stop_everything);
          return;
        }
        log.info("service", "Serving /metrics, /healthz and /readyz on port {}.", status.port());
      }
      if (auto st = pipeline.start(); !st) {
        log.error("service", "Start-up failed: {}", st.message());
        exit_code = 1;
        shutting_down = true;
        pipeline.shutdown(stop_everything);
        return;
      }
      started = true;
      log.info("service", "ingestd {} started with {} input(s) and {} output(s).",
               INGESTD_VERSION, config.inputs.size(), config.outputs.size());
    });
    // The signal handles keep the loop running until shutdown closes them.
    loop.run();
    (void)started;
  }
  int rc = loop.shutdown();
  if (rc != 0) {
    log.warn("service", "Event loop closed with handles still open ({}).", uv_strerror(rc));
  }
  return exit_code;
}

}  // namespace ingestd
