// Unit tests of the spool directory on a real temp directory: acks survive a reopen, rotation
// and deletion, torn tails, quarantine of damage and strangers, a full spool, injected write
// errors, and directories that cannot be used.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "agent/buffer/spool_dir.h"
#include "agent/buffer/spool_segment.h"

namespace ingestd {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    root_ = fs::temp_directory_path() /
            fmt::format("ingestd-spool-dir-test-{}-{}", ::getpid(), counter++);
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& root() const { return root_; }
  std::string spool() const { return (root_ / "spool").string(); }

 private:
  fs::path root_;
};

// The error message of a failed result (doctest may evaluate a message on success too).
template <class T>
std::string errorOf(const Result<T>& r) {
  return r.isOk() ? std::string() : r.error().message;
}

SpoolBlock makeBlock(int i, std::size_t body_bytes = 300) {
  SpoolBlock b;
  b.block_id = fmt::format("block-{:03}", i);
  b.output = "kusto/test";
  b.destination = "db/logs";
  b.records = 10 + static_cast<std::uint64_t>(i);
  b.raw_bytes = 5000 + static_cast<std::uint64_t>(i);
  b.created_unix_ms = 1700000000000 + i;
  b.input_positions = fmt::format("tail:/var/log/a.log:{:08}", i * 100);
  std::mt19937 rng(static_cast<std::uint32_t>(i));
  b.body.resize(body_bytes);
  for (auto& c : b.body) {
    c = static_cast<char>(rng() & 0xff);
  }
  return b;
}

std::vector<SpoolBlock> makeBlocks(int n, std::size_t body_bytes = 300) {
  std::vector<SpoolBlock> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(makeBlock(i, body_bytes));
  }
  return out;
}

// Every test block has the same record size (same string lengths).
std::uint64_t recordSize(std::size_t body_bytes = 300) {
  return SpoolDir::recordBytes(makeBlock(0, body_bytes));
}

SpoolOptions optionsFor(const std::string& path, std::uint64_t max_bytes = std::uint64_t{1} << 30,
                        std::uint64_t segment_bytes = std::uint64_t{1} << 20) {
  SpoolOptions o;
  o.path = path;
  o.max_bytes = max_bytes;
  o.segment_bytes = segment_bytes;
  return o;
}

std::unique_ptr<SpoolDir> openSpool(const SpoolOptions& o, SpoolRecovery& report) {
  auto r = SpoolDir::open(o, report);
  REQUIRE_MESSAGE(r.isOk(), errorOf(r));
  return std::move(r).value();
}

std::unique_ptr<SpoolDir> openClean(const SpoolOptions& o) {
  SpoolRecovery report;
  auto spool = openSpool(o, report);
  CHECK(report.corrupt_bytes == 0);
  CHECK(report.torn_bytes == 0);
  CHECK(report.files_quarantined == 0);
  return spool;
}

SpoolEntry appendOk(SpoolDir& spool, const SpoolBlock& b) {
  auto r = spool.append(b);
  REQUIRE_MESSAGE(r.isOk(), errorOf(r));
  return r.value();
}

void ackOk(SpoolDir& spool, const std::string& id) {
  Status st = spool.ack(id);
  REQUIRE_MESSAGE(st.isOk(), st.message());
}

std::vector<SpoolEntry> pendingList(const SpoolDir& spool) {
  std::vector<SpoolEntry> out;
  for (const auto& [seq, e] : spool.pending()) {
    out.push_back(e);
  }
  return out;
}

// pending() is exactly `expected`, in order, and read() returns each block unchanged.
void checkPending(const SpoolDir& spool, const std::vector<SpoolBlock>& expected) {
  std::vector<SpoolEntry> got = pendingList(spool);
  std::vector<std::string> got_ids;
  std::vector<std::string> want_ids;
  for (const auto& e : got) {
    got_ids.push_back(e.block_id);
  }
  for (const auto& b : expected) {
    want_ids.push_back(b.block_id);
  }
  REQUIRE(got_ids == want_ids);
  CHECK(spool.blockCount() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(got[i].block_id);
    auto r = spool.read(got[i]);
    REQUIRE_MESSAGE(r.isOk(), errorOf(r));
    CHECK(r.value() == expected[i]);
    CHECK(got[i].records == expected[i].records);
    CHECK(got[i].raw_bytes == expected[i].raw_bytes);
    CHECK(got[i].length == SpoolDir::recordBytes(expected[i]));
  }
}

