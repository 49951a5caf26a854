// Unit tests for the encoder: escaping, UTF-8 repair, JSON pass-through, CSV/TSV quoting, block
// splitting by bytes and records, oversize records and timestamps.
#include <doctest/doctest.h>

#include <chrono>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/pipeline/encoder.h"
#include "agent/pipeline/json_validate.h"
#include "agent/pipeline/utf8.h"
#include "agent/plugin/parser.h"

namespace ingestd {
namespace {

using json = nlohmann::json;

const std::string R = kUtf8Replacement;

// 2026-11-23T23:30:07.123Z
const Clock::Wall kTime{std::chrono::milliseconds(1795476607123)};

std::shared_ptr<const SourceInfo> makeSource(RecordFormat format = RecordFormat::kLines,
                                             std::string tag = "nginx.access",
                                             std::string source = "/var/log/nginx/access.log") {
  auto s = std::make_shared<SourceInfo>();
  s->input = "nginx";
  s->tag = std::move(tag);
  s->source = std::move(source);
  s->format = format;
  return s;
}

std::shared_ptr<const RecordChunk> makeChunk(std::string data,
                                             std::shared_ptr<const SourceInfo> source = nullptr,
                                             Clock::Wall time = kTime) {
  auto c = std::make_shared<RecordChunk>();
  c->source = source ? std::move(source) : makeSource();
  c->records = static_cast<std::uint64_t>(std::count(data.begin(), data.end(), '\n'));
  c->data = std::move(data);
  c->time = time;
  return c;
}

struct Encoded {
  std::vector<EncodedBlock> blocks;
  std::vector<RejectedRecord> rejected;
  EncodeStats stats;
  std::string all() const {
    std::string s;
    for (const auto& b : blocks) {
      s += b.data;
    }
    return s;
  }
};

Encoded encode(const EncoderOptions& options,
               std::vector<std::shared_ptr<const RecordChunk>> chunks) {
  Encoded e;
  encodeChunks(options, chunks, e.blocks, e.rejected, e.stats);
  for (const auto& b : e.blocks) {
    CHECK(b.records > 0);
    CHECK(b.data.size() <= options.max_block_bytes);
    CHECK(!b.data.empty());
    CHECK(b.data.back() == '\n');
  }
  return e;
}

EncoderOptions jsonOptions() {
  EncoderOptions o;
  o.hostname = "web-1";
  return o;
}

// Parses newline-delimited JSON objects; fails the test on anything invalid.
std::vector<json> parseLines(const std::string& text) {
  std::vector<json> rows;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    REQUIRE(nl != std::string::npos);
    std::string line = text.substr(pos, nl - pos);
    CHECK(isValidUtf8(line));
    CHECK(isValidJsonObject(line));
    json j = json::parse(line);  // throws (fails the test) when invalid
    REQUIRE(j.is_object());
    rows.push_back(std::move(j));
    pos = nl + 1;
  }
  return rows;
}

std::string messageOf(const std::string& line_in) {
  auto e = encode(jsonOptions(), {makeChunk(line_in + "\n")});
  auto rows = parseLines(e.all());
  REQUIRE(rows.size() == 1);
  return rows[0]["message"].get<std::string>();
}

}  // namespace

TEST_CASE("encoder: formatTimestamp") {
  CHECK(formatTimestamp(kTime) == "2026-11-23T23:30:07.123Z");
  CHECK(formatTimestamp(Clock::Wall{}) == "1970-01-01T00:00:00.000Z");
  CHECK(formatTimestamp(Clock::Wall{std::chrono::milliseconds(951782400000)}) ==
        "2000-02-29T00:00:00.000Z");
  CHECK(formatTimestamp(Clock::Wall{std::chrono::milliseconds(-1)}) == "1969-12-31T23:59:59.999Z");
  // Sub-millisecond precision is truncated, not rounded.
  CHECK(formatTimestamp(kTime + std::chrono::microseconds(999)) == "2026-11-23T23:30:07.123Z");
}

