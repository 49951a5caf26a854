// Integration tests: OutputRunner on a real loop and worker pool with a fake output — batching,
// acknowledgements, retries with Retry-After, permanent rejection to the dead-letter directory,
// block size limits and the memory budget.
#include <doctest/doctest.h>

#include <dirent.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "agent/compress/gzip_codec.h"
#include "agent/pipeline/output_runner.h"
#include "tests/support/captured_log.h"
#include "tests/support/loop_wait.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
using namespace ingestd;

namespace {

bool runUntil(Loop& loop, const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  return test::runLoopUntil(loop, cond, timeout);
}

// Records every payload; answers with the scripted outcomes, then kDelivered.
class FakeOutput final : public Output {
 public:
  std::deque<SendOutcome> script;
  std::vector<Payload> seen;
  std::size_t max_in_flight = 0;
  std::size_t in_flight = 0;
  bool respond_later = false;
  std::vector<std::function<void()>> held;

  void send(Payload payload, std::function<void(SendOutcome)> done) override {
    seen.push_back(payload);
    SendOutcome outcome;
    outcome.delivery = Delivery::kDelivered;
    outcome.http_status = 200;
    if (!script.empty()) {
      outcome = script.front();
      script.pop_front();
    }
    ++in_flight;
    max_in_flight = std::max(max_in_flight, in_flight);
    auto finish = [this, outcome, done = std::move(done)] {
      --in_flight;
      done(outcome);
    };
    if (respond_later) {
      held.emplace_back(std::move(finish));
    } else {
      finish();
    }
  }
  void stop(std::function<void()> done) override { done(); }
  std::string format() const override { return "multijson"; }
};

struct Fixture {
  test::TempDir dir;
  Loop loop;
  test::CapturedLog captured{LogLevel::kInfo};
  Logger& log = captured.log;
  Metrics metrics;
  OutputMetrics om = metrics.forOutput("fake", "T");
  MemoryBudget budget{64ull << 20};
  std::unique_ptr<WorkerPool> workers = std::make_unique<WorkerPool>(loop, 2);
  DeadLetter deadletter;
  FakeOutput output;
  std::unique_ptr<OutputRunner> runner;

  explicit Fixture(const OutputPipelineSettings& s = {},
                   std::uint64_t deadletter_max = DeadLetter::kDefaultMaxSize)
      : deadletter(loop, dir.path() + "/deadletter", deadletter_max) {
    Loop::markLoopThread();
    OutputRunnerOptions o;
    o.name = "fake";
    o.destination = "db.T";
    o.settings = s;
    o.format = "multijson";
    o.hostname = "host1";
    o.seed = 1;
    runner = std::make_unique<OutputRunner>(o, output, loop, *workers, budget, deadletter, om, log);
    workers->setOnCapacity([this] { runner->onWorkerCapacity(); });
  }
  ~Fixture() {
    runner.reset();
    workers.reset();
    CHECK(loop.shutdown() == 0);
  }

  std::shared_ptr<ChunkTicket> chunk(std::string data, std::uint64_t records, int* acks) {
    auto src = std::make_shared<SourceInfo>();
    src->input = "in";
    src->tag = "t";
    src->source = "/var/log/x";
    RecordChunk c;
    c.source = src;
    c.data = std::move(data);
    c.records = records;
    c.time = std::chrono::system_clock::now();
    auto t = std::make_shared<ChunkTicket>();
    t->on_ack = [acks] { ++*acks; };
    t->charged_bytes = c.data.size();
    t->outputs_left = 1;
    t->encodes_left = 1;
    t->chunk = std::make_shared<RecordChunk>(std::move(c));
    budget.acquire(t->charged_bytes);
    return t;
  }
};

// A Backpressure the runner reports to, counting the hold and release edges inputs would hear.
struct PressureProbe {
  explicit PressureProbe(OutputRunner& runner) {
    pressure.setListener([this](bool hold) { ++(hold ? holds : releases); });
    runner.reportTo(pressure);
  }
  Backpressure pressure;
  int holds = 0;
  int releases = 0;
};

std::string lines(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) {
    s += "line " + std::to_string(i) + "\n";
  }
  return s;
}

