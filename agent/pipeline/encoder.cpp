// Encoder: record chunks -> bounded blocks of multijson/json/csv/tsv/txt text. The per-chunk
// constant parts of a row (timestamp, tag, host, source) are built once per chunk; each record
// then costs one escape pass over its bytes into memory reserved once per record.
#include "agent/pipeline/encoder.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "agent/core/assert.h"
#include "agent/core/heap.h"
#include "agent/pipeline/json_validate.h"
#include "agent/pipeline/utf8.h"
#include "agent/plugin/parser.h"

namespace ingestd {

namespace {

std::string takeRecycledBlockBuffer() { return blockBufferPool().take(); }

enum class Field { kTimestamp, kTag, kHost, kSource, kMessage };

constexpr std::array<std::string_view, 5> kFieldNames = {"timestamp", "tag", "host", "source",
                                                         "message"};

std::optional<Field> parseField(std::string_view name) {
  for (std::size_t i = 0; i < kFieldNames.size(); ++i) {
    if (kFieldNames[i] == name) {
      return static_cast<Field>(i);
    }
  }
  return std::nullopt;
}

// The text of one block under construction. buf_.size() is the writable area and len_ the
// part in use, so records are written through a raw pointer after one capacity check and the
// string is zero-filled only when it grows (std::string has no uninitialized resize in C++20).
class BlockBuffer {
 public:
  // `capacity`: what this block is expected to need; `full`: a whole block's buffer.
  void start(std::size_t capacity, std::size_t full) {
    // A recycled buffer was full to about its capacity when it was shrunk: growing it back
    // zero-fills only the tail, and its pages are already mapped (a fresh 4 MiB block costs a
    // memset and a page fault per 4 KiB, which was a third of the CPU of a socket input).
    buf_ = takeRecycledBlockBuffer();
    if (buf_.capacity() < capacity) {
      // Too small (the last, short block of an earlier batch): resizing it would copy its old
      // bytes into a new buffer. A fresh one instead, whole-block sized when the block may be
      // big, so that it goes back to the pool and the next blocks find it warm.
      buf_ = std::string();
      buf_.reserve(capacity >= (1u << 20) ? std::max(capacity, full) : capacity);
    }
    buf_.resize(buf_.capacity());
    len_ = 0;
  }
  std::size_t size() const { return len_; }
  const char* data() const { return buf_.data(); }
  // Returns where to write; at least n bytes are writable there.
  char* reserve(std::size_t n) {
    if (buf_.size() - len_ < n) {
      // A quarter more into an exactly sized new buffer, not std::string's doubling: blocks
      // stop at max_block_bytes, and a buffer doubled past 8 MiB would not go back to the pool
      // (every later block would then fault in a fresh one).
      std::string bigger;
      bigger.reserve(std::max(buf_.size() + buf_.size() / 4, len_ + n + (64u << 10)));
      bigger.assign(buf_.data(), len_);
      bigger.resize(bigger.capacity());
      buf_ = std::move(bigger);
    }
    return buf_.data() + len_;
  }
  void commit(const char* end) { len_ = static_cast<std::size_t>(end - buf_.data()); }
  void truncate(std::size_t len) { len_ = len; }
  std::string take() {
    buf_.resize(len_);
    len_ = 0;
    return std::move(buf_);
  }

 private:
  std::string buf_;
  std::size_t len_ = 0;
};

inline char* put(char* dst, std::string_view s) {
  if (s.empty()) {
    return dst;  // s.data() may be null, which memcpy does not allow even for size 0
  }
  std::memcpy(dst, s.data(), s.size());
  return dst + s.size();
}

std::string_view trimJsonWhitespace(std::string_view s) {
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && ws(s.front())) {
    s.remove_prefix(1);
  }
  while (!s.empty() && ws(s.back())) {
    s.remove_suffix(1);
  }
  return s;
}

class Encoder {
 public:
  Encoder(const EncoderOptions& options, const std::function<void(EncodedBlock&&)>& on_block,
          std::vector<RejectedRecord>& rejected, EncodeStats& stats)
      : options_(options), on_block_(on_block), rejected_(rejected), stats_(stats) {
    bool repaired = false;
    appendJsonEscaped(agent_host_json_, options.hostname, repaired);
    appendDelimitedField(agent_host_field_, options.hostname, separator(), repaired);
    host_json_ = agent_host_json_;
    host_field_ = agent_host_field_;
    const auto& names = options.columns.empty() ? defaultColumns() : options.columns;
    for (const auto& name : names) {
      auto field = parseField(name);
      INGESTD_CHECK(field.has_value());  // config validation uses isKnownField()
      columns_.push_back(*field);
    }
    // The byte limit has no "unlimited" value: 0 is a caller bug.
    INGESTD_CHECK(options.max_block_bytes > 0);
  }