std::vector<SpoolBlock> pick(const std::vector<SpoolBlock>& all, const std::vector<int>& which) {
  std::vector<SpoolBlock> out;
  for (int i : which) {
    out.push_back(all[static_cast<std::size_t>(i)]);
  }
  return out;
}

bool isSegmentName(const std::string& name) {
  return name.size() == 26 && name.starts_with("seg-") && name.ends_with(".spool");
}

std::vector<std::string> segmentFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && isSegmentName(e.path().filename().string())) {
      out.push_back(e.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::uint64_t segmentBytesOnDisk(const std::string& dir) {
  std::uint64_t total = 0;
  for (const auto& name : segmentFiles(dir)) {
    total += fs::file_size(fs::path(dir) / name);
  }
  return total;
}

std::vector<std::string> namesIn(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) {
    return out;
  }
  for (const auto& e : fs::directory_iterator(dir)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool anyMessageHas(const SpoolRecovery& r, const std::string& a, const std::string& b = "") {
  return std::any_of(r.messages.begin(), r.messages.end(), [&](const std::string& m) {
    return m.find(a) != std::string::npos && m.find(b) != std::string::npos;
  });
}

TEST_CASE("spool dir: acked blocks stay acknowledged after reopen, the rest come back in order") {
  TempDir tmp;
  const auto blocks = makeBlocks(5);
  const SpoolOptions o = optionsFor(tmp.spool());
  std::vector<SpoolEntry> written;
  {
    auto spool = openClean(o);
    CHECK(spool->blockCount() == 0);
    CHECK_FALSE(spool->oldestCreatedUnixMs().has_value());
    for (const auto& b : blocks) {
      written.push_back(appendOk(*spool, b));
    }
    CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
    ackOk(*spool, "block-002");  // the middle
    ackOk(*spool, "block-000");
    checkPending(*spool, pick(blocks, {1, 3, 4}));
    CHECK(spool->oldestCreatedUnixMs() == blocks[1].created_unix_ms);
    Status again = spool->ack("block-000");
    CHECK(again.error().code == ErrorCode::kNotFound);
    auto dup = spool->append(blocks[3]);
    REQUIRE_FALSE(dup.isOk());
    CHECK(dup.error().code == ErrorCode::kInvalidArgument);
    CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
  }
  SpoolRecovery report;
  auto spool = openSpool(o, report);
  CHECK(report.blocks_recovered == 3);
  CHECK(report.bytes_recovered == written[1].length + written[3].length + written[4].length);
  CHECK(report.corrupt_bytes == 0);
  CHECK(report.torn_bytes == 0);
  CHECK(report.files_quarantined == 0);
  CHECK(report.messages.empty());
  checkPending(*spool, pick(blocks, {1, 3, 4}));
  std::vector<SpoolEntry> now = pendingList(*spool);
  for (std::size_t i = 0; i < now.size(); ++i) {
    const SpoolEntry& before = written[std::vector<std::size_t>{1, 3, 4}[i]];
    CHECK(now[i].segment_id == before.segment_id);
    CHECK(now[i].offset == before.offset);
    CHECK(now[i].length == before.length);
    CHECK(now[i].created_unix_ms == before.created_unix_ms);
  }
  CHECK(spool->oldestCreatedUnixMs() == blocks[1].created_unix_ms);
  CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
}

TEST_CASE("spool dir: rotation spreads blocks over segments, a fully acked one is deleted") {
  TempDir tmp;
  const auto blocks = makeBlocks(10);
  // Three records per segment.
  const SpoolOptions o =
      optionsFor(tmp.spool(), std::uint64_t{1} << 30, kSegmentHeaderBytes + 3 * recordSize());
  auto spool = openClean(o);
  std::vector<SpoolEntry> e;
  for (const auto& b : blocks) {
    e.push_back(appendOk(*spool, b));
  }
  for (std::size_t i = 0; i < e.size(); ++i) {
    CHECK(e[i].segment_id == e[i / 3 * 3].segment_id);
    if (i % 3 == 0 && i > 0) {
      CHECK(e[i].segment_id > e[i - 1].segment_id);
    }
  }
  const std::vector<std::string> all = segmentFiles(tmp.spool());
  REQUIRE(all.size() == 4);
  CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));

  // The second segment, acked out of order: its file goes only with its last block.
  ackOk(*spool, "block-005");
  ackOk(*spool, "block-003");
  CHECK(segmentFiles(tmp.spool()) == all);
  ackOk(*spool, "block-004");
  CHECK(segmentFiles(tmp.spool()) == std::vector<std::string>{all[0], all[2], all[3]});
  CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));

  ackOk(*spool, "block-000");
  ackOk(*spool, "block-002");
  ackOk(*spool, "block-001");
  CHECK(segmentFiles(tmp.spool()) == std::vector<std::string>{all[2], all[3]});
  CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));

  // Part of the third segment: the file stays, the ack goes into the segment being written.
  ackOk(*spool, "block-007");
  CHECK(segmentFiles(tmp.spool()) == std::vector<std::string>{all[2], all[3]});
  CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
  checkPending(*spool, pick(blocks, {6, 8, 9}));

  spool.reset();
  spool = openClean(o);
  checkPending(*spool, pick(blocks, {6, 8, 9}));
  CHECK(segmentFiles(tmp.spool()) == std::vector<std::string>{all[2], all[3]});
  CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
}

