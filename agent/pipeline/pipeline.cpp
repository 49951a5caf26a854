// Pipeline implementation (see pipeline.h).
#include "agent/pipeline/pipeline.h"

#include <unistd.h>

#include <algorithm>

#include "agent/core/assert.h"
#include "agent/core/heap.h"

namespace ingestd {

struct Pipeline::OutputSlot {
  const PluginSection* section = nullptr;
  std::unique_ptr<PluginContext> ctx;  // plugins keep a reference: it lives as long as they do
  OutputMetrics metrics;
  std::unique_ptr<Output> output;
  std::unique_ptr<OutputRunner> runner;
};

class Pipeline::Sink final : public RecordSink {
 public:
  Sink(Pipeline& p, InputSlot& slot) : p_(p), slot_(slot) {}
  void push(RecordChunk chunk) override { p_.route(slot_, std::move(chunk)); }

 private:
  Pipeline& p_;
  InputSlot& slot_;
};

struct Pipeline::InputSlot {
  const PluginSection* section = nullptr;
  std::unique_ptr<PluginContext> ctx;  // plugins keep a reference: it lives as long as they do
  InputMetrics metrics;
  std::unique_ptr<Input> input;
  std::unique_ptr<Sink> sink;
  bool stopped = false;
  bool finished = false;  // read all it ever will (PluginContext::finished)
};

namespace {

std::string hostName(const ServiceSettings& s) {
  if (!s.hostname.empty()) {
    return s.hostname;
  }
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) {
    return "unknown";
  }
  return buf;
}

}  // namespace

Pipeline::Pipeline(const Config& config, const PluginRegistry& registry, Loop& loop,
                   WorkerPool& workers, Metrics& metrics, Logger& log, const Clock& clock)
    : config_(config),
      registry_(registry),
      loop_(loop),
      workers_(workers),
      metrics_(metrics),
      log_(log),
      clock_(clock),
      hostname_(hostName(config.service)),
      budget_(config.service.memory_limit),
      deadletter_(loop, config.service.state_dir + "/deadletter",
                  config.service.deadletter_max_size),
      checkpoint_timer_(loop),
      drain_timer_(loop),
      deadline_timer_(loop),
      finished_timer_(loop) {
  metrics_.memoryLimitBytes().Set(static_cast<double>(config.service.memory_limit));
  pressure_.setListener([this](bool hold) { onPressure(hold); });
  budget_.reportTo(pressure_);
  // Scheduling only (start encode jobs that waited for a worker); whether inputs read is
  // decided by pressure_ alone.
  workers_.setOnCapacity([this] {
    for (auto& o : outputs_) {
      if (o->runner) {
        o->runner->onWorkerCapacity();
      }
    }
    metrics_.memoryUsedBytes().Set(static_cast<double>(budget_.used()));
  });
}

Pipeline::~Pipeline() { workers_.setOnCapacity(nullptr); }

void Pipeline::updatePressureGauges() {
  for (const char* kind : {"memory", "backlog", "stalled"}) {
    metrics_.backpressure(kind).Set(static_cast<double>(pressure_.activeOfKind(kind)));
  }
}

std::unique_ptr<PluginContext> Pipeline::makeContext(const PluginSection& section) {
  return std::make_unique<PluginContext>(
      PluginContext{.instance = section.type + "/" + section.name,
                    .name = section.name,
                    .loop = loop_,
                    .workers = workers_,
                    .clock = clock_,
                    .log = log_,
                    .state_dir = config_.service.state_dir,
                    .hostname = hostname_});
}