  void encode(std::span<const std::shared_ptr<const RecordChunk>> chunks) {
    for (const auto& chunk : chunks) {
      remaining_input_ += chunk->data.size();
    }
    stats_.parse_errors_by_chunk.reserve(stats_.parse_errors_by_chunk.size() + chunks.size());
    for (const auto& chunk : chunks) {
      const std::uint64_t before = stats_.parse_errors;
      encodeChunk(*chunk);
      stats_.parse_errors_by_chunk.push_back(stats_.parse_errors - before);
    }
    flush();
  }

 private:
  char separator() const { return options_.format == OutputFormat::kTsv ? '\t' : ','; }
  bool isJson() const {
    return options_.format == OutputFormat::kMultiJson || options_.format == OutputFormat::kJson;
  }

  // Builds the constant parts of this chunk's rows, unless the previous chunk had the same.
  void prepareChunk(const RecordChunk& chunk) {
    if (prepared_ && chunk.source == prepared_source_ && chunk.time == prepared_time_) {
      return;
    }
    prepared_ = true;
    prepared_source_ = chunk.source;
    prepared_time_ = chunk.time;
    static const SourceInfo kEmpty;
    const SourceInfo& src = chunk.source ? *chunk.source : kEmpty;
    const std::string ts = formatTimestamp(chunk.time);
    bool repaired = false;  // in tag/source/host: not a record's fault, not counted
    ts_ = ts;
    tag_json_.clear();
    appendJsonEscaped(tag_json_, src.tag, repaired);
    source_json_.clear();
    appendJsonEscaped(source_json_, src.source, repaired);
    tag_raw_ = src.tag;
    source_raw_ = src.source;
    if (src.host.empty()) {
      host_json_ = agent_host_json_;
      host_field_ = agent_host_field_;
    } else {
      host_json_.clear();
      appendJsonEscaped(host_json_, src.host, repaired);
      host_field_.clear();
      appendDelimitedField(host_field_, src.host, separator(), repaired);
    }
    if (isJson()) {
      json_prefix_.clear();
      json_prefix_ += "{\"timestamp\":\"";
      json_prefix_ += ts;
      json_prefix_ += "\",\"tag\":\"";
      appendJsonEscaped(json_prefix_, src.tag, repaired);
      json_prefix_ += "\",\"host\":\"";
      json_prefix_ += host_json_;
      json_prefix_ += "\",\"source\":\"";
      appendJsonEscaped(json_prefix_, src.source, repaired);
      json_prefix_ += "\",";
      json_message_prefix_ = json_prefix_ + "\"message\":\"";
      fixed_size_ = json_message_prefix_.size() + 3;
    } else if (options_.format == OutputFormat::kCsv || options_.format == OutputFormat::kTsv) {
      // parts_[0] message parts_[1] message ... parts_[k]
      parts_.assign(1, std::string());
      for (std::size_t i = 0; i < columns_.size(); ++i) {
        if (i > 0) {
          parts_.back() += separator();
        }
        switch (columns_[i]) {
          case Field::kTimestamp: parts_.back() += ts; break;
          case Field::kTag:
            appendDelimitedField(parts_.back(), src.tag, separator(), repaired);
            break;
          case Field::kHost: parts_.back() += host_field_; break;
          case Field::kSource:
            appendDelimitedField(parts_.back(), src.source, separator(), repaired);
            break;
          case Field::kMessage: parts_.emplace_back(); break;
        }
      }
      parts_.back() += '\n';
      writes_line_ = parts_.size() > 1;
      fixed_size_ = 0;
      for (const auto& part : parts_) {
        fixed_size_ += part.size();
      }
    } else {
      fixed_size_ = 1;
    }
  }

