// `ingestd run` and `ingestd check`: load the config, then run the pipeline until SIGTERM/SIGINT.
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "agent/app/commands.h"
#include "agent/app/systemd_notify.h"
#include "agent/config/describe.h"
#include "agent/config/settings.h"
#include "agent/config/validate.h"
#include "agent/core/clock.h"
#include "agent/core/log.h"
#include "agent/loop/lag_monitor.h"
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

// Signals that end the process by default and that we turn into a clean shutdown. SIGHUP is
// logged and ignored (logrotate postrotate scripts send it; reload is not there yet); SIGPIPE
// and SIGXFSZ are ignored, so a write fails with EPIPE / EFBIG and is handled as an error.
// Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS) keep their default: the
// process cannot continue, and the checkpoints on disk only cover acknowledged data.
constexpr int kShutdownSignals[] = {SIGTERM,   SIGINT,  SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
                                    SIGVTALRM, SIGPROF, SIGXCPU, SIGIO,   SIGPWR,  SIGSTKFLT};

// The uv_signal_t handles of the daemon; close() closes them all.
struct Signals {
  std::vector<uv_signal_t*> handles;
  std::function<void(int)> on_shutdown;
  std::function<void(int)> on_hangup;

  void start(Loop& loop, std::function<void(int)> shutdown, std::function<void(int)> hangup) {
    on_shutdown = std::move(shutdown);
    on_hangup = std::move(hangup);
    std::vector<int> signums(std::begin(kShutdownSignals), std::end(kShutdownSignals));
    for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) {
      signums.push_back(s);
    }
    signums.push_back(SIGHUP);
    for (int signum : signums) {
      auto* h = new uv_signal_t;
      uv_signal_init(loop.raw(), h);
      h->data = this;
      const int rc = uv_signal_start(
          h,
          [](uv_signal_t* handle, int sig) {
            auto* self = static_cast<Signals*>(handle->data);
            if (sig == SIGHUP) {
              self->on_hangup(sig);
            } else {
              self->on_shutdown(sig);
            }
          },
          signum);
      if (rc != 0) {
        // e.g. a real-time signal the C library reserves: it keeps its default.
        uv_close(reinterpret_cast<uv_handle_t*>(h),
                 [](uv_handle_t* x) { delete reinterpret_cast<uv_signal_t*>(x); });
        continue;
      }
      handles.push_back(h);
    }
  }
  void close() {
    for (auto* h : handles) {
      uv_close(reinterpret_cast<uv_handle_t*>(h),
               [](uv_handle_t* x) { delete reinterpret_cast<uv_signal_t*>(x); });
    }
    handles.clear();
  }
};

const char* signalName(int signum) {
  const char* name = ::sigabbrev_np(signum);
  return name != nullptr ? name : "?";
}

// Holds an exclusive lock on <state_dir>/ingestd.lock for the life of the process, so two
// daemons never ship from the same checkpoints (every line would arrive twice). The file holds
// the holder's pid, for the error message of the second instance.
class StateDirLock {
 public:
  ~StateDirLock() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Status acquire(const std::string& state_dir) {
    const std::string path = state_dir + "/ingestd.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      return makeError(ErrorCode::kIo, "Cannot open the lock file \"{}\": {}.", path,
                       std::strerror(errno));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char buf[32] = {};
      const ssize_t n = ::pread(fd_, buf, sizeof(buf) - 1, 0);
      std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
      while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) {
        pid.pop_back();
      }
      ::close(fd_);
      fd_ = -1;
      if (err == EWOULDBLOCK) {
        return makeError(ErrorCode::kUnavailable,
                         "Another ingestd (pid {}) is running with state_dir \"{}\" (it holds "
                         "\"{}\"); two daemons on one state directory would ship every line "
                         "twice. Stop it, or give this one its own service.state_dir.",
                         pid.empty() ? "unknown" : pid, state_dir, path);
      }
      return makeError(ErrorCode::kIo, "Cannot lock \"{}\": {}.", path, std::strerror(err));
    }
    const std::string pid = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd_, 0) != 0 ||
        ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
      return makeError(ErrorCode::kIo, "Cannot write the lock file \"{}\": {}.", path,
                       std::strerror(errno));
    }
    return Status::ok();
  }

 private:
  int fd_ = -1;
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