std::vector<nlohmann::json> decodeBlock(const Payload& p) {
  std::string plain;
  REQUIRE(gunzip(*p.body, plain, 64u << 20).isOk());
  std::vector<nlohmann::json> out;
  std::size_t pos = 0;
  while (pos < plain.size()) {
    auto nl = plain.find('\n', pos);
    out.push_back(nlohmann::json::parse(plain.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return out;
}

std::vector<std::string> listFiles(const std::string& dir, std::string_view suffix) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (auto* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() >= suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        names.push_back(std::move(name));
      }
    }
    closedir(d);
  }
  return names;
}

int countFiles(const std::string& dir, std::string_view suffix) {
  return static_cast<int>(listFiles(dir, suffix).size());
}

// The dead-letter JSON documents in `dir`, each with the name of its file.
std::vector<std::pair<std::string, nlohmann::json>> deadLetters(const std::string& dir) {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  const std::string prefix = dir + "/";
  for (auto& name : listFiles(dir, ".json")) {
    std::ifstream in(prefix + name);
    out.emplace_back(name, nlohmann::json::parse(in));
  }
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("output runner: flush delivers every record once and acknowledges the chunk") {
  Fixture f;
  int acks = 0;
  f.runner->push(f.chunk(lines(0, 100), 100, &acks));
  f.runner->push(f.chunk(lines(100, 250), 150, &acks));
  f.runner->flush();
  REQUIRE(runUntil(
      f.loop, [&] { return acks == 2 && f.runner->idle(); }, 5s));
  std::vector<int> seen;
  for (auto& p : f.output.seen) {
    for (auto& rec : decodeBlock(p)) {
      CHECK(rec["tag"] == "t");
      CHECK(rec["host"] == "host1");
      CHECK(rec["source"] == "/var/log/x");
      seen.push_back(std::stoi(rec["message"].get<std::string>().substr(5)));
    }
  }
  REQUIRE(seen.size() == 250);
  for (int i = 0; i < 250; ++i) {
    CHECK(seen[static_cast<std::size_t>(i)] == i);
  }
  CHECK(f.budget.used() == 0);
  CHECK(f.om.records->Value() == 250);
}

TEST_CASE("output runner: max_delay flushes a partial batch without an explicit flush") {
  OutputPipelineSettings s;
  s.batch_max_delay = 50ms;
  Fixture f(s);
  int acks = 0;
  f.runner->push(f.chunk(lines(0, 3), 3, &acks));
  REQUIRE(runUntil(
      f.loop, [&] { return acks == 1; }, 5s));
  CHECK(f.output.seen.size() == 1);
}

TEST_CASE("output runner: blocks never exceed batch.max_bytes and respect concurrency") {
  OutputPipelineSettings s;
  s.batch_max_bytes = std::uint64_t{64} * 1024;
  s.concurrency = 3;
  Fixture f(s);
  f.output.respond_later = true;
  int acks = 0;
  for (int c = 0; c < 40; ++c) {
    f.runner->push(f.chunk(lines(c * 1000, c * 1000 + 1000), 1000, &acks));
  }
  f.runner->flush();
  std::uint64_t records = 0;
  REQUIRE(runUntil(
      f.loop,
      [&] {
        auto held = std::move(f.output.held);
        f.output.held.clear();
        for (auto& fn : held) {
          fn();  // may send more, which lands in a fresh `held`
        }
        return acks == 40 && f.runner->idle();
      },
      20s));
  for (auto& p : f.output.seen) {
    CHECK(p.raw_bytes <= 64 * 1024);
    records += p.records;
  }
  CHECK(records == 40000);
  CHECK(f.output.max_in_flight <= 3);
  CHECK(f.output.seen.size() > 10);
}

TEST_CASE("output runner: transient failures are retried with the same block id") {
  OutputPipelineSettings s;
  s.retry_initial = 10ms;
  s.retry_max = 50ms;
  Fixture f(s);
  SendOutcome throttled;
  throttled.delivery = Delivery::kRetry;
  throttled.http_status = 429;
  throttled.retry_after = 30ms;
  SendOutcome unavailable;
  unavailable.delivery = Delivery::kRetry;
  unavailable.http_status = 503;
  f.output.script = {throttled, unavailable};
  int acks = 0;
  f.runner->push(f.chunk(lines(0, 10), 10, &acks));
  f.runner->flush();
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(runUntil(
      f.loop, [&] { return acks == 1 && f.runner->idle(); }, 5s));
  REQUIRE(f.output.seen.size() == 3);
  CHECK(f.output.seen[0].block_id == f.output.seen[2].block_id);
  CHECK(f.output.seen[0].attempt == 0);
  CHECK(f.output.seen[1].attempt == 1);
  CHECK(f.output.seen[2].attempt == 2);
  // The Retry-After of 30 ms was honoured before the second attempt.
  CHECK(std::chrono::steady_clock::now() - t0 >= 30ms);
  CHECK(f.om.retries->Value() == 2);
}

TEST_CASE("output runner: a permanent rejection goes to the dead-letter directory and is acked") {
  Fixture f;
  SendOutcome rejected;
  rejected.delivery = Delivery::kRejected;
  rejected.http_status = 400;
  rejected.error_code = "BadRequest_MappingReferenceWasNotFound";
  rejected.message = "mapping 'm' not found";
  f.output.script = {rejected};
  int acks = 0;
  f.runner->push(f.chunk(lines(0, 5), 5, &acks));
  f.runner->flush();
  REQUIRE(runUntil(
      f.loop, [&] { return acks == 1 && f.runner->idle(); }, 5s));
  CHECK(f.output.seen.size() == 1);  // not retried
  const std::string dl = f.dir.path() + "/deadletter";
  CHECK(countFiles(dl, ".json") == 1);
  CHECK(countFiles(dl, ".data.gz") == 1);
  CHECK(f.om.deadletter_blocks->Value() == 1);
  CHECK(f.om.dropped("rejected").Value() == 5);
}

TEST_CASE("output runner: retry.max_elapsed gives up into the dead-letter directory") {
  OutputPipelineSettings s;
  s.retry_initial = 5ms;
  s.retry_max = 10ms;
  s.retry_max_elapsed = 60ms;
  Fixture f(s);
  SendOutcome err;
  err.delivery = Delivery::kRetry;
  err.http_status = 500;
  for (int i = 0; i < 1000; ++i) {
    f.output.script.push_back(err);
  }
  int acks = 0;
  f.runner->push(f.chunk(lines(0, 5), 5, &acks));
  f.runner->flush();
  REQUIRE(runUntil(
      f.loop, [&] { return acks == 1 && f.runner->idle(); }, 5s));
  CHECK(f.output.seen.size() >= 2);
  CHECK(countFiles(f.dir.path() + "/deadletter", ".json") == 1);
  CHECK(f.om.dropped("retries_exhausted").Value() == 5);
}

TEST_CASE("output runner: a record larger than a block is dead-lettered, the rest delivered") {
  OutputPipelineSettings s;
  s.batch_max_bytes = 4096;
  Fixture f(s);
  int acks = 0;
  std::string big(10000, 'x');
  f.runner->push(f.chunk("small 1\n" + big + "\nsmall 2\n", 3, &acks));
  f.runner->flush();
  REQUIRE(runUntil(
      f.loop, [&] { return acks == 1 && f.runner->idle(); }, 5s));
  std::uint64_t delivered = 0;
  for (auto& p : f.output.seen) {
    delivered += p.records;
  }
  CHECK(delivered == 2);
  CHECK(f.om.dropped("record_too_large").Value() == 1);
  CHECK(countFiles(f.dir.path() + "/deadletter", ".json") == 1);
}

TEST_CASE(
    "output runner: a batch of only too-large records is acknowledged once when the "
    "dead-letter directory is full") {
  OutputPipelineSettings s;
  s.batch_max_bytes = 4096;
  // Smaller than one dead letter: every write is refused at once (the "full" policy), so the
  // dead-letter callback runs before the encode completion has returned.
  Fixture f(s, 1024);
  int acks = 0;
  f.runner->push(f.chunk(std::string(10000, 'x') + "\n", 1, &acks));
  f.runner->flush();
  REQUIRE(runUntil(
      f.loop, [&] { return acks == 1 && f.runner->idle(); }, 5s));
  test::runLoopFor(f.loop, 20ms);
  CHECK(acks == 1);
  CHECK(f.output.seen.empty());
  CHECK(f.om.dropped("record_too_large").Value() == 1);
  CHECK(f.om.deadletterDiscarded().Value() == 1);
  CHECK(f.budget.used() == 0);
  CHECK(f.runner->oldestUnacked(std::chrono::steady_clock::now()) ==
        std::chrono::steady_clock::duration::zero());
}

TEST_CASE(
    "output runner: a batch keeps the name it got when cut, in every attempt, log line "
    "and dead-letter file") {
  OutputPipelineSettings s;
  s.retry_initial = 1ms;
  s.retry_max = 5ms;
  Fixture f(s);
  SendOutcome unavailable;
  unavailable.delivery = Delivery::kRetry;
  unavailable.http_status = 503;
  SendOutcome rejected;
  rejected.delivery = Delivery::kRejected;
  rejected.http_status = 400;
  rejected.error_code = "BadRequest";
  f.output.script = {unavailable, rejected};
  int acks = 0;
  f.runner->push(f.chunk(lines(0, 5), 5, &acks));
  f.runner->flush();
  REQUIRE(runUntil(
      f.loop, [&] { return acks == 1 && f.runner->idle(); }, 5s));
  REQUIRE(f.output.seen.size() == 2);
  const std::string id = f.output.seen[0].block_id;
  CHECK(std::regex_match(id, std::regex("[0-9a-f]{16}-[0-9a-f]{8}")));
  CHECK(f.output.seen[1].block_id == id);
  const auto dls = deadLetters(f.dir.path() + "/deadletter");
  REQUIRE(dls.size() == 1);
  CHECK(contains(dls[0].first, "-fake-" + id + ".json"));
  CHECK(dls[0].second["block_id"] == id);
  CHECK(dls[0].second["attempts"] == 2);
  const std::string logged = f.captured.text();
  CHECK(contains(logged, "retrying block " + id + " in"));
  CHECK(contains(logged, "rejected block " + id + " (5 records)"));

  // The next batch has the next name.
  f.runner->push(f.chunk(lines(5, 6), 1, &acks));
  f.runner->flush();
  REQUIRE(runUntil(
      f.loop, [&] { return acks == 2 && f.runner->idle(); }, 5s));
  REQUIRE(f.output.seen.size() == 3);
  CHECK(f.output.seen[2].block_id == id.substr(0, 17) + "00000002");
}

TEST_CASE("output runner: every block and dead letter of one batch is named after the batch") {
  OutputPipelineSettings s;
  s.batch_max_bytes = 4096;
  Fixture f(s);
  int acks = 0;
  // One chunk is one batch. Control characters grow sixfold in JSON (\u0001), far beyond the
  // batcher's estimate, so the batch encodes into several blocks; the last record is too large
  // for any block.
  std::string data;
  for (int i = 0; i < 50; ++i) {
    data += std::string(60, '\x01') + "\n";
  }
  data += std::string(10000, 'x') + "\n";
  f.runner->push(f.chunk(std::move(data), 51, &acks));
  f.runner->flush();
  REQUIRE(runUntil(
      f.loop, [&] { return acks == 1 && f.runner->idle(); }, 5s));
  const auto& seen = f.output.seen;
  REQUIRE(seen.size() >= 3);
  const std::string id = seen[0].block_id;
  std::uint64_t records = 0;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].block_id == (i == 0 ? id : id + "." + std::to_string(i + 1)));
    CHECK(seen[i].attempt == 0);
    records += seen[i].records;
  }
  CHECK(records == 50);
  const auto dls = deadLetters(f.dir.path() + "/deadletter");
  REQUIRE(dls.size() == 1);
  const std::string dl_id = id + "." + std::to_string(seen.size() + 1);
  CHECK(dls[0].second["block_id"] == dl_id);
  CHECK(dls[0].second["reason"] == "record_too_large");
  CHECK(contains(dls[0].first, "-fake-" + dl_id + ".json"));
}