  void encodeChunk(const RecordChunk& chunk) {
    prepareChunk(chunk);
    const RecordFormat format = chunk.source ? chunk.source->format : RecordFormat::kLines;
    const bool json_lines =
        format == RecordFormat::kJsonLines || format == RecordFormat::kFramedJson;
    parser_ = chunk.source && !json_lines ? chunk.source->parser.get() : nullptr;
    const char* p = chunk.data.data();
    const char* end = p + chunk.data.size();
    if (format == RecordFormat::kFramed || format == RecordFormat::kFramedJson) {
      while (p < end) {
        // A length past the chunk's end is an input's bug.
        std::uint32_t n = 0;
        const std::size_t have = static_cast<std::size_t>(end - p);
        INGESTD_CHECK(have >= 4);
        const auto* u = reinterpret_cast<const unsigned char*>(p);
        n = static_cast<std::uint32_t>(u[0]) | static_cast<std::uint32_t>(u[1]) << 8 |
            static_cast<std::uint32_t>(u[2]) << 16 | static_cast<std::uint32_t>(u[3]) << 24;
        INGESTD_CHECK(n <= have - 4);
        std::string_view record(p + 4, n);
        addRecord(record, n + 4, json_lines);
        remaining_input_ -= n + 4;
        p += n + 4;
      }
      return;
    }
    while (p < end) {
      const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
      const char* line_end = nl != nullptr ? static_cast<const char*>(nl) : end;
      const char* next = nl != nullptr ? line_end + 1 : end;
      std::string_view line(p, static_cast<std::size_t>(line_end - p));
      if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
      }
      addRecord(line, static_cast<std::size_t>(next - p), json_lines);
      remaining_input_ -= static_cast<std::size_t>(next - p);
      p = next;
    }
  }

  void addRecord(std::string_view line, std::size_t raw_size, bool json_lines) {
    ++stats_.records;
    if (options_.max_block_records != 0 && block_records_ >= options_.max_block_records) {
      flush();
    }
    // A row holding the line is at least as long as the line (passed-through JSON: as its
    // trimmed text): reject hopeless records before reserving room for them.
    // (A parsed record's row may be shorter than its line: only the encoded row is checked.)
    const std::size_t min_size = !writes_line_ || parser_ != nullptr ? 0
                                 : json_lines ? trimJsonWhitespace(line).size()
                                              : line.size();
    if (min_size > options_.max_block_bytes) {
      reject(line, min_size);
      return;
    }
    if (!started_) {
      startBlock();
    }
    const std::size_t start = buf_.size();
    bool repaired = false;
    writeRecord(line, json_lines, repaired);
    if (repaired) {
      ++stats_.invalid_utf8_repaired;
    }
    const std::size_t encoded = buf_.size() - start;
    if (encoded > options_.max_block_bytes) {
      buf_.truncate(start);
      reject(line, encoded);
      return;
    }
    if (buf_.size() > options_.max_block_bytes) {
      // The record does not fit behind the others: it starts the next block.
      std::string record(buf_.data() + start, encoded);
      buf_.truncate(start);
      flush();
      startBlock();
      char* dst = buf_.reserve(record.size());
      buf_.commit(put(dst, record));
    }
    ++block_records_;
    block_input_ += raw_size;
  }

  void writeRecord(std::string_view line, bool json_lines, bool& repaired) {
    if (parser_ != nullptr && options_.format != OutputFormat::kTxt) {
      parsed_.clear();
      if (parser_->parse(line, parsed_)) {
        if (isJson()) {
          writeParsedJson(repaired);
        } else {
          writeParsedDelimited(line, repaired);
        }
        return;
      }
      ++stats_.parse_errors;  // sent whole as "message", below
    }
    switch (options_.format) {
      case OutputFormat::kMultiJson:
      case OutputFormat::kJson:
        if (json_lines && writeJsonPassthrough(line)) {
          return;
        }
        if (json_lines) {
          ++stats_.parse_errors;
        }
        {
          char* dst = buf_.reserve(fixed_size_ + jsonEscapedBound(line.size()));
          dst = put(dst, json_message_prefix_);
          dst = writeJsonEscaped(dst, line, repaired);
          buf_.commit(put(dst, "\"}\n"));
        }
        return;
      case OutputFormat::kCsv:
      case OutputFormat::kTsv: {
        const std::size_t messages = parts_.size() - 1;
        char* dst = buf_.reserve(fixed_size_ + messages * delimitedFieldBound(line.size()));
        dst = put(dst, parts_[0]);
        for (std::size_t i = 1; i < parts_.size(); ++i) {
          dst = writeDelimitedField(dst, line, separator(), repaired);
          dst = put(dst, parts_[i]);
        }
        buf_.commit(dst);
        return;
      }
      case OutputFormat::kTxt: {
        char* dst = buf_.reserve(3 * line.size() + 1);
        dst = writeUtf8Repaired(dst, line, repaired);
        *dst++ = '\n';
        buf_.commit(dst);
        return;
      }
    }
  }

