// Integration tests: EncodeStage on a real loop and worker pool — a batch becomes gzip blocks
// named after it, completions arrive on the loop thread, the job's estimate is charged while it
// runs, raw records are freed by the last output to encode them, and at most kMaxJobs run.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/compress/gzip_codec.h"
#include "agent/pipeline/encode_stage.h"
#include "tests/support/loop_wait.h"

using namespace std::chrono_literals;
using namespace ingestd;

namespace {

struct Fixture {
  Loop loop;
  Metrics metrics;
  OutputMetrics om = metrics.forOutput("fake", "T");
  MemoryBudget budget{64ull << 20};
  std::unique_ptr<WorkerPool> workers = std::make_unique<WorkerPool>(loop, 2);
  std::unique_ptr<EncodeStage> stage;

  explicit Fixture(std::uint64_t max_block_bytes = 4ull << 20) {
    Loop::markLoopThread();
    stage = std::make_unique<EncodeStage>(options(max_block_bytes), *workers, budget, om);
  }
  ~Fixture() {
    stage.reset();
    workers.reset();
    CHECK(loop.shutdown() == 0);
  }

  static EncodeStageOptions options(std::uint64_t max_block_bytes) {
    EncodeStageOptions o;
    o.format = "multijson";
    o.hostname = "host1";
    o.max_block_bytes = max_block_bytes;
    return o;
  }

  // A routed chunk shared by `outputs` outputs, its records charged to the budget.
  std::shared_ptr<ChunkTicket> ticket(std::string data, std::uint64_t records,
                                      std::uint32_t outputs = 1,
                                      RecordFormat format = RecordFormat::kLines) {
    auto src = std::make_shared<SourceInfo>();
    src->input = "in";
    src->tag = "t";
    src->source = "/var/log/x";
    src->format = format;
    RecordChunk c;
    c.source = src;
    c.data = std::move(data);
    c.records = records;
    auto t = std::make_shared<ChunkTicket>();
    t->charged_bytes = c.data.size();
    t->outputs_left = outputs;
    t->encodes_left = outputs;
    t->chunk = std::make_shared<RecordChunk>(std::move(c));
    budget.acquire(t->charged_bytes);
    return t;
  }

  static Batch batch(std::string id, std::vector<std::shared_ptr<ChunkTicket>> tickets) {
    Batch b;
    b.id = std::move(id);
    for (const auto& t : tickets) {
      b.estimate += estimateEncodedBytes("multijson", "host1", *t->chunk);
      b.records += t->chunk->records;
    }
    b.tickets = std::move(tickets);
    return b;
  }

  // Encodes on `on` (the fixture's stage by default) and runs the loop until done.
  EncodedBatch encode(Batch&& b, EncodeStage* on = nullptr) {
    std::optional<EncodedBatch> out;
    (on != nullptr ? *on : *stage).encode(std::move(b), [&](EncodedBatch e) {
      CHECK(std::this_thread::get_id() == loop_thread);
      out = std::move(e);
    });
    REQUIRE(test::runLoopUntil(
        loop, [&] { return out.has_value(); }, 5s));
    return std::move(*out);
  }

  std::thread::id loop_thread = std::this_thread::get_id();
};

std::string lines(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) {
    s += "line " + std::to_string(i) + "\n";
  }
  return s;
}

