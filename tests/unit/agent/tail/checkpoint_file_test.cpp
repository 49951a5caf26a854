// Unit tests of the tail checkpoint file: round trip, and every way a file can be unusable.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "agent/checkpoint/checkpoint_file.h"

namespace ingestd {
namespace {

CheckpointData sample() {
  CheckpointData d;
  d.saved_at_unix_ms = 1700000000123;
  d.entries.push_back(CheckpointEntry{64769, 123456, 256, 0xdeadbeefcafef00dULL, 1ULL << 40,
                                      "/var/log/nginx/access.log", 1700000000000});
  d.entries.push_back(CheckpointEntry{64769, 7, 0, 0, 0, "/var/log/empty.log", 1});
  // Paths are bytes: a non-UTF-8 path must not break encoding.
  d.entries.push_back(CheckpointEntry{1, 2, 10, 42, 99, std::string("/tmp/bad\xff name"), 5});
  return d;
}

std::string tempDir() {
  auto base = std::filesystem::temp_directory_path() /
              ("ingestd-ckpt-" + std::to_string(::getpid()) + "-" +
               std::to_string(reinterpret_cast<std::uintptr_t>(&sample) & 0xffff));
  std::filesystem::create_directories(base);
  return base.string();
}

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("checkpoint: encode/decode round trip") {
  CheckpointData d = sample();
  std::string text = encodeCheckpoint(d);
  CHECK(text.back() == '\n');
  auto back = decodeCheckpoint(text, "x.json");
  REQUIRE(back.isOk());
  CHECK(back->saved_at_unix_ms == d.saved_at_unix_ms);
  REQUIRE(back->entries.size() == 3);
  CHECK(back->entries[0] == d.entries[0]);
  CHECK(back->entries[1] == d.entries[1]);
  CHECK(back->entries[2].offset == 99);  // path was repaired for JSON; numbers are exact
  // Re-encoding the decoded data is stable (the checksum is over a canonical form).
  CHECK(decodeCheckpoint(encodeCheckpoint(back.value()), "x").isOk());
}

TEST_CASE("checkpoint: empty data round trips") {
  auto back = decodeCheckpoint(encodeCheckpoint(CheckpointData{}), "x");
  REQUIRE(back.isOk());
  CHECK(back->entries.empty());
}

TEST_CASE("checkpoint: truncated file is corrupt and names the file") {
  std::string text = encodeCheckpoint(sample());
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, text.size() / 2, text.size() - 3}) {
    auto r = decodeCheckpoint(std::string_view(text).substr(0, cut), "/state/tail-a.json");
    REQUIRE_FALSE(r.isOk());
    CHECK(r.error().code == ErrorCode::kDataLoss);
    CHECK(r.error().message.find("/state/tail-a.json") != std::string::npos);
  }
}

TEST_CASE("checkpoint: a changed digit fails the checksum") {
  std::string text = encodeCheckpoint(sample());
  auto pos = text.find("\"offset\":1099511627776");
  REQUIRE(pos != std::string::npos);
  text[pos + 10] = '2';
  auto r = decodeCheckpoint(text, "f");
  REQUIRE_FALSE(r.isOk());
  CHECK(r.error().message.find("checksum") != std::string::npos);
}

TEST_CASE("checkpoint: wrong version, wrong format, garbage, missing fields") {
  std::string text = encodeCheckpoint(sample());
  std::string v2 = text;
  v2.replace(v2.find("\"version\":1"), 11, "\"version\":2");
  auto r = decodeCheckpoint(v2, "f");
  REQUIRE_FALSE(r.isOk());
  CHECK(r.error().message.find("version 2") != std::string::npos);

  std::string other = text;
  other.replace(other.find("ingestd-tail-checkpoint"), 7, "another");
  CHECK_FALSE(decodeCheckpoint(other, "f").isOk());
  CHECK_FALSE(decodeCheckpoint("\x00\x01garbage", "f").isOk());
  CHECK_FALSE(decodeCheckpoint("[1,2,3]", "f").isOk());
  CHECK_FALSE(decodeCheckpoint(R"({"format":"ingestd-tail-checkpoint","version":1})", "f").isOk());
  // A body whose checksum field is missing or of the wrong type.
  CHECK_FALSE(decodeCheckpoint(
                  R"({"format":"ingestd-tail-checkpoint","version":1,"body":{"files":[]}})", "f")
                  .isOk());
  CHECK_FALSE(decodeCheckpoint(
                  R"({"format":"ingestd-tail-checkpoint","version":1,"crc32":"x","body":{}})", "f")
                  .isOk());
}

TEST_CASE("checkpoint: write is atomic and load reads it back") {
  std::string dir = tempDir();
  std::string path = dir + "/tail-x.json";
  REQUIRE(writeCheckpointFile(path, encodeCheckpoint(sample())).isOk());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  auto loaded = loadCheckpointFile(path);
  CHECK(loaded.state == LoadedCheckpoint::State::kLoaded);
  CHECK(loaded.data.entries.size() == 3);
  // Overwrite with new contents.
  CheckpointData d2;
  d2.saved_at_unix_ms = 5;
  REQUIRE(writeCheckpointFile(path, encodeCheckpoint(d2)).isOk());
  CHECK(loadCheckpointFile(path).data.entries.empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("checkpoint: missing file is a first run, corrupt file is kept as .corrupt") {
  std::string dir = tempDir();
  std::string path = dir + "/tail-y.json";
  CHECK(loadCheckpointFile(path).state == LoadedCheckpoint::State::kMissing);
  std::string text = encodeCheckpoint(sample());
  {
    std::ofstream out(path, std::ios::binary);
    out << text.substr(0, text.size() / 3);
  }
  auto loaded = loadCheckpointFile(path);
  CHECK(loaded.state == LoadedCheckpoint::State::kCorrupt);
  CHECK(loaded.error.find(path) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(readAll(path + ".corrupt") == text.substr(0, text.size() / 3));
  std::filesystem::remove_all(dir);
}

TEST_CASE("checkpoint: write into a missing directory fails naming the file") {
  Status st = writeCheckpointFile("/nonexistent-dir-ingestd/x.json", "{}");
  REQUIRE_FALSE(st.isOk());
  CHECK(st.error().code == ErrorCode::kIo);
  CHECK(st.message().find("/nonexistent-dir-ingestd/x.json") != std::string::npos);
}

}  // namespace ingestd