  // A parsed record as one JSON object: our timestamp, tag, host and source, each replaced by
  // the parser's (its time, or a field of the same name) when it has one, then its fields.
  void writeParsedJson(bool& repaired) {
    std::size_t bound = 96 + tag_json_.size() + host_json_.size() + source_json_.size();
    for (std::size_t i = 0; i < parsed_.size(); ++i) {
      bound += jsonEscapedBound(parsed_.key(i).size()) + jsonEscapedBound(parsed_.value(i).size());
    }
    char* dst = buf_.reserve(bound);
    const char* sep = "{";
    auto ours = [&](std::string_view name, std::string_view escaped) {
      if (parsed_.find(name)) {
        return;
      }
      dst = put(dst, sep);
      sep = ",";
      *dst++ = '"';
      dst = put(dst, name);
      dst = put(dst, "\":\"");
      dst = put(dst, escaped);
      *dst++ = '"';
    };
    if (parsed_.time_unix_ns && !parsed_.find("timestamp")) {
      dst = put(dst, "{\"timestamp\":\"");
      dst = writeTimestampNs(dst, *parsed_.time_unix_ns);
      *dst++ = '"';
      sep = ",";
    } else {
      ours("timestamp", ts_);
    }
    ours("tag", tag_json_);
    ours("host", host_json_);
    ours("source", source_json_);
    for (std::size_t i = 0; i < parsed_.size(); ++i) {
      dst = put(dst, sep);
      sep = ",";
      *dst++ = '"';
      dst = writeJsonEscaped(dst, parsed_.key(i), repaired);
      dst = put(dst, "\":");
      if (parsed_.kind(i) == ParsedRecord::Kind::kString) {
        *dst++ = '"';
        dst = writeJsonEscaped(dst, parsed_.value(i), repaired);
        *dst++ = '"';
      } else {
        dst = put(dst, parsed_.value(i));
      }
    }
    if (*sep == '{') {
      *dst++ = '{';
    }
    buf_.commit(put(dst, "}\n"));
  }