TEST_CASE("spool dir: a segment already past segment_bytes after a restart is not grown") {
  TempDir tmp;
  const auto blocks = makeBlocks(5);
  {
    auto spool = openClean(optionsFor(tmp.spool()));
    for (int i = 0; i < 4; ++i) {
      appendOk(*spool, blocks[static_cast<std::size_t>(i)]);
    }
  }
  const std::vector<std::string> before = segmentFiles(tmp.spool());
  REQUIRE(before.size() == 1);
  const std::uint64_t size = fs::file_size(fs::path(tmp.spool()) / before[0]);
  // Now two records per segment: the old one holds four.
  auto spool = openClean(
      optionsFor(tmp.spool(), std::uint64_t{1} << 30, kSegmentHeaderBytes + 2 * recordSize()));
  SpoolEntry e = appendOk(*spool, blocks[4]);
  CHECK(segmentFiles(tmp.spool()).size() == 2);
  CHECK(fs::file_size(fs::path(tmp.spool()) / before[0]) == size);
  CHECK(e.offset == kSegmentHeaderBytes);
  checkPending(*spool, blocks);
}

TEST_CASE("spool dir: acks held by a deleted segment are carried forward") {
  TempDir tmp;
  const auto blocks = makeBlocks(10);
  const SpoolOptions o =
      optionsFor(tmp.spool(), std::uint64_t{1} << 30, kSegmentHeaderBytes + 3 * recordSize());
  {
    auto spool = openClean(o);
    for (int i = 0; i < 7; ++i) {
      appendOk(*spool, blocks[static_cast<std::size_t>(i)]);
    }
    // Written into the third segment (blocks 6..8), which is deleted below while the first
    // segment, holding block 1, stays.
    ackOk(*spool, "block-001");
    appendOk(*spool, blocks[7]);
    appendOk(*spool, blocks[8]);
    appendOk(*spool, blocks[9]);  // a fourth segment
    ackOk(*spool, "block-006");
    ackOk(*spool, "block-007");
    ackOk(*spool, "block-008");
    CHECK(segmentFiles(tmp.spool()).size() == 3);
    CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
  }
  auto spool = openClean(o);
  checkPending(*spool, pick(blocks, {0, 2, 3, 4, 5, 9}));
}