TEST_CASE("encoder: format names and fields") {
  CHECK(parseOutputFormat("multijson") == OutputFormat::kMultiJson);
  CHECK(parseOutputFormat("json") == OutputFormat::kJson);
  CHECK(parseOutputFormat("csv") == OutputFormat::kCsv);
  CHECK(parseOutputFormat("tsv") == OutputFormat::kTsv);
  CHECK(parseOutputFormat("txt") == OutputFormat::kTxt);
  CHECK_FALSE(parseOutputFormat("JSON").has_value());
  CHECK_FALSE(parseOutputFormat("avro").has_value());
  for (auto name : {"timestamp", "tag", "host", "source", "message"}) {
    CHECK(isKnownField(name));
  }
  CHECK_FALSE(isKnownField("level"));
  CHECK_FALSE(isKnownField(""));
  CHECK(defaultColumns() ==
        std::vector<std::string>{"timestamp", "tag", "host", "source", "message"});
}

TEST_CASE("encoder: multijson row layout") {
  auto e = encode(jsonOptions(), {makeChunk("GET / 200\nsecond line\r\n")});
  CHECK(e.all() ==
        "{\"timestamp\":\"2026-11-23T23:30:07.123Z\",\"tag\":\"nginx.access\",\"host\":\"web-1\","
        "\"source\":\"/var/log/nginx/access.log\",\"message\":\"GET / 200\"}\n"
        "{\"timestamp\":\"2026-11-23T23:30:07.123Z\",\"tag\":\"nginx.access\",\"host\":\"web-1\","
        "\"source\":\"/var/log/nginx/access.log\",\"message\":\"second line\"}\n");
  REQUIRE(e.blocks.size() == 1);
  CHECK(e.blocks[0].records == 2);
  CHECK(e.blocks[0].input_bytes == 23);
  CHECK(e.stats.records == 2);
  CHECK(e.stats.invalid_utf8_repaired == 0);
  CHECK(e.rejected.empty());
}

TEST_CASE("encoder: CR stripping") {
  CHECK(messageOf("a\r") == "a");
  CHECK(messageOf("a\r\r") == "a\r");  // only one
  CHECK(messageOf("a\rb") == "a\rb");  // inside the line: kept, escaped
  CHECK(messageOf("") == "");
  CHECK(messageOf("\r") == "");
}

TEST_CASE("encoder: JSON escaping") {
  CHECK(messageOf("say \"hi\"") == "say \"hi\"");
  CHECK(messageOf("C:\\path\\to") == "C:\\path\\to");
  std::string controls;
  for (int c = 1; c < 0x20; ++c) {
    if (c != '\n') {
      controls += static_cast<char>(c);
    }
  }
  controls += '\x7f';
  CHECK(messageOf(controls) == controls);
  std::string with_nul("a\0b", 3);
  CHECK(messageOf(with_nul) == with_nul);

  bool repaired = false;
  std::string out;
  appendJsonEscaped(out, std::string("\"\\\b\f\n\r\t\x01\x1f\x7f/", 11), repaired);
  CHECK(out == "\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f/");
  CHECK_FALSE(repaired);

  // Specials at every offset of the 16-byte fast path, and long clean runs.
  for (std::size_t pos = 0; pos < 40; ++pos) {
    std::string s(40, 'x');
    s[pos] = '"';
    CHECK(messageOf(s) == s);
    s[pos] = '\t';
    CHECK(messageOf(s) == s);
  }
}

TEST_CASE("encoder: valid multi-byte UTF-8 passes, invalid is repaired and counted") {
  const std::string text = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC";
  CHECK(messageOf(text) == text);
  CHECK(messageOf(std::string(20, 'a') + text + std::string(20, 'b')) ==
        std::string(20, 'a') + text + std::string(20, 'b'));

  struct Case {
    std::string in;
    std::string out;
  };
  const Case cases[] = {
      {"bad \x80 byte", "bad " + R + " byte"},
      {"overlong \xC0\xAF", "overlong " + R + R},
      {"surrogate \xED\xA0\x80", "surrogate " + R + R + R},
      {"too big \xF4\x90\x80\x80", "too big " + R + R + R + R},
      {"truncated \xE2\x82", "truncated " + R},
      {"truncated \xF0\x9F\x98 then", "truncated " + R + " then"},
      {"lead \xF8\x88\x80\x80\x80", "lead " + R + R + R + R + R},
      {"\xFF" + std::string(30, 'q'), R + std::string(30, 'q')},
  };
  for (const auto& c : cases) {
    CAPTURE(c.in);
    CHECK(messageOf(c.in) == c.out);
  }

  auto e = encode(jsonOptions(), {makeChunk("ok\nbad \xFF\xFE twice\nok\n\xC3\n")});
  CHECK(e.stats.records == 4);
  CHECK(e.stats.invalid_utf8_repaired == 2);  // records, not bytes
  parseLines(e.all());
}