  // csv/tsv of a parsed record: each column from the parser's field of that name (timestamp:
  // its time) when it has one, else ours; "message" falls back to the whole record.
  void writeParsedDelimited(std::string_view line, bool& repaired) {
    auto field = [&](std::string_view name) -> std::optional<std::string_view> {
      if (auto i = parsed_.find(name)) {
        return parsed_.value(*i);
      }
      return std::nullopt;
    };
    std::size_t bound = 1;
    for (Field f : columns_) {
      switch (f) {
        case Field::kTimestamp: bound += 40; break;
        case Field::kHost: bound += host_field_.size(); break;
        case Field::kTag: bound += tag_raw_.size(); break;
        case Field::kSource: bound += source_raw_.size(); break;
        case Field::kMessage: bound += line.size(); break;
      }
    }
    for (std::size_t i = 0; i < parsed_.size(); ++i) {
      bound += parsed_.value(i).size();  // any column may take any field (once per column)
    }
    char* dst = buf_.reserve(columns_.size() * delimitedFieldBound(bound));
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (c > 0) {
        *dst++ = separator();
      }
      switch (columns_[c]) {
        case Field::kTimestamp:
          if (auto v = field("timestamp")) {
            dst = writeDelimitedField(dst, *v, separator(), repaired);
          } else if (parsed_.time_unix_ns) {
            dst = writeTimestampNs(dst, *parsed_.time_unix_ns);
          } else {
            dst = put(dst, ts_);
          }
          break;
        case Field::kTag:
          dst = writeDelimitedField(dst, field("tag").value_or(tag_raw_), separator(), repaired);
          break;
        case Field::kHost:
          if (auto v = field("host")) {
            dst = writeDelimitedField(dst, *v, separator(), repaired);
          } else {
            dst = put(dst, host_field_);
          }
          break;
        case Field::kSource:
          dst = writeDelimitedField(dst, field("source").value_or(source_raw_), separator(),
                                    repaired);
          break;
        case Field::kMessage:
          dst = writeDelimitedField(dst, field("message").value_or(line), separator(), repaired);
          break;
      }
    }
    *dst++ = '\n';
    buf_.commit(dst);
  }

  // ISO 8601 UTC with 100 ns precision at most (Kusto's tick), trailing zero groups dropped
  // to milliseconds: 2026-11-23T12:00:00.123Z, .123456Z, .1234567Z. The date and time of day
  // are cached per second: consecutive records mostly share it.
  char* writeTimestampNs(char* dst, std::int64_t ns) {
    constexpr std::int64_t kNsPerSec = 1'000'000'000;
    std::int64_t sec = ns / kNsPerSec;
    std::int64_t frac = ns % kNsPerSec;
    if (frac < 0) {
      frac += kNsPerSec;
      --sec;
    }
    if (sec != cached_sec_ || cached_len_ == 0) {
      using namespace std::chrono;
      const sys_seconds t{seconds(sec)};
      const auto day = floor<days>(t);
      const year_month_day ymd{day};
      const hh_mm_ss<seconds> hms{t - day};
      const int year = static_cast<int>(ymd.year());
      if (year >= 0 && year <= 9999) {
        // By hand: fmt's parsing of the format string showed up in profiles (a new second
        // every few records of a busy log).
        auto two = [](char* p, unsigned v) {
          p[0] = static_cast<char>('0' + v / 10);
          p[1] = static_cast<char>('0' + v % 10);
        };
        two(cached_, static_cast<unsigned>(year / 100));
        two(cached_ + 2, static_cast<unsigned>(year % 100));
        cached_[4] = '-';
        two(cached_ + 5, static_cast<unsigned>(ymd.month()));
        cached_[7] = '-';
        two(cached_ + 8, static_cast<unsigned>(ymd.day()));
        cached_[10] = 'T';
        two(cached_ + 11, static_cast<unsigned>(hms.hours().count()));
        cached_[13] = ':';
        two(cached_ + 14, static_cast<unsigned>(hms.minutes().count()));
        cached_[16] = ':';
        two(cached_ + 17, static_cast<unsigned>(hms.seconds().count()));
        cached_len_ = 19;
      } else {
        auto r =
            fmt::format_to_n(cached_, sizeof cached_, "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", year,
                             static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                             hms.hours().count(), hms.minutes().count(), hms.seconds().count());
        cached_len_ = std::min(r.size, sizeof cached_);
      }
      cached_sec_ = sec;
    }
    std::memcpy(dst, cached_, cached_len_);
    dst += cached_len_;
    const auto ticks = frac / 100;  // 0..9999999
    int digits = ticks % 10000 == 0 ? 3 : ticks % 10 == 0 ? 6 : 7;
    std::int64_t v = digits == 3 ? ticks / 10000 : digits == 6 ? ticks / 10 : ticks;
    *dst++ = '.';
    for (int i = digits - 1; i >= 0; --i) {
      dst[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    dst += digits;
    *dst++ = 'Z';
    return dst;
  }

  // Splices a well-formed JSON object's members after our fields. False when `line` is not one.
  bool writeJsonPassthrough(std::string_view line) {
    std::string_view object = trimJsonWhitespace(line);
    if (object.size() < 2 || object.front() != '{' || !isValidJsonObject(object)) {
      return false;
    }
    std::string_view members = object.substr(1, object.size() - 2);
    const bool empty = trimJsonWhitespace(members).empty();
    if (empty) {
      members = {};
    }
    char* dst = buf_.reserve(json_prefix_.size() + members.size() + 2);
    // json_prefix_ ends with the ',' that separates our fields from the record's.
    dst = put(dst, empty ? std::string_view(json_prefix_).substr(0, json_prefix_.size() - 1)
                         : std::string_view(json_prefix_));
    dst = put(dst, members);
    buf_.commit(put(dst, "}\n"));
    return true;
  }

  void reject(std::string_view line, std::size_t encoded) {
    rejected_.push_back(RejectedRecord{
        std::string(line),
        fmt::format("The record encodes to at least {} bytes, more than the block limit of {} "
                    "bytes (batch.max_bytes).",
                    encoded, options_.max_block_bytes)});
  }

  void startBlock() {
    // Sized for a full block when the rest of the input will fill one, otherwise for the rest
    // at the expansion seen so far (2x before any block is done: about what multijson does
    // to ~200-byte lines), so the buffer rarely regrows and small batches stay small.
    const double expansion = done_input_ > 0 ? static_cast<double>(done_output_) /
                                                   static_cast<double>(done_input_) * 1.05
                                             : 2.0;
    const auto want =
        static_cast<std::size_t>(static_cast<double>(remaining_input_) * expansion) + 4096;
    std::size_t cap = static_cast<std::size_t>(
        std::min<std::uint64_t>(options_.max_block_bytes + (64 << 10), want));
    buf_.start(cap, static_cast<std::size_t>(options_.max_block_bytes) + (64u << 10));
    started_ = true;
  }

  void flush() {
    if (started_ && block_records_ > 0) {
      done_input_ += block_input_;
      done_output_ += buf_.size();
      on_block_(EncodedBlock{buf_.take(), block_records_, block_input_});
    }
    started_ = false;
    block_records_ = 0;
    block_input_ = 0;
  }

  const EncoderOptions& options_;
  const std::function<void(EncodedBlock&&)>& on_block_;
  std::vector<RejectedRecord>& rejected_;
  EncodeStats& stats_;
  std::vector<Field> columns_;
  std::string agent_host_json_;   // the agent's hostname escaped for JSON
  std::string agent_host_field_;  // the agent's hostname as a CSV/TSV field
  std::string host_json_;         // the chunk's host (SourceInfo::host, else the agent's)
  std::string host_field_;

  const Parser* parser_ = nullptr;  // of the chunk being encoded
  ParsedRecord parsed_;             // reused for every parsed record
  std::string ts_;                  // the chunk's time, formatted
  std::string tag_json_, source_json_, tag_raw_, source_raw_;
  char cached_[32] = {};  // writeTimestampNs: "YYYY-MM-DDTHH:MM:SS" of cached_sec_
  std::size_t cached_len_ = 0;
  std::int64_t cached_sec_ = 0;

  bool prepared_ = false;
  std::shared_ptr<const SourceInfo> prepared_source_;
  Clock::Wall prepared_time_{};
  std::string json_prefix_;          // {"timestamp":..,"tag":..,"host":..,"source":..,
  std::string json_message_prefix_;  // json_prefix_ + "message":"
  std::vector<std::string> parts_;   // csv/tsv: the row around each message field
  std::size_t fixed_size_ = 0;       // bytes of a row besides the escaped line(s)
  bool writes_line_ = true;          // false for csv/tsv without a message column

  BlockBuffer buf_;
  bool started_ = false;
  std::uint64_t block_records_ = 0;
  std::uint64_t block_input_ = 0;
  std::size_t remaining_input_ = 0;  // bytes of the chunks not yet encoded
  std::uint64_t done_input_ = 0;     // raw bytes of the blocks finished so far
  std::uint64_t done_output_ = 0;    // and their encoded size
};

}  // namespace