TEST_CASE("spool dir: a torn last record is cut off and appending goes on") {
  const auto blocks = makeBlocks(3);
  const SpoolBlock later = makeBlock(9);
  // The pristine segment and where its last record starts.
  std::string pristine;
  std::string name;
  SpoolEntry last;
  {
    TempDir tmp;
    auto spool = openClean(optionsFor(tmp.spool()));
    for (const auto& b : blocks) {
      last = appendOk(*spool, b);
    }
    REQUIRE(segmentFiles(tmp.spool()).size() == 1);
    name = segmentFiles(tmp.spool())[0];
    pristine = slurp(fs::path(tmp.spool()) / name);
    REQUIRE(pristine.size() == last.offset + last.length);
  }
  const std::uint64_t off = last.offset;
  // Inside the record magic, inside the record header, at the payload start, inside it.
  for (std::uint64_t cut : {off + 1, off + 3, off + 4, off + 12, off + 19, off + 20, off + 21,
                            off + last.length / 2, off + last.length - 1}) {
    CAPTURE(cut - off);
    TempDir tmp;
    fs::create_directories(tmp.spool());
    const fs::path file = fs::path(tmp.spool()) / name;
    spit(file, std::string_view(pristine).substr(0, cut));
    const SpoolOptions o = optionsFor(tmp.spool());
    {
      SpoolRecovery report;
      auto spool = openSpool(o, report);
      CHECK(report.torn_bytes == cut - off);
      CHECK(report.corrupt_bytes == 0);
      CHECK(report.files_quarantined == 0);
      CHECK(report.blocks_recovered == 2);
      CHECK(anyMessageHas(report, file.string(), fmt::format("offset {}", off)));
      CHECK(fs::file_size(file) == off);
      CHECK(slurp(file) == pristine.substr(0, off));
      checkPending(*spool, pick(blocks, {0, 1}));
      appendOk(*spool, later);
      CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
    }
    auto spool = openClean(o);
    checkPending(*spool, {blocks[0], blocks[1], later});
    CHECK(namesIn(fs::path(tmp.spool()) / "corrupt").empty());
  }
}

TEST_CASE("spool dir: zeros after the last record are cut like a torn write") {
  TempDir tmp;
  const auto blocks = makeBlocks(2);
  const SpoolOptions o = optionsFor(tmp.spool());
  {
    auto spool = openClean(o);
    appendOk(*spool, blocks[0]);
    appendOk(*spool, blocks[1]);
  }
  const fs::path file = fs::path(tmp.spool()) / segmentFiles(tmp.spool())[0];
  const std::string before = slurp(file);
  spit(file, before + std::string(4096, '\0'));
  SpoolRecovery report;
  auto spool = openSpool(o, report);
  CHECK(report.torn_bytes == 4096);
  CHECK(report.corrupt_bytes == 0);
  CHECK(report.files_quarantined == 0);
  CHECK(slurp(file) == before);
  checkPending(*spool, blocks);
}

TEST_CASE("spool dir: damage in a middle segment is quarantined, every other block survives") {
  TempDir tmp;
  const auto blocks = makeBlocks(9);
  const SpoolOptions o =
      optionsFor(tmp.spool(), std::uint64_t{1} << 30, kSegmentHeaderBytes + 3 * recordSize());
  std::vector<SpoolEntry> e;
  {
    auto spool = openClean(o);
    for (const auto& b : blocks) {
      e.push_back(appendOk(*spool, b));
    }
    ackOk(*spool, "block-000");
  }
  const std::vector<std::string> segs = segmentFiles(tmp.spool());
  REQUIRE(segs.size() == 3);
  const fs::path mid = fs::path(tmp.spool()) / segs[1];
  REQUIRE(e[4].segment_id == e[3].segment_id);
  std::string bytes = slurp(mid);
  // Three bytes of block 4's body.
  for (std::uint64_t at = e[4].offset + e[4].length - 40; at < e[4].offset + e[4].length - 37;
       ++at) {
    bytes[at] = static_cast<char>(bytes[at] ^ 0x5a);
  }
  spit(mid, bytes);
  // Strangers: a text file, an empty segment name, a directory with a file in it.
  spit(fs::path(tmp.spool()) / "notes.txt", "hello\n");
  spit(fs::path(tmp.spool()) / "seg-0000000000000100.spool", "");
  fs::create_directories(fs::path(tmp.spool()) / "stray");
  spit(fs::path(tmp.spool()) / "stray" / "x", "12345678");

  {
    SpoolRecovery report;
    auto spool = openSpool(o, report);
    checkPending(*spool, pick(blocks, {1, 2, 3, 5, 6, 7, 8}));
    CHECK(report.blocks_recovered == 7);
    CHECK(report.corrupt_bytes == e[4].length + 6 + 0 + 8);
    CHECK(report.torn_bytes == 0);
    CHECK(report.files_quarantined == 4);
    CHECK(anyMessageHas(report, mid.string(), fmt::format("offset {}", e[4].offset)));
    CHECK(anyMessageHas(report, "notes.txt"));
    std::vector<std::string> quarantined{"notes.txt", "seg-0000000000000100.spool", segs[1],
                                         "stray"};
    std::sort(quarantined.begin(), quarantined.end());
    CHECK(namesIn(fs::path(tmp.spool()) / "corrupt") == quarantined);
    CHECK(slurp(fs::path(tmp.spool()) / "corrupt" / segs[1]) == bytes);
    // The damaged segment was rewritten under its own name with the blocks that are left.
    CHECK(segmentFiles(tmp.spool()) == segs);
    SegmentScan again = scanSegment(slurp(mid));
    CHECK(again.damaged.empty());
    REQUIRE(again.blocks.size() == 2);
    CHECK(again.blocks[0].block == blocks[3]);
    CHECK(again.blocks[1].block == blocks[5]);
    CHECK(namesIn(tmp.spool()) == std::vector<std::string>{"corrupt", segs[0], segs[1], segs[2]});
    CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
    appendOk(*spool, makeBlock(20));
  }
  auto spool = openClean(o);
  auto want = pick(blocks, {1, 2, 3, 5, 6, 7, 8});
  want.push_back(makeBlock(20));
  checkPending(*spool, want);
}