namespace {

// systemd's STATUS= line: records per second delivered since the last call, and whether every
// output is ready.
std::function<std::string()> statusSummary(const Pipeline& pipeline, const Metrics& metrics,
                                           const Clock& clock) {
  struct Last {
    double records = 0;
    Clock::Monotonic when{};
  };
  auto last = std::make_shared<Last>(Last{metrics.deliveredRecords(), clock.now()});
  return [&pipeline, &metrics, &clock, last] {
    const double records = metrics.deliveredRecords();
    const auto now = clock.now();
    const double seconds = std::chrono::duration<double>(now - last->when).count();
    const double rate = seconds > 0 ? (records - last->records) / seconds : 0;
    *last = Last{records, now};
    const OutputReadiness r = pipeline.readiness();
    return fmt::format("{:.0f} records/s delivered, {:.0f} in all; {}", rate, records,
                       r.ready ? std::string("all outputs ready") : "not ready: " + r.reason);
  };
}


// Loop lag: how late a 100 ms timer fires is how long callbacks kept the loop busy; one
// callback over 25 ms is logged (at most every 10 s).
std::unique_ptr<LagMonitor> makeLagMonitor(Loop& loop, Metrics& metrics, Logger& log) {
  return std::make_unique<LagMonitor>(
      loop, std::chrono::milliseconds(100), std::chrono::milliseconds(25),
      [&metrics](std::chrono::nanoseconds l) {
        metrics.loopLag().Observe(std::chrono::duration<double>(l).count());
      },
      [&log](std::chrono::nanoseconds l) {
        log.logLimited(
            LogLevel::kWarn, "loop-lag", std::chrono::seconds(10), "service",
            fmt::format("The event loop was busy for {} ms in one go (over 25 ms): "
                        "reads, sends and /metrics waited that long.",
                        std::chrono::duration_cast<std::chrono::milliseconds>(l).count()));
      });
}

// A second shutdown signal while draining: exit at once. Nothing is lost, only re-read: the
// checkpoints on disk cover acknowledged data only.
[[noreturn]] void exitOnSecondSignal(Logger& log, int signum) {
  log.warn("service",
           "Second signal SIG{}: exiting now; data not yet acknowledged will be read again "
           "after a restart.",
           signalName(signum));
  log.flush(std::chrono::seconds(2));
  std::fflush(nullptr);
  ::_exit(1);
}

// Loads and validates the config, logs its warnings, creates and locks the state directory.
// Returns the exit code on failure (2: the config, 1: the machine).
std::variant<Config, int> prepareRun(const std::string& config_path, const PluginRegistry& registry,
                                     Logger& log, StateDirLock& lock) {
  auto loaded = loadForRun(config_path, registry);
  if (!loaded) {
    std::fprintf(stderr, "ingestd: %s\n", loaded.error().message.c_str());
    return 2;
  }
  Config config = std::move(loaded).value();
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
  if (auto st = lock.acquire(config.service.state_dir); !st) {
    log.error("service", "{}", st.message());
    return 1;
  }
  return config;
}

// Runs the pipeline until a shutdown signal (or a failed start) and returns the exit code.
int serve(const Config& config, const PluginRegistry& registry, Logger& log) {
  int exit_code = 0;
  SystemClock clock;
  Loop loop;
  {
    WorkerPool workers(loop, config.service.workers);
    Metrics metrics;
    Pipeline pipeline(config, registry, loop, workers, metrics, log, clock);
    StatusServer status(loop, metrics, [&pipeline] {
      OutputReadiness r = pipeline.readiness();
      return Readiness{r.ready, std::move(r.reason)};
    });
    ServiceNotifications notify(loop, statusSummary(pipeline, metrics, clock));
    Signals signals;
    bool shutting_down = false;
    auto lag = makeLagMonitor(loop, metrics, log);

    auto stop_everything = [&](bool clean) {
      if (!clean) {
        exit_code = 0;  // unacknowledged data stays re-readable; that is not a failure
      }
      status.close([] {});
      signals.close();
      lag->stop();
      notify.close();
      log.info("service", "Stopped.");
    };
    auto fail_start = [&](const std::string& message) {
      log.error("service", "{}", message);
      exit_code = 1;
      shutting_down = true;
      pipeline.shutdown(stop_everything);
    };
    signals.start(
        loop,
        [&](int signum) {
          if (shutting_down) {
            exitOnSecondSignal(log, signum);
          }
          shutting_down = true;
          log.info("service", "Got signal SIG{}, shutting down.", signalName(signum));
          notify.stopping();
          pipeline.shutdown(stop_everything);
        },
        [&](int) {
          log.info("service",
                   "Got SIGHUP: ignored (configuration reload is not supported yet; restart "
                   "the service to apply a new configuration).");
        });

    pipeline.onAllDelivered([&] {
      if (shutting_down) {
        return;
      }
      shutting_down = true;
      log.info("service", "Every input has finished and all it read was delivered: exiting.");
      notify.stopping();
      pipeline.shutdown(stop_everything);
    });

    loop.post([&] {
      if (!config.service.http_listen.empty()) {
        if (auto st = status.listen(config.service.http_listen); !st) {
          fail_start(st.message());
          return;
        }
        log.info("service", "Serving /metrics, /healthz and /readyz on port {}.", status.port());
      }
      if (auto st = pipeline.start(); !st) {
        fail_start("Start-up failed: " + st.message());
        return;
      }
      lag->start();
      notify.started();
      log.info("service", "ingestd {} started with {} input(s) and {} output(s).", INGESTD_VERSION,
               config.inputs.size(), config.outputs.size());
    });
    // The signal handles keep the loop running until shutdown closes them.
    loop.run();
  }
  int rc = loop.shutdown();
  if (rc != 0) {
    log.warn("service", "Event loop closed with handles still open ({}).", uv_strerror(rc));
  }
  return exit_code;
}

}  // namespace

int runCommand(const std::string& config_path, const PluginRegistry& registry) {
  // Buffers above 128 KiB are mmapped and returned when freed, so nothing large lingers in the
  // heap arenas (glibc's dynamic threshold moved freed blocks into arenas that never shrink:
  // RSS grew far past the budget during an outage). The hot large buffers (reads, blocks,
  // compressor scratch) are reused warm through the pools of agent/core/heap.h instead, so
  // they do not pay a page fault per 4 KiB for every buffer.
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  // From here on a HUP (logrotate's postrotate) or a broken pipe never kills the daemon, also
  // while it loads its config and takes the lock; serve() then catches HUP to log it.
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGXFSZ, SIG_IGN);
  Logger log;
  StateDirLock lock;
  auto prepared = prepareRun(config_path, registry, log, lock);
  if (const int* code = std::get_if<int>(&prepared)) {
    return *code;
  }
  return serve(std::get<Config>(prepared), registry, log);
}

}  // namespace ingestd