TEST_CASE("encoder: random bytes always give valid JSON holding the repaired line") {
  std::mt19937 rng(99);
  std::string data;
  std::vector<std::string> lines;
  for (int i = 0; i < 3000; ++i) {
    std::string line;
    const std::size_t len = rng() % 80;
    for (std::size_t j = 0; j < len; ++j) {
      // Mostly ASCII with a good share of specials and high bytes.
      unsigned char c = static_cast<unsigned char>(rng() % 4 == 0 ? rng() % 256 : 32 + rng() % 95);
      if (c == '\n') {
        c = ' ';
      }
      line += static_cast<char>(c);
    }
    data += line + "\n";
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    lines.push_back(line);
  }
  auto e = encode(jsonOptions(), {makeChunk(data)});
  auto rows = parseLines(e.all());
  REQUIRE(rows.size() == lines.size());
  std::uint64_t repaired_records = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    bool repaired = false;
    std::string expected;
    appendUtf8Repaired(expected, lines[i], repaired);
    repaired_records += repaired ? 1 : 0;
    CHECK(rows[i]["message"] == expected);
  }
  CHECK(e.stats.invalid_utf8_repaired == repaired_records);
  CHECK(repaired_records > 0);
}

TEST_CASE("encoder: tag, source and host are escaped") {
  EncoderOptions o = jsonOptions();
  o.hostname = "h\"ost";
  auto e = encode(o, {makeChunk("x\n", makeSource(RecordFormat::kLines, "t\\ag", "/p\"ath\n"))});
  auto rows = parseLines(e.all());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["host"] == "h\"ost");
  CHECK(rows[0]["tag"] == "t\\ag");
  CHECK(rows[0]["source"] == "/p\"ath\n");
}

TEST_CASE("encoder: a source's host replaces the agent's, per chunk, in every format") {
  auto peer = std::make_shared<SourceInfo>(*makeSource());
  peer->host = "10.0.0.7";
  const auto chunks =
      std::vector<std::shared_ptr<const RecordChunk>>{makeChunk("from the peer\n", peer),
                                                      makeChunk("from a file\n")};
  auto rows = parseLines(encode(jsonOptions(), chunks).all());
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["host"] == "10.0.0.7");
  CHECK(rows[1]["host"] == "web-1");  // no host of its own: the agent's
  EncoderOptions csv = jsonOptions();
  csv.format = OutputFormat::kCsv;
  const std::string text = encode(csv, chunks).all();
  CHECK(text.find(",10.0.0.7,") != std::string::npos);
  CHECK(text.find(",web-1,") != std::string::npos);
}