TEST_CASE("spool dir: a segment with a damaged header keeps its blocks") {
  TempDir tmp;
  const auto blocks = makeBlocks(3);
  const SpoolOptions o = optionsFor(tmp.spool());
  {
    auto spool = openClean(o);
    for (const auto& b : blocks) {
      appendOk(*spool, b);
    }
  }
  const fs::path file = fs::path(tmp.spool()) / segmentFiles(tmp.spool())[0];
  std::string bytes = slurp(file);
  bytes[13] = static_cast<char>(bytes[13] ^ 1);  // inside segment_id: the header CRC fails
  spit(file, bytes);
  SpoolRecovery report;
  auto spool = openSpool(o, report);
  CHECK(report.corrupt_bytes == kSegmentHeaderBytes);
  CHECK(report.files_quarantined == 1);
  CHECK(anyMessageHas(report, file.string(), "offset 0"));
  checkPending(*spool, blocks);
  CHECK(scanSegment(slurp(file)).header.has_value());
}

TEST_CASE("spool dir: leftover rewrites are removed, or finished when the segment is gone") {
  TempDir tmp;
  const auto blocks = makeBlocks(2);
  const SpoolOptions o = optionsFor(tmp.spool());
  {
    auto spool = openClean(o);
    appendOk(*spool, blocks[0]);
    appendOk(*spool, blocks[1]);
  }
  const fs::path file = fs::path(tmp.spool()) / segmentFiles(tmp.spool())[0];
  const fs::path rewrite = file.string() + ".tmp";
  const std::string bytes = slurp(file);

  // The segment is still there: the rewrite did not finish and goes.
  spit(rewrite, bytes.substr(0, bytes.size() / 2));
  {
    auto spool = openClean(o);
    checkPending(*spool, blocks);
    CHECK_FALSE(fs::exists(rewrite));
  }
  // Only the rewrite is there: it becomes the segment.
  fs::rename(file, rewrite);
  {
    auto spool = openClean(o);
    checkPending(*spool, blocks);
    CHECK_FALSE(fs::exists(rewrite));
    CHECK(slurp(file) == bytes);
  }
}

