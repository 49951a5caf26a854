// Integration tests: DeliveryStage on a real loop with a fake output and a real dead-letter
// directory — the send queue and concurrency, retries under one block id with backoff and
// Retry-After, permanent rejections, retry.max_elapsed, dead letters (written, refused when the
// directory is full, and kept and written again when a write fails), memory charges and abandon.
#include <doctest/doctest.h>

#include <dirent.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "agent/pipeline/delivery_stage.h"
#include "tests/support/captured_log.h"
#include "tests/support/loop_wait.h"
#include "tests/support/temp_dir.h"

using namespace std::chrono_literals;
using namespace ingestd;

namespace {

// Records every payload and when it came; answers with the scripted outcomes, then kDelivered.
class FakeOutput final : public Output {
 public:
  std::deque<SendOutcome> script;
  std::vector<Payload> seen;
  std::vector<std::chrono::steady_clock::time_point> times;
  std::size_t in_flight = 0;
  std::size_t max_in_flight = 0;
  bool respond_later = false;
  std::deque<std::function<void()>> held;

  void send(Payload payload, std::function<void(SendOutcome)> done) override {
    seen.push_back(payload);
    times.push_back(std::chrono::steady_clock::now());
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

  // Answers the oldest held send.
  void answerOne() {
    REQUIRE(!held.empty());
    auto fn = std::move(held.front());
    held.pop_front();
    fn();
  }
};

SendOutcome outcome(Delivery delivery, int status, std::string code = {}) {
  SendOutcome o;
  o.delivery = delivery;
  o.http_status = status;
  o.error_code = std::move(code);
  return o;
}

struct Fixture {
  test::TempDir dir;
  Loop loop;
  test::CapturedLog captured{LogLevel::kInfo};
  Metrics metrics;
  OutputMetrics om = metrics.forOutput("fake", "T");
  MemoryBudget budget{64ull << 20};
  DeadLetter deadletter;
  FakeOutput output;
  int send_done = 0;
  int stalled_changes = 0;
  std::unique_ptr<DeliveryStage> stage;

  explicit Fixture(OutputPipelineSettings s = {},
                   std::uint64_t deadletter_max = DeadLetter::kDefaultMaxSize)
      : deadletter(loop, dir.path() + "/deadletter", deadletter_max) {
    Loop::markLoopThread();
    DeliveryStageOptions o;
    o.name = "fake";
    o.destination = "db.T";
    o.format = "multijson";
    o.settings = std::move(s);
    stage = std::make_unique<DeliveryStage>(o, output, loop, budget, deadletter, om, captured.log,
                                            std::mt19937_64(1));
    stage->setOnSendDone([this] { ++send_done; });
    stage->setOnStalledChange([this] { ++stalled_changes; });
  }
  ~Fixture() {
    stage.reset();
    CHECK(loop.shutdown() == 0);
  }

  std::string dlDir() const { return dir.path() + "/deadletter"; }

  // A block whose body stands for gzip bytes (DeliveryStage never looks inside); done records
  // how it ended, and how many times done ran.
  DeliveryBlock block(const std::string& id, std::uint64_t records, std::vector<int>* ended,
                      bool buffered = true) {
    DeliveryBlock b;
    b.id = id;
    b.body = std::make_shared<const std::string>("body of " + id);
    b.raw_bytes = 100 * records;
    b.records = records;
    b.buffered = buffered;
    b.done = [ended](bool delivered) { ended->push_back(delivered ? 1 : 0); };
    return b;
  }