std::vector<nlohmann::json> decode(const std::string& gz) {
  std::string plain;
  REQUIRE(gunzip(gz, plain, 64u << 20).isOk());
  std::vector<nlohmann::json> out;
  std::size_t pos = 0;
  while (pos < plain.size()) {
    auto nl = plain.find('\n', pos);
    out.push_back(nlohmann::json::parse(plain.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("encode stage: a batch becomes one gzip block that carries the batch's id") {
  Fixture f;
  auto encoded = f.encode(Fixture::batch("0123456789abcdef-00000007",
                                         {f.ticket(lines(0, 4), 4), f.ticket(lines(4, 10), 6)}));
  CHECK(encoded.id == "0123456789abcdef-00000007");
  REQUIRE(encoded.blocks.size() == 1);
  CHECK(encoded.blocks[0].id == "0123456789abcdef-00000007");
  CHECK(encoded.blocks[0].records == 10);
  CHECK(encoded.rejected.empty());
  auto rows = decode(encoded.blocks[0].body);
  REQUIRE(rows.size() == 10);
  CHECK(encoded.blocks[0].raw_bytes > 10 * 85);
  for (int i = 0; i < 10; ++i) {
    CHECK(rows[static_cast<std::size_t>(i)]["message"] == "line " + std::to_string(i));
    CHECK(rows[static_cast<std::size_t>(i)]["host"] == "host1");
  }
  CHECK(f.stage->idle());
}

TEST_CASE(
    "encode stage: the estimate is charged while a job runs, and raw records are freed by "
    "the last output to encode them") {
  Fixture f;
  auto t = f.ticket(lines(0, 100), 100, 2);  // routed to two outputs
  const std::uint64_t raw = t->charged_bytes;
  Batch b = Fixture::batch("a", {t});
  const std::uint64_t estimate = b.estimate;
  REQUIRE(f.budget.used() == raw);

  std::optional<EncodedBatch> first;
  f.stage->encode(std::move(b), [&](EncodedBatch e) { first = std::move(e); });
  // The completion runs on the loop only, so until the loop runs the charge is held.
  CHECK(f.budget.used() == raw + estimate);
  CHECK(f.stage->running() == 1);
  REQUIRE(test::runLoopUntil(
      f.loop, [&] { return first.has_value(); }, 5s));
  CHECK(f.budget.used() == raw);  // the other output has not encoded the records yet
  CHECK(t->chunk != nullptr);
  CHECK(t->encodes_left == 1);

  EncodeStage other(Fixture::options(4ull << 20), *f.workers, f.budget, f.om);
  auto second = f.encode(Fixture::batch("b", {t}), &other);
  CHECK(second.blocks.size() == 1);
  CHECK(t->chunk == nullptr);  // both outputs have their encoded copy
  CHECK(t->encodes_left == 0);
  CHECK(f.budget.used() == 0);
  CHECK(t->outputs_left == 2);  // acknowledging is not the encoder's business
}

TEST_CASE("encode stage: at most two jobs of one output run at once") {
  Fixture f;
  int done = 0;
  CHECK(f.stage->hasRoom());
  f.stage->encode(Fixture::batch("a", {f.ticket(lines(0, 10), 10)}),
                  [&](const EncodedBatch&) { ++done; });
  CHECK(f.stage->hasRoom());
  f.stage->encode(Fixture::batch("b", {f.ticket(lines(10, 20), 10)}),
                  [&](const EncodedBatch&) { ++done; });
  CHECK_FALSE(f.stage->hasRoom());
  CHECK(f.stage->running() == EncodeStage::kMaxJobs);
  REQUIRE(test::runLoopUntil(
      f.loop, [&] { return done == 2; }, 5s));
  CHECK(f.stage->hasRoom());
  CHECK(f.stage->idle());
  CHECK(f.budget.used() == 0);
}

TEST_CASE(
    "encode stage: a batch that outgrows one block is split into parts named after it, "
    "and records too large for any block come back as the last part") {
  Fixture f(4096);
  // Control characters grow sixfold in JSON (\u0001): far more than the batcher estimated.
  std::string data;
  for (int i = 0; i < 50; ++i) {
    data += std::string(60, '\x01') + "\n";
  }
  data += std::string(10000, 'x') + "\n";
  auto encoded = f.encode(Fixture::batch("b-9", {f.ticket(std::move(data), 51)}));
  REQUIRE(encoded.blocks.size() >= 2);
  std::uint64_t records = 0;
  for (std::size_t i = 0; i < encoded.blocks.size(); ++i) {
    CHECK(encoded.blocks[i].id == (i == 0 ? "b-9" : "b-9." + std::to_string(i + 1)));
    CHECK(encoded.blocks[i].raw_bytes <= 4096);
    records += encoded.blocks[i].records;
  }
  CHECK(records == 50);
  REQUIRE(encoded.rejected.size() == 1);
  CHECK(encoded.rejected[0].data == std::string(10000, 'x'));
  CHECK(encoded.rejected_id == "b-9." + std::to_string(encoded.blocks.size() + 1));
}

TEST_CASE("encode stage: a batch of only too-large records is rejected under the batch's id") {
  Fixture f(4096);
  auto encoded = f.encode(Fixture::batch("b-1", {f.ticket(std::string(10000, 'x') + "\n", 1)}));
  CHECK(encoded.blocks.empty());
  CHECK(encoded.rejected.size() == 1);
  CHECK(encoded.rejected_id == "b-1");
  CHECK(f.budget.used() == 0);
}

TEST_CASE("encode stage: invalid JSON records are counted once per chunk, by the first output") {
  Fixture f;
  auto t = f.ticket("{\"a\":1}\nnot json\n", 2, 2, RecordFormat::kJsonLines);
  auto& parse_errors = f.metrics.input_parse_errors->Add({{"input", "in"}});
  (void)f.encode(Fixture::batch("a", {t}));
  CHECK(parse_errors.Value() == 1);
  EncodeStage other(Fixture::options(4ull << 20), *f.workers, f.budget, f.om);
  (void)f.encode(Fixture::batch("b", {t}), &other);
  CHECK(parse_errors.Value() == 1);
}

TEST_CASE("encode stage: compress gzips an encoded body on the pool") {
  Fixture f;
  std::optional<std::string> gz;
  f.stage->compress("already encoded\n", [&](std::string out) {
    CHECK(std::this_thread::get_id() == f.loop_thread);
    gz = std::move(out);
  });
  CHECK(f.stage->running() == 1);
  REQUIRE(test::runLoopUntil(
      f.loop, [&] { return gz.has_value(); }, 5s));
  std::string plain;
  REQUIRE(gunzip(*gz, plain, 1 << 20).isOk());
  CHECK(plain == "already encoded\n");
  CHECK(f.stage->idle());
}

TEST_CASE("encode stage: a job that completes after its stage is gone does nothing") {
  Fixture f;
  bool called = false;
  auto t = f.ticket(lines(0, 10), 10);
  f.stage->encode(Fixture::batch("a", {t}), [&](const EncodedBatch&) { called = true; });
  f.stage.reset();
  test::runLoopFor(f.loop, 50ms);
  CHECK_FALSE(called);
  CHECK(t->encodes_left == 1);  // untouched: nothing of the gone stage ran
}