TEST_CASE("encoder: JSON pass-through") {
  auto src = makeSource(RecordFormat::kJsonLines, "app", "127.0.0.1:5170");
  auto one = [&](const std::string& line, EncodeStats* stats = nullptr) {
    auto e = encode(jsonOptions(), {makeChunk(line + "\n", src)});
    if (stats != nullptr) {
      *stats = e.stats;
    }
    auto rows = parseLines(e.all());
    REQUIRE(rows.size() == 1);
    return std::make_pair(e.all(), rows[0]);
  };
  const std::string prefix =
      "{\"timestamp\":\"2026-11-23T23:30:07.123Z\",\"tag\":\"app\",\"host\":\"web-1\","
      "\"source\":\"127.0.0.1:5170\"";

  SUBCASE("valid object is spliced byte for byte") {
    EncodeStats st;
    auto [text, row] = one("{\"level\":\"info\",\"n\":-1.5e3,\"ok\":true,\"x\":null}", &st);
    CHECK(text == prefix + ",\"level\":\"info\",\"n\":-1.5e3,\"ok\":true,\"x\":null}\n");
    CHECK(row["level"] == "info");
    CHECK(row["n"] == -1500.0);
    CHECK(row.find("message") == row.end());
    CHECK(st.parse_errors == 0);
  }
  SUBCASE("nested, escapes, unicode, surrounding whitespace and CRLF") {
    auto [text, row] = one(
        "  {\"a\": {\"b\": [1, 2, {\"c\": \"\\u00e9\\n\\\"q\\\"\"}]}, \"s\": \"caf\xC3\xA9\"} \r");
    CHECK(row["a"]["b"][2]["c"] == "\xC3\xA9\n\"q\"");
    CHECK(row["s"] == "caf\xC3\xA9");
    CHECK(row["tag"] == "app");
  }
  SUBCASE("empty object: no dangling comma") {
    auto [text, row] = one("{}");
    CHECK(text == prefix + "}\n");
    auto [text2, row2] = one("{   }");
    CHECK(text2 == prefix + "}\n");
  }
  SUBCASE("the record's own fields win over ours (last duplicate key)") {
    auto [text, row] = one("{\"tag\":\"mine\"}");
    CHECK(text == prefix + ",\"tag\":\"mine\"}\n");
    CHECK(row["tag"] == "mine");  // nlohmann also keeps the last duplicate
  }
  SUBCASE("anything else falls back to message and is counted") {
    const std::string bad[] = {
        "[1,2,3]",
        "\"just a string\"",
        "42",
        "not json at all",
        "{\"a\":1",
        "{\"a\":1}}",
        "{\"a\":1} trailing",
        "{\"a\":01}",
        "{\"a\":1.}",
        "{\"a\":-}",
        "{\"a\":.5}",
        "{\"a\":1e}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12g4\"}",
        "{\"a\":\"tab\there\"}",
        "{\"a\",1}",
        "{a:1}",
        "{\"a\":1,}",
        "{\"a\":[1,]}",
        "{\"a\":\"bad utf8 \xFF\"}",
        "{\"a\":\"surrogate \xED\xA0\x80\"}",
        "{\"a\":\"unterminated}",
        std::string(kMaxJsonDepth + 5, '['),
        "{\"d\":" + std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']') + "}",
    };
    for (const auto& line : bad) {
      CAPTURE(line);
      EncodeStats st;
      auto [text, row] = one(line, &st);
      CHECK(st.parse_errors == 1);
      bool repaired = false;
      std::string expected;
      appendUtf8Repaired(expected, line, repaired);
      CHECK(row["message"] == expected);
      CHECK(st.invalid_utf8_repaired == (repaired ? 1u : 0u));
    }
  }
  SUBCASE("depth limit") {
    std::string ok =
        "{\"d\":" + std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']') + "}";
    EncodeStats st;
    one(ok, &st);
    CHECK(st.parse_errors == 0);
  }
}

TEST_CASE("encoder: json validator details") {
  CHECK(isValidJsonValue("0"));
  CHECK(isValidJsonValue("-0.0e+10"));
  CHECK(isValidJsonValue("[]"));
  CHECK(isValidJsonValue(" \"\\ud83d\\ude00\" "));
  CHECK(isValidJsonValue("{\"a\":[true,false,null,{}]}"));
  CHECK_FALSE(isValidJsonValue(""));
  CHECK_FALSE(isValidJsonValue("  "));
  CHECK_FALSE(isValidJsonValue("+1"));
  CHECK_FALSE(isValidJsonValue("1 2"));
  CHECK_FALSE(isValidJsonValue("[1 2]"));
  CHECK_FALSE(isValidJsonValue("truex"));
  // Numbers beyond a double's range fall back to "message" (found by fuzz_encoder).
  CHECK_FALSE(isValidJsonValue("4E448"));
  CHECK_FALSE(isValidJsonValue("{\"n\":-1e999}"));
  CHECK(isValidJsonValue("1.7e308"));
  CHECK(isValidJsonValue("123456789012345678901234567890"));
  CHECK(isValidJsonObject("{\"k\":\"v\"}"));
  CHECK_FALSE(isValidJsonObject("[{\"k\":\"v\"}]"));
  // Surrogate escapes only as pairs.
  CHECK(isValidJsonValue("\"\\uD83D\\uDE00\""));
  CHECK_FALSE(isValidJsonValue("\"\\ud83d\""));
  CHECK_FALSE(isValidJsonValue("\"\\ud83d x\""));
  CHECK_FALSE(isValidJsonValue("\"\\ud83d\\u0041\""));
  CHECK_FALSE(isValidJsonValue("\"\\ude00\""));
  CHECK_FALSE(isValidJsonValue("\"\\u12\""));
}