std::optional<OutputFormat> parseOutputFormat(std::string_view name) {
  for (OutputFormat f : {OutputFormat::kMultiJson, OutputFormat::kJson, OutputFormat::kCsv,
                         OutputFormat::kTsv, OutputFormat::kTxt}) {
    if (name == outputFormatName(f)) {
      return f;
    }
  }
  return std::nullopt;
}

std::string_view outputFormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kMultiJson: return "multijson";
    case OutputFormat::kJson: return "json";
    case OutputFormat::kCsv: return "csv";
    case OutputFormat::kTsv: return "tsv";
    case OutputFormat::kTxt: return "txt";
  }
  return "unknown";
}

bool isKnownField(std::string_view name) { return parseField(name).has_value(); }

const std::vector<std::string>& defaultColumns() {
  static const std::vector<std::string> kColumns(kFieldNames.begin(), kFieldNames.end());
  return kColumns;
}

void encodeChunks(const EncoderOptions& options,
                  std::span<const std::shared_ptr<const RecordChunk>> chunks,
                  std::vector<EncodedBlock>& blocks, std::vector<RejectedRecord>& rejected,
                  EncodeStats& stats) {
  const std::function<void(EncodedBlock &&)> add = [&blocks](EncodedBlock&& b) {
    blocks.push_back(std::move(b));
  };
  Encoder encoder(options, add, rejected, stats);
  encoder.encode(chunks);
}

void encodeChunks(const EncoderOptions& options,
                  std::span<const std::shared_ptr<const RecordChunk>> chunks,
                  const std::function<void(EncodedBlock&&)>& on_block,
                  std::vector<RejectedRecord>& rejected, EncodeStats& stats) {
  Encoder encoder(options, on_block, rejected, stats);
  encoder.encode(chunks);
}

void recycleBlockBuffer(std::string&& buffer) {
  // Blocks are at most max_block_bytes (4 MiB) plus one record: the pool keeps nothing larger.
  blockBufferPool().give(std::move(buffer));
}

std::string formatTimestamp(Clock::Wall t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{ms - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

}  // namespace ingestd