Status Pipeline::start(bool with_inputs) {
  INGESTD_ASSERT_ON_LOOP();
  deadletter_.start();
  for (const auto& section : config_.outputs) {
    auto slot = std::make_unique<OutputSlot>();
    slot->section = &section;
    const auto* factory = registry_.findOutput(section.type);
    INGESTD_CHECK(factory != nullptr);  // the config loader checked the type
    slot->ctx = makeContext(section);
    PluginContext& ctx = *slot->ctx;
    // Label outputs with where they send (a fixed value from the config file, e.g. the kusto
    // table): the plugin says what that is, the core does not know its keys.
    const std::string table =
        factory->destination ? factory->destination(section.settings) : std::string();
    slot->metrics = metrics_.forOutput(section.name, table);
    ctx.output_metrics = &slot->metrics;
    auto created = factory->create(section.settings, ctx);
    if (!created) {
      return created.error();
    }
    slot->output = std::move(created).value();
    if (auto st = slot->output->start(); !st) {
      return st;
    }
    OutputRunnerOptions ro;
    ro.name = section.name;
    ro.destination = table.empty() ? section.name : table;
    ro.settings = section.pipeline;
    ro.format = slot->output->format();
    ro.columns = slot->output->columns();
    ro.hostname = hostname_;
    slot->runner = std::make_unique<OutputRunner>(std::move(ro), *slot->output, loop_, workers_,
                                                  budget_, deadletter_, slot->metrics, log_);
    slot->runner->reportTo(pressure_);
    outputs_.push_back(std::move(slot));
  }
  if (!with_inputs) {
    return Status::ok();
  }
  for (const auto& section : config_.inputs) {
    auto slot = std::make_unique<InputSlot>();
    slot->section = &section;
    slot->metrics = metrics_.forInput(section.name);
    slot->sink = std::make_unique<Sink>(*this, *slot);
    const auto* factory = registry_.findInput(section.type);
    INGESTD_CHECK(factory != nullptr);
    slot->ctx = makeContext(section);
    PluginContext& ctx = *slot->ctx;
    ctx.input_metrics = &slot->metrics;
    ctx.parser_name = section.parser_name;
    ctx.parser = section.parser;
    ctx.finished = [this, raw = slot.get()] { inputFinished(*raw); };
    auto created = factory->create(section.settings, ctx);
    if (!created) {
      return created.error();
    }
    slot->input = std::move(created).value();
    inputs_.push_back(std::move(slot));
  }
  for (auto& in : inputs_) {
    if (auto st = in->input->start(*in->sink); !st) {
      return st;
    }
  }
  checkpoint_timer_.startRepeating(config_.service.checkpoint_interval,
                                   [this] { checkpointAll(); });
  return Status::ok();
}

OutputRunner* Pipeline::runner(std::string_view output_name) {
  for (auto& o : outputs_) {
    if (o->section->name == output_name) {
      return o->runner.get();
    }
  }
  return nullptr;
}

Output* Pipeline::output(std::string_view output_name) {
  for (auto& o : outputs_) {
    if (o->section->name == output_name) {
      return o->output.get();
    }
  }
  return nullptr;
}

OutputReadiness Pipeline::readiness() const {
  if (stopping_) {
    return {false, "shutting down"};
  }
  const auto now = std::chrono::steady_clock::now();
  OutputReadiness all;
  for (const auto& o : outputs_) {
    OutputReadiness r;
    if (!o->output->ready()) {
      r = {false, fmt::format("output \"{}\": not ready (no access token yet)", o->section->name)};
    } else if (o->runner) {
      r = o->runner->readiness(now);
    }
    if (!r.ready) {
      all.ready = false;
      all.reason += (all.reason.empty() ? "" : "\n") + r.reason;
    }
  }
  return all;
}

