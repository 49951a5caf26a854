// Pipeline: builds inputs and outputs from the config and connects them: inputs -> router (tag
// globs) -> one OutputRunner per output. Owns the memory budget and Backpressure (the one place
// that pauses and resumes inputs), the checkpoint timer and the graceful shutdown sequence. Loop
// thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/config/settings.h"
#include "agent/core/clock.h"
#include "agent/core/log.h"
#include "agent/core/tag_match.h"
#include "agent/loop/loop.h"
#include "agent/loop/worker_pool.h"
#include "agent/metrics/metrics.h"
#include "agent/pipeline/backpressure.h"
#include "agent/pipeline/deadletter.h"
#include "agent/pipeline/memory_budget.h"
#include "agent/pipeline/output_runner.h"
#include "agent/plugin/plugin.h"

namespace ingestd {

class Pipeline {
 public:
  Pipeline(const Config& config, const PluginRegistry& registry, Loop& loop, WorkerPool& workers,
           Metrics& metrics, Logger& log, const Clock& clock);
  ~Pipeline();

  // Creates every output and input (outputs first) and starts them. With with_inputs false,
  // only outputs are created (ingestd send).
  Status start(bool with_inputs = true);

  // Graceful stop (DESIGN.md section 4): stop reading, flush batches, wait for in-flight blocks
  // up to service.shutdown_timeout, save checkpoints, close everything; then done(clean),
  // where clean is false when the deadline cut the drain short.
  void shutdown(std::function<void(bool clean)> done);

  // `fn` runs once when every input has finished (PluginContext::finished, e.g. stdin at its
  // end) and every output is idle: all that was read has been delivered or dead-lettered.
  void onAllDelivered(std::function<void()> fn) { all_delivered_ = std::move(fn); }

  // The runner and the plugin instance of an output, by name; null before start() or when there
  // is none.
  OutputRunner* runner(std::string_view output_name);
  Output* output(std::string_view output_name);
  // /readyz: every output ready (has a token, delivers or has nothing pending), not stopping.
  OutputReadiness readiness() const;
  bool ready() const { return readiness().ready; }
  const MemoryBudget& budget() const { return budget_; }
  const Backpressure& backpressure() const { return pressure_; }

 private:
  class Sink;
  struct OutputSlot;
  struct InputSlot;

  std::unique_ptr<PluginContext> makeContext(const PluginSection& section);
  void route(InputSlot& input, RecordChunk chunk);
  // The first cause of backpressure turned on (hold) or the last one off.
  void onPressure(bool hold);
  void pauseInputs();
  void resumeInputs();
  void updatePressureGauges();
  void accruePausedSeconds(std::chrono::steady_clock::time_point now);
  void checkpointAll();
  void finishShutdown(bool clean);
  void inputFinished(InputSlot& slot);
  bool allOutputsIdle() const;

  const Config& config_;
  const PluginRegistry& registry_;
  Loop& loop_;
  WorkerPool& workers_;
  Metrics& metrics_;
  Logger& log_;
  const Clock& clock_;
  std::string hostname_;
  Backpressure pressure_;  // declared before everything that reports to it
  MemoryBudget budget_;
  DeadLetter deadletter_;
  std::vector<std::unique_ptr<OutputSlot>> outputs_;
  std::vector<std::unique_ptr<InputSlot>> inputs_;
  std::unordered_map<std::string, std::vector<OutputSlot*>> route_cache_;
  Timer checkpoint_timer_;
  Timer drain_timer_;
  Timer deadline_timer_;
  Timer finished_timer_;  // every input finished: waits for the outputs to be idle
  std::function<void()> all_delivered_;
  bool paused_ = false;
  std::chrono::steady_clock::time_point paused_since_{};  // moves on at each accrual
  std::chrono::steady_clock::time_point hold_started_{};  // when this pause began
  std::optional<std::chrono::steady_clock::time_point> heap_released_at_;
  bool stopping_ = false;
  bool resume_posted_ = false;
  std::function<void(bool)> shutdown_done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // posted callbacks check it
};

}  // namespace ingestd