TEST_CASE("spool dir: a full spool refuses a block whole and takes it once acks free space") {
  TempDir tmp;
  const auto blocks = makeBlocks(8);
  const std::uint64_t seg = kSegmentHeaderBytes + 2 * recordSize();
  const SpoolOptions o = optionsFor(tmp.spool(), 3 * seg, seg);
  {
    auto spool = openClean(o);
    for (int i = 0; i < 6; ++i) {
      CHECK_FALSE(spool->full(SpoolDir::recordBytes(blocks[static_cast<std::size_t>(i)])));
      appendOk(*spool, blocks[static_cast<std::size_t>(i)]);
    }
    CHECK(spool->bytesOnDisk() == 3 * seg);
    CHECK(spool->full(SpoolDir::recordBytes(blocks[6])));
    auto r = spool->append(blocks[6]);
    REQUIRE_FALSE(r.isOk());
    CHECK(r.error().code == ErrorCode::kUnavailable);
    CHECK(r.error().message.find("full") != std::string::npos);
    CHECK(spool->bytesOnDisk() == 3 * seg);
    CHECK(segmentBytesOnDisk(tmp.spool()) == 3 * seg);
    CHECK(spool->blockCount() == 6);
  }
  auto spool = openClean(o);
  checkPending(*spool, pick(blocks, {0, 1, 2, 3, 4, 5}));
  ackOk(*spool, "block-000");
  CHECK(spool->full(SpoolDir::recordBytes(blocks[6])));  // half a segment is not space yet
  ackOk(*spool, "block-001");
  CHECK_FALSE(spool->full(SpoolDir::recordBytes(blocks[6])));
  appendOk(*spool, blocks[6]);
  CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
  CHECK(spool->bytesOnDisk() <= o.max_bytes);
  spool.reset();
  spool = openClean(o);
  checkPending(*spool, pick(blocks, {2, 3, 4, 5, 6}));
}

TEST_CASE("spool dir: a failed write on any call leaves exactly the earlier blocks") {
  const auto blocks = makeBlocks(6);
  const std::uint64_t seg = kSegmentHeaderBytes + 2 * recordSize();
  const int errs[] = {ENOSPC, EDQUOT, EIO};
  // Six appends over three segments take nine writes (three headers, six records).
  for (int fail_at = 1; fail_at <= 9; ++fail_at) {
    CAPTURE(fail_at);
    TempDir tmp;
    int calls = 0;
    const int err = errs[fail_at % 3];
    SpoolOptions o = optionsFor(tmp.spool(), std::uint64_t{1} << 30, seg);
    o.write_fn = [&](int fd, const void* buf, std::size_t n) -> ssize_t {
      if (++calls == fail_at) {
        errno = err;
        return -1;
      }
      return ::write(fd, buf, n);
    };
    std::vector<SpoolBlock> durable;
    int failures = 0;
    {
      auto spool = openClean(o);
      for (const auto& b : blocks) {
        const std::uint64_t before = segmentBytesOnDisk(tmp.spool());
        auto r = spool->append(b);
        if (r.isOk()) {
          durable.push_back(b);
        } else {
          ++failures;
          CHECK(r.error().code == ErrorCode::kUnavailable);
          CHECK(r.error().message.find(tmp.spool()) != std::string::npos);
          CHECK(r.error().message.find(std::strerror(err)) != std::string::npos);
          CHECK(segmentBytesOnDisk(tmp.spool()) <= before + kSegmentHeaderBytes);
        }
        CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
      }
      CHECK(failures == 1);
      checkPending(*spool, durable);
      // The fault is gone: the next block goes in.
      appendOk(*spool, makeBlock(30));
      durable.push_back(makeBlock(30));
    }
    o.write_fn = nullptr;
    auto spool = openClean(o);
    checkPending(*spool, durable);
  }
}