TEST_CASE("encoder: json validator agrees with nlohmann::json on mutated documents") {
  const std::string seeds[] = {
      "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\\n\\u00e9\\ud83d\\ude00\"}}",
      "{\"n\":-12.5e-3,\"s\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\",\"z\":0,\"arr\":[[],{}]}",
      " { \"k\" : [ 1 , 2.0 , -3E+2 ] } ",
  };
  const char alphabet[] = "{}[]\",:\\/ute0123456789.-+eEaflnrs \t\x01\x7f\x80\xC3\xA9\xED\xF0";
  std::mt19937 rng(12345);
  int valid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string doc = seeds[rng() % std::size(seeds)];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = rng() % (doc.size() + 1);
      const char c = alphabet[rng() % (sizeof(alphabet) - 1)];
      switch (rng() % 3) {
        case 0: doc.insert(doc.begin() + static_cast<std::ptrdiff_t>(pos), c); break;
        case 1:
          if (pos < doc.size()) {
            doc.erase(pos, 1);
          }
          break;
        default:
          if (pos < doc.size()) {
            doc[pos] = c;
          }
          break;
      }
    }
    CAPTURE(doc);
    const bool ours = isValidJsonValue(doc);
    CHECK(ours == json::accept(doc));
    valid += ours ? 1 : 0;
  }
  CHECK(valid > 1000);  // the mutations leave enough valid documents to compare both ways
}

TEST_CASE("encoder: CSV and TSV quoting") {
  EncoderOptions o;
  o.format = OutputFormat::kCsv;
  o.hostname = "web,1";
  auto src = makeSource(RecordFormat::kLines, "tag", "/var/log/a.log");
  auto e = encode(o, {makeChunk("plain\nwith,comma\nwith \"quote\"\ncr\rinside\ntab\there\n"
                                "bad \xFF\n",
                                src)});
  const std::string p = "2026-11-23T23:30:07.123Z,tag,\"web,1\",/var/log/a.log,";
  CHECK(e.all() == p + "plain\n" + p + "\"with,comma\"\n" + p + "\"with \"\"quote\"\"\"\n" + p +
                       "\"cr\rinside\"\n" + p + "tab\there\n" + p + "bad " + R + "\n");
  CHECK(e.stats.invalid_utf8_repaired == 1);

  o.format = OutputFormat::kTsv;
  o.columns = {"message", "tag"};
  auto t = encode(o, {makeChunk("plain\ntab\there\nsay \"x\"\nc,omma\n", src)});
  CHECK(t.all() == "plain\ttag\n\"tab\there\"\ttag\n\"say \"\"x\"\"\"\ttag\nc,omma\ttag\n");

  o.format = OutputFormat::kCsv;
  o.columns = {"host", "message", "timestamp", "message"};
  auto m = encode(o, {makeChunk("a\"b\n", src)});
  CHECK(m.all() == "\"web,1\",\"a\"\"b\",2026-11-23T23:30:07.123Z,\"a\"\"b\"\n");

  o.columns = {"source"};
  o.max_block_bytes = 40;
  auto s = encode(o, {makeChunk("ignored\n" + std::string(100, 'L') + "\n", src)});
  CHECK(s.all() == "/var/log/a.log\n/var/log/a.log\n");  // a long line is no reason to reject
  CHECK(s.rejected.empty());
  CHECK(s.blocks[0].records == 2);
}

TEST_CASE("encoder: CSV field quoting at every offset of the fast path") {
  for (std::size_t pos = 0; pos < 40; ++pos) {
    for (const std::string special : {"\"", ",", "\r", "\n", "\xC3\xA9", "\xFF", "\t"}) {
      CAPTURE(pos);
      CAPTURE(special);
      std::string in = std::string(pos, 'a') + special + std::string(40 - pos, 'b') + "\"";
      std::string body = std::string(pos, 'a') + (special == "\xFF" ? R : special) +
                         std::string(40 - pos, 'b') + "\"";
      std::string quoted_body;
      for (char c : body) {
        quoted_body += c;
        if (c == '"') {
          quoted_body += '"';
        }
      }
      bool repaired = false;
      std::string out;
      appendDelimitedField(out, in, ',', repaired);
      CHECK(out == "\"" + quoted_body + "\"");
      CHECK(repaired == (special == "\xFF"));
      // Without the trailing quote, only some specials force quoting.
      std::string unquoted_in = in.substr(0, in.size() - 1);
      out.clear();
      repaired = false;
      appendDelimitedField(out, unquoted_in, '\t', repaired);
      const bool quoted = special == "\"" || special == "\r" || special == "\n" || special == "\t";
      std::string expected = body.substr(0, body.size() - 1);
      if (quoted) {
        std::string q;
        for (char c : expected) {
          q += c;
          if (c == '"') {
            q += '"';
          }
        }
        expected = "\"" + q + "\"";
      }
      CHECK(out == expected);
    }
  }
}