TEST_CASE(
    "output runner: a dead letter that cannot be written holds its batch unacknowledged, "
    "holds inputs (stalled) until it is stored, and the batch is acknowledged then") {
  OutputPipelineSettings s;
  s.retry_initial = 5ms;
  s.retry_max = 20ms;
  Fixture f(s);
  PressureProbe probe(*f.runner);
  Backpressure& pressure = probe.pressure;
  const int& holds = probe.holds;
  const int& releases = probe.releases;
  const std::string dl = f.dir.path() + "/deadletter";
  std::ofstream(dl) << "not a directory\n";  // every dead-letter write fails
  SendOutcome rejected;
  rejected.delivery = Delivery::kRejected;
  rejected.http_status = 400;
  f.output.script = {rejected};
  int acks = 0;
  f.runner->push(f.chunk(lines(0, 5), 5, &acks));
  f.runner->flush();
  REQUIRE(runUntil(
      f.loop, [&] { return f.runner->stalled() && pressure.holding(); }, 5s));
  CHECK(holds == 1);
  CHECK(pressure.describe() == "output \"fake\": stalled");
  CHECK(acks == 0);
  const auto r = f.runner->readiness(std::chrono::steady_clock::now());
  CHECK_FALSE(r.ready);
  CHECK(contains(r.reason, "dead-letter"));
  // Shutdown does not wait for it: the records stay unacknowledged and are read again.
  CHECK(runUntil(
      f.loop, [&] { return f.runner->idle(); }, 5s));
  CHECK(f.budget.used() > 0);  // the kept block is still resident and charged

  std::filesystem::remove(dl);
  REQUIRE(runUntil(
      f.loop, [&] { return acks == 1 && !f.runner->stalled() && f.runner->idle(); }, 5s));
  CHECK_FALSE(pressure.holding());
  CHECK(holds == 1);  // held from the first failure to the store, not once per attempt
  CHECK(releases == 1);
  CHECK(f.runner->readiness(std::chrono::steady_clock::now()).ready);
  CHECK(f.om.deadletter_blocks->Value() == 1);
  CHECK(f.om.deadletterWriteErrors().Value() >= 1);
  CHECK(f.budget.used() == 0);
}