void Pipeline::route(InputSlot& input, RecordChunk chunk) {
  INGESTD_ASSERT_ON_LOOP();
  // Inputs count their own records and bytes (input_metrics), where they know the details.
  const std::string& tag = chunk.source->tag;
  auto it = route_cache_.find(tag);
  if (it == route_cache_.end()) {
    std::vector<OutputSlot*> targets;
    for (auto& o : outputs_) {
      for (const auto& pattern : o->section->match) {
        if (tagMatches(pattern, tag)) {
          targets.push_back(o.get());
          break;
        }
      }
    }
    it = route_cache_.emplace(tag, std::move(targets)).first;
  }
  if (it->second.empty()) {
    input.metrics.dropped("no_route").Increment(static_cast<double>(chunk.records));
    log_.logLimited(LogLevel::kWarn, "noroute/" + tag, std::chrono::seconds(60), "pipeline",
                    fmt::format("No output matches tag \"{}\" of input \"{}\"; its "
                                "records are dropped.",
                                tag, input.section->name));
    if (chunk.on_ack) {
      chunk.on_ack();
    }
    return;
  }
  auto ticket = std::make_shared<ChunkTicket>();
  ticket->routed_at = std::chrono::steady_clock::now();
  ticket->charged_bytes = chunk.data.size() + sizeof(RecordChunk);
  ticket->outputs_left = static_cast<std::uint32_t>(it->second.size());
  ticket->encodes_left = ticket->outputs_left;
  ticket->on_ack = std::move(chunk.on_ack);
  chunk.on_ack = nullptr;
  ticket->chunk = std::make_shared<RecordChunk>(std::move(chunk));
  budget_.acquire(ticket->charged_bytes);
  metrics_.memoryUsedBytes().Set(static_cast<double>(budget_.used()));
  for (auto* o : it->second) {
    o->runner->push(ticket);
  }
}

void Pipeline::onPressure(bool hold) {
  if (hold) {
    pauseInputs();
    return;
  }
  // Resume from a fresh loop turn: the last cause can turn off inside an input's own push
  // (an output cutting a batch), and inputs are not re-entered from their sink.
  if (resume_posted_) {
    return;
  }
  resume_posted_ = true;
  loop_.post([this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) {
      return;
    }
    resume_posted_ = false;
    if (!pressure_.holding()) {
      resumeInputs();
    }
  });
}

void Pipeline::pauseInputs() {
  if (paused_) {
    return;
  }
  paused_ = true;
  paused_since_ = std::chrono::steady_clock::now();
  hold_started_ = paused_since_;
  heap_released_at_.reset();
  updatePressureGauges();
  if (budget_.full()) {
    log_.logLimited(LogLevel::kWarn, "pipeline/pause", std::chrono::seconds(30), "pipeline",
                    fmt::format("Memory budget full ({} of {} bytes): inputs paused until "
                                "blocks are acknowledged.",
                                budget_.used(), budget_.limit()));
  } else if (pressure_.activeOfKind("stalled") > 0) {
    log_.logLimited(LogLevel::kWarn, "pipeline/pause-stalled", std::chrono::seconds(30), "pipeline",
                    fmt::format("Inputs paused: {}.", pressure_.describe()));
  }
  for (auto& in : inputs_) {
    if (!in->stopped) {
      in->input->pause();
    }
  }
}

void Pipeline::resumeInputs() {
  if (!paused_ || stopping_) {
    paused_ = false;
    return;
  }
  accruePausedSeconds(std::chrono::steady_clock::now());
  paused_ = false;
  updatePressureGauges();
  for (auto& in : inputs_) {
    if (!in->stopped) {
      in->input->resume();
    }
  }
}

// Adds the time paused since the last call to every input's paused_seconds, so the counter
// grows during a long pause (at every checkpoint tick), not only when it ends.
void Pipeline::accruePausedSeconds(std::chrono::steady_clock::time_point now) {
  if (!paused_) {
    return;
  }
  const double seconds = std::chrono::duration<double>(now - paused_since_).count();
  paused_since_ = now;
  for (auto& in : inputs_) {
    if (!in->stopped) {
      in->metrics.paused_seconds->Increment(seconds);
    }
  }
}