TEST_CASE("encoder: txt") {
  EncoderOptions o;
  o.format = OutputFormat::kTxt;
  auto e = encode(o, {makeChunk("one\r\ntwo \"raw\" \\ \t\n\xC3(\n")});
  CHECK(e.all() == "one\ntwo \"raw\" \\ \t\n" + R + "(\n");
  CHECK(e.stats.invalid_utf8_repaired == 1);
}

TEST_CASE("encoder: a last record without newline is still a record") {
  EncoderOptions o;
  o.format = OutputFormat::kTxt;
  auto e = encode(o, {makeChunk("a\nb")});
  CHECK(e.all() == "a\nb\n");
  CHECK(e.stats.records == 2);
  CHECK(e.blocks[0].input_bytes == 3);
}

TEST_CASE("encoder: block splitting by bytes and records") {
  std::mt19937 rng(1);
  std::vector<std::shared_ptr<const RecordChunk>> chunks;
  std::vector<std::string> lines;
  std::uint64_t total_input = 0;
  for (int c = 0; c < 20; ++c) {
    std::string data;
    for (int i = 0; i < 50; ++i) {
      std::string line = fmt::format("seq={} {}", lines.size(), std::string(rng() % 300, 'x'));
      lines.push_back(line);
      data += line + "\n";
    }
    total_input += data.size();
    chunks.push_back(makeChunk(data, nullptr, kTime + std::chrono::seconds(c)));
  }
  for (std::uint64_t max_bytes : {600u, 1000u, 4096u, 65536u, 4u << 20}) {
    for (std::uint64_t max_records : {0u, 1u, 7u, 50u, 1000u}) {
      CAPTURE(max_bytes);
      CAPTURE(max_records);
      EncoderOptions o = jsonOptions();
      o.max_block_bytes = max_bytes;
      o.max_block_records = max_records;
      auto e = encode(o, chunks);
      CHECK(e.rejected.empty());
      std::uint64_t records = 0;
      std::uint64_t input = 0;
      std::vector<json> rows;
      for (std::size_t b = 0; b < e.blocks.size(); ++b) {
        const auto& block = e.blocks[b];
        CHECK(block.data.size() <= max_bytes);
        if (max_records != 0) {
          CHECK(block.records <= max_records);
        }
        auto block_rows = parseLines(block.data);
        CHECK(block_rows.size() == block.records);
        // A block was closed only because the next record did not fit.
        if (b + 1 < e.blocks.size() && (max_records == 0 || block.records < max_records)) {
          auto next_first = e.blocks[b + 1].data.substr(0, e.blocks[b + 1].data.find('\n') + 1);
          CHECK(block.data.size() + next_first.size() > max_bytes);
        }
        records += block.records;
        input += block.input_bytes;
        rows.insert(rows.end(), block_rows.begin(), block_rows.end());
      }
      CHECK(records == lines.size());
      CHECK(e.stats.records == lines.size());
      CHECK(input == total_input);
      REQUIRE(rows.size() == lines.size());
      for (std::size_t i = 0; i < lines.size(); ++i) {
        CHECK(rows[i]["message"] == lines[i]);
      }
      CHECK(rows.back()["timestamp"] == "2026-11-23T23:30:26.123Z");
    }
  }
}

TEST_CASE("encoder: a record larger than a block is rejected, the rest flows") {
  EncoderOptions o = jsonOptions();
  o.max_block_bytes = 300;
  std::string big(400, 'B');
  std::string fits_raw_not_encoded(250, '"');  // 250 raw bytes, 500 escaped
  auto e = encode(
      o, {makeChunk("small 1\n" + big + "\r\nsmall 2\n" + fits_raw_not_encoded + "\nsmall 3\n")});
  REQUIRE(e.rejected.size() == 2);
  CHECK(e.rejected[0].data == big);
  CHECK(e.rejected[0].reason.find("300") != std::string::npos);
  CHECK(e.rejected[1].data == fits_raw_not_encoded);
  CHECK(e.stats.records == 5);
  std::vector<json> rows;
  std::uint64_t input = 0;
  for (const auto& b : e.blocks) {
    auto r = parseLines(b.data);
    rows.insert(rows.end(), r.begin(), r.end());
    input += b.input_bytes;
  }
  REQUIRE(rows.size() == 3);
  CHECK(rows[0]["message"] == "small 1");
  CHECK(rows[1]["message"] == "small 2");
  CHECK(rows[2]["message"] == "small 3");
  CHECK(input == 3 * 8);
}