  bool run(const std::function<bool()>& cond) { return test::runLoopUntil(loop, cond, 5s); }
};

std::vector<std::string> filesEndingIn(const std::string& dir, std::string_view suffix) {
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

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The only dead letter in `dir`: its JSON, and the file name of that JSON.
std::pair<std::string, nlohmann::json> onlyDeadLetter(const std::string& dir) {
  auto names = filesEndingIn(dir, ".json");
  REQUIRE(names.size() == 1);
  return {names[0], nlohmann::json::parse(readFile(dir + "/" + names[0]))};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("delivery stage: blocks are sent in order, at most concurrency at a time") {
  OutputPipelineSettings s;
  s.concurrency = 2;
  Fixture f(s);
  f.output.respond_later = true;
  std::vector<int> ended;
  for (const char* id : {"a", "b", "c", "d", "e"}) {
    f.stage->add(f.block(id, 10, &ended));
  }
  CHECK(f.stage->backedUp());  // 5 queued >= 2 x concurrency
  CHECK(f.budget.used() == 5 * std::string("body of a").size());
  CHECK(f.output.seen.empty());  // nothing is sent before pump()
  f.stage->pump();
  CHECK(f.output.seen.size() == 2);
  CHECK(f.stage->inFlight() == 2);
  CHECK(f.stage->queuedBlocks() == 3);
  CHECK_FALSE(f.stage->backedUp());
  while (!f.output.held.empty()) {
    f.output.answerOne();  // each answer lets the next block go
  }
  REQUIRE(f.output.seen.size() == 5);
  std::string order;
  for (const auto& p : f.output.seen) {
    order += p.block_id;
    CHECK(p.attempt == 0);
    CHECK(p.records == 10);
    CHECK(*p.body == "body of " + p.block_id);
  }
  CHECK(order == "abcde");
  CHECK(f.output.max_in_flight == 2);
  CHECK(ended == std::vector<int>{1, 1, 1, 1, 1});
  CHECK(f.send_done == 5);
  CHECK(f.stage->idle());
  CHECK(f.budget.used() == 0);
  CHECK(f.om.buffer_memory_bytes->Value() == 0);
  CHECK(f.om.records->Value() == 50);
  CHECK(f.om.bytes_raw->Value() == 5000);
  CHECK(f.om.blocks("delivered").Value() == 5);
  CHECK(f.om.last_success->Value() > 0);
}

TEST_CASE("delivery stage: a transient failure is retried under the same id, after Retry-After") {
  OutputPipelineSettings s;
  s.retry_initial = 1ms;
  s.retry_max = 100ms;  // Retry-After is honoured up to retry.max
  Fixture f(s);
  auto throttled = outcome(Delivery::kRetry, 429, "TooManyRequests");
  throttled.retry_after = 40ms;
  f.output.script = {throttled, outcome(Delivery::kRetry, 503, "ServiceUnavailable")};
  std::vector<int> ended;
  f.stage->add(f.block("blk-1", 3, &ended));
  // This first send runs outside any loop callback: bring the loop's cached clock, which the
  // retry timer starts from, up to date as it is within a callback.
  uv_update_time(f.loop.raw());
  f.stage->pump();
  REQUIRE(f.output.seen.size() == 1);
  CHECK(f.stage->failingSince().has_value());
  CHECK(f.stage->lastError() == "429 TooManyRequests");
  CHECK(f.stage->queuedBlocks() == 1);  // waiting to retry counts as queued
  CHECK(f.stage->inFlight() == 0);
  CHECK_FALSE(f.stage->idle());
  REQUIRE(f.run([&] { return !ended.empty(); }));
  REQUIRE(f.output.seen.size() == 3);
  for (std::uint32_t i = 0; i < 3; ++i) {
    CHECK(f.output.seen[i].block_id == "blk-1");
    CHECK(f.output.seen[i].attempt == i);
  }
  // Retry-After (40 ms) holds where backoff alone would wait at most 1 ms (less 1 ms: the
  // loop's clock, which timers run on, counts whole milliseconds).
  CHECK(f.output.times[1] - f.output.times[0] >= 39ms);
  CHECK(ended == std::vector<int>{1});
  CHECK_FALSE(f.stage->failingSince().has_value());
  CHECK(f.om.retries->Value() == 2);
  CHECK(f.om.blocks("delivered").Value() == 1);
  CHECK(f.budget.used() == 0);
  CHECK(contains(f.captured.text(),
                 "Output \"fake\" got 429 TooManyRequests (), retrying block blk-1 in"));
}

TEST_CASE("delivery stage: a rejected block goes to the dead-letter directory under its id") {
  Fixture f;
  auto rejected = outcome(Delivery::kRejected, 400, "BadRequest_MappingReferenceWasNotFound");
  rejected.message = "mapping 'm' not found";
  f.output.script = {rejected};
  std::vector<int> ended;
  f.stage->add(f.block("blk-7", 5, &ended));
  f.stage->pump();
  REQUIRE(f.run([&] { return !ended.empty(); }));
  CHECK(ended == std::vector<int>{0});
  CHECK(f.output.seen.size() == 1);  // never retried
  auto [name, json] = onlyDeadLetter(f.dlDir());
  CHECK(contains(name, "-fake-blk-7.json"));
  CHECK(json["block_id"] == "blk-7");
  CHECK(json["reason"] == "rejected");
  CHECK(json["http_status"] == 400);
  CHECK(json["error_code"] == "BadRequest_MappingReferenceWasNotFound");
  CHECK(json["attempts"] == 1);
  CHECK(json["records"] == 5);
  CHECK(json["destination"] == "db.T");
  CHECK(json["format"] == "multijson");
  CHECK(json["data_encoding"] == "gzip");
  CHECK(readFile(f.dlDir() + "/" + json["data_file"].get<std::string>()) == "body of blk-7");
  CHECK(f.om.blocks("rejected").Value() == 1);
  CHECK(f.om.dropped("rejected").Value() == 5);
  CHECK(f.om.deadletter_blocks->Value() == 1);
  CHECK(f.budget.used() == 0);
  CHECK(contains(f.captured.text(), "rejected block blk-7 (5 records) permanently: 400"));
}

TEST_CASE("delivery stage: retry.max_elapsed gives up into the dead-letter directory") {
  OutputPipelineSettings s;
  s.retry_initial = 5ms;
  s.retry_max = 10ms;
  s.retry_max_elapsed = 60ms;
  Fixture f(s);
  for (int i = 0; i < 1000; ++i) {
    f.output.script.push_back(outcome(Delivery::kRetry, 500));
  }
  std::vector<int> ended;
  f.stage->add(f.block("blk-2", 4, &ended));
  f.stage->pump();
  REQUIRE(f.run([&] { return !ended.empty(); }));
  CHECK(ended == std::vector<int>{0});
  CHECK(f.output.seen.size() >= 2);
  auto [name, json] = onlyDeadLetter(f.dlDir());
  CHECK(json["block_id"] == "blk-2");
  CHECK(json["reason"] == "retries_exhausted");
  CHECK(json["attempts"] == f.output.seen.size());
  CHECK(f.om.blocks("expired").Value() == 1);
  CHECK(f.om.dropped("retries_exhausted").Value() == 4);
  CHECK(f.stage->idle());
}

TEST_CASE(
    "delivery stage: a dead letter that cannot be written is kept, stalls delivery, and is "
    "written once the directory works again") {
  OutputPipelineSettings s;
  s.retry_initial = 5ms;
  s.retry_max = 20ms;
  Fixture f(s);
  // <dir>/deadletter is a file: every write fails with "Not a directory".
  std::ofstream(f.dlDir()) << "not a directory\n";
  f.output.script = {outcome(Delivery::kRejected, 400, "BadRequest")};
  std::vector<int> ended;
  f.stage->add(f.block("blk-3", 2, &ended));
  f.stage->pump();
  REQUIRE(f.run([&] { return f.om.deadletterWriteErrors().Value() >= 2; }));
  CHECK(ended.empty());  // not done: the block is kept, its records are not acknowledged
  // Stalled from the first failure on, between attempts and during them: one change, no flapping
  // (inputs would read on each time it cleared).
  CHECK(f.stage->stalled());
  CHECK(f.stalled_changes == 1);
  CHECK(f.budget.used() == std::string("body of blk-3").size());  // still resident
  CHECK(contains(f.captured.text(), "Cannot write block blk-3 (2 records) to the dead-letter"));

  std::filesystem::remove(f.dlDir());
  REQUIRE(f.run([&] { return !ended.empty(); }));
  CHECK(ended == std::vector<int>{0});
  CHECK_FALSE(f.stage->stalled());
  CHECK(f.stalled_changes == 2);
  CHECK(f.stage->idle());
  CHECK(f.output.seen.size() == 1);  // written again, never sent again
  CHECK(onlyDeadLetter(f.dlDir()).second["block_id"] == "blk-3");
  CHECK(f.om.deadletter_blocks->Value() == 1);
  CHECK(f.budget.used() == 0);
  CHECK(contains(f.captured.text(), "Block blk-3 is now stored in the dead-letter directory."));
}

TEST_CASE("delivery stage: a full dead-letter directory drops the block and counts it") {
  Fixture f({}, 1024);  // smaller than any dead letter
  f.output.script = {outcome(Delivery::kRejected, 400, "BadRequest")};
  std::vector<int> ended;
  f.stage->add(f.block("blk-4", 6, &ended));
  f.stage->pump();
  REQUIRE(f.run([&] { return !ended.empty(); }));
  CHECK(ended == std::vector<int>{0});
  CHECK_FALSE(f.stage->stalled());
  CHECK(f.om.deadletterDiscarded().Value() == 1);
  CHECK(f.om.deadletter_blocks->Value() == 0);
  CHECK(filesEndingIn(f.dlDir(), ".json").empty());
  CHECK(contains(f.captured.text(), "Block blk-4 (6 records) is dropped, not stored"));
}

TEST_CASE("delivery stage: records too large for any block are dead-lettered as raw text") {
  Fixture f;
  std::vector<RejectedRecord> records = {{"first big record", "too large"},
                                         {"second big record", "too large"}};
  std::vector<int> ended;
  f.stage->deadLetterRecords("blk-5.2", std::move(records),
                             [&](bool stored) { ended.push_back(stored ? 1 : 0); });
  REQUIRE(f.run([&] { return !ended.empty(); }));
  CHECK(ended == std::vector<int>{1});
  CHECK(f.output.seen.empty());
  auto [name, json] = onlyDeadLetter(f.dlDir());
  CHECK(contains(name, "-fake-blk-5.2.json"));
  CHECK(json["block_id"] == "blk-5.2");
  CHECK(json["reason"] == "record_too_large");
  CHECK(json["records"] == 2);
  CHECK(json["format"] == "raw");
  CHECK(json["data_encoding"] == "identity");
  CHECK(readFile(f.dlDir() + "/" + json["data_file"].get<std::string>()) ==
        "first big record\nsecond big record\n");
  CHECK(f.om.dropped("record_too_large").Value() == 2);
  CHECK(f.om.deadletter_blocks->Value() == 1);
}

TEST_CASE("delivery stage: abandon sends nothing more and stops retries") {
  OutputPipelineSettings s;
  s.concurrency = 1;
  s.retry_initial = 1ms;
  s.retry_max = 2ms;
  Fixture f(s);
  f.output.respond_later = true;
  f.output.script = {outcome(Delivery::kRetry, 503)};
  std::vector<int> ended;
  f.stage->add(f.block("a", 1, &ended));
  f.stage->add(f.block("b", 1, &ended));
  f.stage->pump();
  REQUIRE(f.output.seen.size() == 1);
  f.stage->abandon();
  f.output.answerOne();  // "a" fails after the deadline: it is not sent again, nor is "b"
  test::runLoopFor(f.loop, 50ms);
  CHECK(f.output.seen.size() == 1);
  CHECK(ended.empty());
}

TEST_CASE("delivery stage: memory charges cover every block, the buffer gauge routed ones only") {
  Fixture f;
  f.output.respond_later = true;
  std::vector<int> ended;
  f.stage->add(f.block("routed", 1, &ended, true));
  f.stage->add(f.block("prepared", 1, &ended, false));
  const double routed = static_cast<double>(std::string("body of routed").size());
  CHECK(f.budget.used() ==
        std::string("body of routed").size() + std::string("body of prepared").size());
  CHECK(f.om.buffer_memory_bytes->Value() == routed);
  f.stage->pump();
  f.output.answerOne();
  f.output.answerOne();
  CHECK(ended == std::vector<int>{1, 1});
  CHECK(f.budget.used() == 0);
  CHECK(f.om.buffer_memory_bytes->Value() == 0);
}