void Pipeline::checkpointAll() {
  metrics_.memoryUsedBytes().Set(static_cast<double>(budget_.used()));
  updatePressureGauges();
  // Held for a while (an outage, not the short holds of a fast reader): hand the heap pages
  // freed since reading stopped back to the kernel, once, and again every 30 s of the hold.
  if (paused_) {
    const auto held = std::chrono::steady_clock::now() - hold_started_;
    if (held >= std::chrono::seconds(1) &&
        (!heap_released_at_ ||
         std::chrono::steady_clock::now() - *heap_released_at_ >= std::chrono::seconds(30))) {
      releaseFreeHeap();
      heap_released_at_ = std::chrono::steady_clock::now();
    }
  }
  metrics_.deadletterBytes().Set(static_cast<double>(deadletter_.usedBytes()));
  const auto now = std::chrono::steady_clock::now();
  accruePausedSeconds(now);
  for (auto& o : outputs_) {
    o->runner->updateGauges(now);
  }
  for (auto& in : inputs_) {
    if (!in->stopped) {
      in->input->checkpoint();
    }
  }
}

bool Pipeline::allOutputsIdle() const {
  return std::all_of(outputs_.begin(), outputs_.end(),
                     [](const auto& o) { return o->runner->idle(); });
}

void Pipeline::inputFinished(InputSlot& slot) {
  INGESTD_ASSERT_ON_LOOP();
  if (slot.finished) {
    return;
  }
  slot.finished = true;
  log_.info("input " + slot.ctx->instance, "Finished: everything it will read has been read.");
  if (stopping_ ||
      !std::all_of(inputs_.begin(), inputs_.end(), [](const auto& in) { return in->finished; })) {
    return;
  }
  log_.info("pipeline", "Every input has finished: delivering what is left, then stopping.");
  // No deadline: blocks retry as they always do until delivered or dead-lettered; a signal
  // still stops with the usual shutdown_timeout.
  finished_timer_.startRepeating(std::chrono::milliseconds(20), [this] {
    for (auto& o : outputs_) {
      o->runner->flush();
    }
    if (allOutputsIdle()) {
      finished_timer_.stop();
      if (all_delivered_) {
        all_delivered_();
      }
    }
  });
}

void Pipeline::shutdown(std::function<void(bool clean)> done) {
  INGESTD_ASSERT_ON_LOOP();
  if (stopping_) {
    return;
  }
  stopping_ = true;
  finished_timer_.stop();
  shutdown_done_ = std::move(done);
  log_.info("pipeline", "Shutting down: stopped reading, flushing batches (deadline {} ms).",
            config_.service.shutdown_timeout.count());
  for (auto& in : inputs_) {
    in->input->pause();
  }
  for (auto& o : outputs_) {
    o->runner->flush();
  }
  auto all_idle = [this] {
    for (auto& o : outputs_) {
      if (!o->runner->idle()) {
        return false;
      }
    }
    return true;
  };
  if (all_idle()) {
    finishShutdown(true);
    return;
  }
  drain_timer_.startRepeating(std::chrono::milliseconds(20), [this, all_idle] {
    for (auto& o : outputs_) {
      o->runner->flush();
    }
    if (all_idle()) {
      finishShutdown(true);
    }
  });
  deadline_timer_.start(config_.service.shutdown_timeout, [this] {
    log_.warn("pipeline",
              "Shutdown deadline reached with blocks still unacknowledged; they will be read "
              "again after a restart.");
    finishShutdown(false);
  });
}

void Pipeline::finishShutdown(bool clean) {
  if (!shutdown_done_) {
    return;
  }
  drain_timer_.stop();
  deadline_timer_.stop();
  checkpoint_timer_.stop();
  for (auto& o : outputs_) {
    o->runner->abandon();
  }
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  // Outputs first (cancel what is in flight), then inputs (which write their final checkpoint
  // with every acknowledgement received so far).
  auto remaining = std::make_shared<std::size_t>(outputs_.size() + inputs_.size());
  auto finished = [remaining, done, clean] {
    if (--*remaining == 0) {
      done(clean);
    }
  };
  if (*remaining == 0) {
    done(clean);
    return;
  }
  for (auto& o : outputs_) {
    o->output->stop(finished);
  }
  for (auto& in : inputs_) {
    in->stopped = true;
    in->input->checkpoint();
    in->input->stop(finished);
  }
}

}  // namespace ingestd