TEST_CASE("encoder: a record exactly at the limit is accepted") {
  EncoderOptions o;
  o.format = OutputFormat::kTxt;
  o.max_block_bytes = 10;
  auto e = encode(o, {makeChunk("123456789\n1234567890\nab\n")});
  REQUIRE(e.blocks.size() == 2);
  CHECK(e.blocks[0].data == "123456789\n");
  CHECK(e.blocks[1].data == "ab\n");
  REQUIRE(e.rejected.size() == 1);
  CHECK(e.rejected[0].data == "1234567890");
}

TEST_CASE("encoder: no records, no blocks") {
  auto e = encode(jsonOptions(), {makeChunk("")});
  CHECK(e.blocks.empty());
  CHECK(e.stats.records == 0);
  auto none = encode(jsonOptions(), {});
  CHECK(none.blocks.empty());
}

TEST_CASE("encoder: chunks from different sources keep their own fields") {
  auto a = makeSource(RecordFormat::kLines, "a", "/a.log");
  auto b = makeSource(RecordFormat::kLines, "b", "/b.log");
  auto e = encode(jsonOptions(), {makeChunk("1\n", a), makeChunk("2\n", b),
                                  makeChunk("3\n", a, kTime + std::chrono::milliseconds(5))});
  auto rows = parseLines(e.all());
  REQUIRE(rows.size() == 3);
  CHECK(rows[0]["tag"] == "a");
  CHECK(rows[1]["tag"] == "b");
  CHECK(rows[1]["source"] == "/b.log");
  CHECK(rows[2]["tag"] == "a");
  CHECK(rows[2]["timestamp"] == "2026-11-23T23:30:07.128Z");
}

}  // namespace ingestd

// --- parsed and framed records ------------------------------------------------------------------

