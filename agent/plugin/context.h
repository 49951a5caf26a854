// PluginContext: everything a plugin instance may use, handed to its create(). The references
// outlive the instance. Besides what it holds, it offers the services every plugin shares: work
// for libuv's thread pool, an HTTP client, the instance's checkpoint store and posting to the
// loop. Timers, directory watches and sockets take ctx.loop (agent/plugin/loop.h, net.h).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/core/clock.h"
#include "agent/core/log.h"
#include "agent/plugin/checkpoint.h"
#include "agent/plugin/http.h"
#include "agent/plugin/loop.h"
#include "agent/plugin/metrics.h"
#include "agent/plugin/parser.h"

namespace ingestd {

class Loop;        // opaque to plugins: pass it to Timer, FsWatch, StreamListener, ...
class WorkerPool;  // the core's pool for pure CPU jobs (encoding, compression)

struct PluginContext {
  std::string instance;  // "tail/nginx": log prefix ("input tail/nginx")
  std::string name;      // "nginx": metric label
  Loop& loop;            // all callbacks arrive on this loop's thread
  WorkerPool& workers;   // pure CPU jobs only (no plugin needs it yet)
  const Clock& clock;    // a fake clock in tests
  Logger& log;
  std::string state_dir;  // service.state_dir (exists at start)
  std::string hostname;
  InputMetrics* input_metrics = nullptr;    // set for inputs
  OutputMetrics* output_metrics = nullptr;  // set for outputs
  // Inputs: the section's `parser:`. "json": records are JSON lines (RecordFormat::kJsonLines);
  // a parser plugin: put `parser` in the SourceInfo of every chunk; "none": raw records.
  std::string parser_name = "none";
  std::shared_ptr<const Parser> parser;

  // Inputs, loop thread: the input has read everything it ever will (stdin at end of file) and
  // pushed it. Call at most once. When every input of the daemon has finished, the core delivers
  // what it holds (retrying as usual, with no deadline) and then stops, exit code 0.
  std::function<void()> finished;

  // Any thread: runs fn on the loop thread soon (never inside this call).
  void post(std::function<void()> fn) const;

  // fileWork() (agent/plugin/loop.h) on this context's loop: `work` runs on libuv's thread pool
  // (blocking file-system calls only), then `done` on the loop thread, exactly once.
  void fileWork(std::function<void()> work, std::function<void()> done) const;

  // Loop thread. A new HTTP client on this loop (libcurl multi; agent/http). The caller owns it:
  // close() it in stop() and keep it until close's callback ran.
  std::unique_ptr<HttpClient> httpClient(HttpClientOptions options) const;

  // Loop thread. The checkpoint file of this instance, at `path`, or when `path` is empty at
  // `<state_dir>/<type>-<name>.json` (instance "tail/nginx": tail-nginx.json). Log lines name
  // the input ("input tail/nginx"). Two stores on one path would overwrite each other.
  std::unique_ptr<CheckpointStore> checkpointStore(std::string path = {}) const;
};

}  // namespace ingestd