TEST_CASE(
    "spool dir: a short write then ENOSPC cuts the segment back, a short write alone goes on") {
  const auto blocks = makeBlocks(4);
  for (bool then_fail : {true, false}) {
    CAPTURE(then_fail);
    TempDir tmp;
    int calls = 0;
    SpoolOptions o = optionsFor(tmp.spool());
    // Call 1 is the header, 2 and 3 the first two records; call 4 writes half of the third.
    o.write_fn = [&](int fd, const void* buf, std::size_t n) -> ssize_t {
      ++calls;
      if (calls == 4) {
        return ::write(fd, buf, n / 2);
      }
      if (calls == 5 && then_fail) {
        errno = ENOSPC;
        return -1;
      }
      return ::write(fd, buf, n);
    };
    std::vector<SpoolBlock> durable;
    {
      auto spool = openClean(o);
      appendOk(*spool, blocks[0]);
      appendOk(*spool, blocks[1]);
      durable = {blocks[0], blocks[1]};
      const fs::path file = fs::path(tmp.spool()) / segmentFiles(tmp.spool())[0];
      const std::uint64_t before = fs::file_size(file);
      auto r = spool->append(blocks[2]);
      if (then_fail) {
        REQUIRE_FALSE(r.isOk());
        CHECK(r.error().code == ErrorCode::kUnavailable);
        CHECK(r.error().message.find("No space left on device") != std::string::npos);
        CHECK(fs::file_size(file) == before);
      } else {
        REQUIRE_MESSAGE(r.isOk(), errorOf(r));
        durable.push_back(blocks[2]);
      }
      CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
      appendOk(*spool, blocks[3]);
      durable.push_back(blocks[3]);
      checkPending(*spool, durable);
    }
    o.write_fn = nullptr;
    auto spool = openClean(o);
    checkPending(*spool, durable);
  }
}

TEST_CASE("spool dir: a block damaged after it was written reads back as data loss") {
  TempDir tmp;
  const auto blocks = makeBlocks(2);
  auto spool = openClean(optionsFor(tmp.spool()));
  SpoolEntry first = appendOk(*spool, blocks[0]);
  SpoolEntry second = appendOk(*spool, blocks[1]);
  const fs::path file = spool->segmentPath(second.segment_id);
  std::string bytes = slurp(file);
  bytes[second.offset + second.length - 1] ^= 0x01;
  spit(file, bytes);
  auto r = spool->read(second);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.error().code == ErrorCode::kDataLoss);
  CHECK(r.error().message.find(file.string()) != std::string::npos);
  CHECK(r.error().message.find(fmt::format("offset {}", second.offset)) != std::string::npos);
  auto ok = spool->read(first);
  REQUIRE(ok.isOk());
  CHECK(ok.value() == blocks[0]);
}

TEST_CASE("spool dir: the segment being written goes when all is acked past the threshold") {
  TempDir tmp;
  // segment_bytes 8 KiB: the threshold is 4 KiB; blocks of about 1 KiB.
  const auto blocks = makeBlocks(5, 1000);
  auto spool = openClean(optionsFor(tmp.spool(), std::uint64_t{1} << 30, 8192));
  appendOk(*spool, blocks[0]);
  ackOk(*spool, "block-000");
  // Small: kept for the next blocks, with the ack in it.
  CHECK(segmentFiles(tmp.spool()).size() == 1);
  for (int i = 1; i < 5; ++i) {
    appendOk(*spool, blocks[static_cast<std::size_t>(i)]);
  }
  REQUIRE(segmentFiles(tmp.spool()).size() == 1);
  for (int i = 1; i < 5; ++i) {
    ackOk(*spool, fmt::format("block-{:03}", i));
  }
  CHECK(segmentFiles(tmp.spool()).empty());
  CHECK(spool->bytesOnDisk() == 0);
  CHECK(spool->blockCount() == 0);
  appendOk(*spool, makeBlock(7, 1000));
  CHECK(segmentFiles(tmp.spool()).size() == 1);
  CHECK(spool->bytesOnDisk() == segmentBytesOnDisk(tmp.spool()));
}

TEST_CASE("spool dir: a path that cannot be a directory is an error naming it") {
  TempDir tmp;
  spit(tmp.root() / "file", "x");
  SpoolRecovery report;
  const std::string under = (tmp.root() / "file" / "spool").string();
  auto r = SpoolDir::open(optionsFor(under), report);
  REQUIRE_FALSE(r.isOk());
  CHECK((r.error().code == ErrorCode::kIo || r.error().code == ErrorCode::kPermissionDenied));
  CHECK(r.error().message.find(under) != std::string::npos);

  const std::string itself = (tmp.root() / "file").string();
  auto r2 = SpoolDir::open(optionsFor(itself), report);
  REQUIRE_FALSE(r2.isOk());
  CHECK(r2.error().message.find(itself) != std::string::npos);
  CHECK(slurp(tmp.root() / "file") == "x");
}

}  // namespace
}  // namespace ingestd