namespace ingestd {
namespace {

// "k=v k=v": each pair a string field; "n=<digits>" a number; "t=<unix ns>" the record's time.
// A record without '=' does not parse.
class PairsParser : public Parser {
 public:
  bool parse(std::string_view record, ParsedRecord& out) const override {
    if (record.find('=') == std::string_view::npos) {
      return false;
    }
    while (!record.empty()) {
      auto sp = record.find(' ');
      std::string_view pair = record.substr(0, sp);
      record = sp == std::string_view::npos ? std::string_view() : record.substr(sp + 1);
      auto eq = pair.find('=');
      if (eq == std::string_view::npos) {
        continue;
      }
      std::string_view k = pair.substr(0, eq);
      std::string_view v = pair.substr(eq + 1);
      if (k == "t") {
        out.time_unix_ns = std::stoll(std::string(v));
      } else if (k == "n") {
        out.addJson(k, v);
      } else {
        out.addString(k, v);
      }
    }
    return true;
  }
  std::string_view name() const override { return "pairs"; }
};

std::shared_ptr<const SourceInfo> parsedSource(RecordFormat format = RecordFormat::kLines) {
  auto s = std::make_shared<SourceInfo>(*makeSource(format));
  s->parser = std::make_shared<PairsParser>();
  return s;
}

std::string framed(std::initializer_list<std::string_view> records) {
  std::string data;
  for (auto r : records) {
    appendFramed(data, r);
  }
  return data;
}

TEST_CASE("encoder: kFramed records may hold newlines and stay one row each") {
  auto chunk =
      makeChunk(framed({"first\nsecond line", "", "third\r\n"}), makeSource(RecordFormat::kFramed));
  auto e = encode(jsonOptions(), {chunk});
  REQUIRE(e.blocks.size() == 1);
  CHECK(e.blocks[0].records == 3);
  CHECK(e.blocks[0].input_bytes == chunk->data.size());
  std::vector<std::string> messages;
  std::string all = e.all();
  std::size_t pos = 0;
  while (pos < all.size()) {
    auto nl = all.find('\n', pos);
    messages.push_back(json::parse(all.substr(pos, nl - pos))["message"]);
    pos = nl + 1;
  }
  CHECK(messages == std::vector<std::string>{"first\nsecond line", "", "third\r\n"});
}

TEST_CASE("encoder: a parsed record's fields follow ours, its time, host and tag replace ours") {
  auto e = encode(jsonOptions(),
                  {makeChunk("level=warn n=42 msg=a\"b\nt=1795476607123456700 host=db-2 tag=x\n",
                             parsedSource())});
  REQUIRE(e.blocks.size() == 1);
  const std::string all = e.all();
  auto nl = all.find('\n');
  std::string first = all.substr(0, nl);
  std::string second = all.substr(nl + 1, all.size() - nl - 2);
  CHECK(first ==
        "{\"timestamp\":\"2026-11-23T23:30:07.123Z\",\"tag\":\"nginx.access\",\"host\":\"web-1\","
        "\"source\":\"/var/log/nginx/access.log\",\"level\":\"warn\",\"n\":42,"
        "\"msg\":\"a\\\"b\"}");
  // Each of our fields appears once: the parser's time, host and tag win.
  CHECK(second ==
        "{\"timestamp\":\"2026-11-23T23:30:07.1234567Z\",\"source\":\"/var/log/nginx/access.log\","
        "\"host\":\"db-2\",\"tag\":\"x\"}");
  CHECK(e.stats.parse_errors == 0);
}

TEST_CASE("encoder: a record the parser refuses is sent whole as message and counted") {
  auto source = parsedSource();
  auto e = encode(jsonOptions(),
                  {makeChunk("not parsable\na=1\n", source), makeChunk("still not\n", source)});
  const std::string all = e.all();
  CHECK(all.find("\"message\":\"not parsable\"") != std::string::npos);
  CHECK(all.find("\"a\":\"1\"") != std::string::npos);
  CHECK(all.find("\"message\":\"still not\"") != std::string::npos);
  CHECK(e.stats.parse_errors == 2);
  CHECK(e.stats.parse_errors_by_chunk == std::vector<std::uint64_t>{1, 1});
}

TEST_CASE("encoder: parsed times are written to 100 ns, trailing zero groups dropped") {
  auto e = encode(jsonOptions(), {makeChunk("t=1795476607000000000\nt=1795476607123456000\n"
                                            "t=0\nt=1795476607999999999\n",
                                            parsedSource())});
  const std::string all = e.all();
  CHECK(all.find("\"2026-11-23T23:30:07.000Z\"") != std::string::npos);
  CHECK(all.find("\"2026-11-23T23:30:07.123456Z\"") != std::string::npos);
  CHECK(all.find("\"1970-01-01T00:00:00.000Z\"") != std::string::npos);
  CHECK(all.find("\"2026-11-23T23:30:07.9999999Z\"") != std::string::npos);
}

TEST_CASE("encoder: csv of parsed records takes columns from the fields, message from the line") {
  EncoderOptions o = jsonOptions();
  o.format = OutputFormat::kCsv;
  o.columns = {"timestamp", "host", "message", "tag"};
  auto e = encode(o, {makeChunk("message=hi,there t=1795476607123456700\nhost=h2 x=1\nbare\n",
                                parsedSource())});
  CHECK(e.all() ==
        "2026-11-23T23:30:07.1234567Z,web-1,\"hi,there\",nginx.access\n"
        "2026-11-23T23:30:07.123Z,h2,host=h2 x=1,nginx.access\n"
        "2026-11-23T23:30:07.123Z,web-1,bare,nginx.access\n");
  CHECK(e.stats.parse_errors == 1);
}

TEST_CASE("encoder: framed records are parsed too, and txt sends them as they are") {
  auto chunk = makeChunk(framed({"a=1 b=two\nlines", "oops"}), parsedSource(RecordFormat::kFramed));
  auto e = encode(jsonOptions(), {chunk});
  CHECK(e.all().find("\"b\":\"two\\nlines\"") != std::string::npos);
  CHECK(e.stats.parse_errors == 1);
  EncoderOptions txt = jsonOptions();
  txt.format = OutputFormat::kTxt;
  auto t = encode(txt, {chunk});
  CHECK(t.all() == "a=1 b=two\nlines\noops\n");
  CHECK(t.stats.parse_errors == 0);
}

}  // namespace
}  // namespace ingestd