TEST_CASE(
    "output runner: a backlog above 4 x batch.max_bytes holds inputs, and they go on once it "
    "falls below half of that") {
  OutputPipelineSettings s;
  s.batch_max_bytes = 1024;
  s.concurrency = 1;
  Fixture f(s);
  PressureProbe probe(*f.runner);
  Backpressure& pressure = probe.pressure;
  const int& holds = probe.holds;
  const int& releases = probe.releases;
  f.output.respond_later = true;  // sends never finish: blocks queue up, then the batcher
  int acks = 0;
  int pushed = 0;
  // ~600 bytes a chunk, pushed without running the loop: the encode jobs started take every
  // slot and none completes, so raw chunks wait in the batcher until 4 KiB of them hold the
  // inputs.
  while (!pressure.holding() && pushed < 200) {
    f.runner->push(f.chunk(lines(pushed * 60, pushed * 60 + 60), 60, &acks));
    ++pushed;
  }
  REQUIRE(pressure.holding());
  CHECK(holds == 1);
  CHECK(f.runner->backlogBytes() >= 4 * 1024);
  CHECK(pressure.describe() == "output \"fake\": backlog");
  CHECK(pushed < 200);
  // Answer every send as it comes: the backlog is cut into blocks and delivered.
  REQUIRE(runUntil(
      f.loop,
      [&] {
        auto held = std::move(f.output.held);
        f.output.held.clear();
        for (auto& h : held) {
          h();
        }
        return acks == pushed;
      },
      10s));
  CHECK_FALSE(pressure.holding());
  CHECK(releases == 1);
  CHECK(f.runner->backlogBytes() == 0);
}
