// Encoder: turns RecordChunks into the text Kusto ingests (multijson/json, csv, tsv, txt), cut
// into blocks of bounded size. Pure CPU code that runs on the worker pool.
//
// Rows (DESIGN.md §5):
//  - multijson/json: one object per record per line, '\n'-terminated (Kusto's multijson accepts
//    whitespace-separated objects, json requires one per line):
//      {"timestamp":"2026-11-23T23:30:07.123Z","tag":"..","host":"..","source":"..","message":".."}
//    For RecordFormat::kJsonLines, a record that is a well-formed JSON object has its members
//    spliced in after our four fields instead of "message", byte for byte. If it has its own
//    "timestamp", "tag", "host" or "source", the key appears twice; Kusto's JSON reader keeps
//    the last one, so the record's own value wins. Anything else (invalid JSON, arrays,
//    strings, invalid UTF-8, nesting deeper than kMaxJsonDepth) is sent as "message" and
//    counted in parse_errors.
//    With a parser (SourceInfo::parser), each record's fields follow ours in the parser's order;
//    the parser's time replaces our timestamp, and a field named timestamp, tag, host or source
//    replaces ours (each key appears once). A record the parser refuses is sent as "message"
//    and counted in parse_errors.
//  - csv/tsv: the fields named by `columns`, RFC 4180 quoting (see text_escape.h); TSV uses the
//    same quoting rules with a tab separator, which is how Kusto reads TSV.
//  - txt: the line itself.
// With a parser, a column takes the parser's field of its name (message: else the whole record).
// Every record is one '\n'-terminated line of the chunk (one trailing '\r' is stripped), or for
// RecordFormat::kFramed one length-prefixed frame, taken as it is. Invalid
// UTF-8 becomes U+FFFD in every format (counted per record in invalid_utf8_repaired).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/clock.h"
#include "agent/pipeline/text_escape.h"
#include "agent/plugin/record.h"

namespace ingestd {

enum class OutputFormat { kMultiJson, kJson, kCsv, kTsv, kTxt };

// "multijson", "json", "csv", "tsv", "txt"; nullopt otherwise.
std::optional<OutputFormat> parseOutputFormat(std::string_view name);
std::string_view outputFormatName(OutputFormat format);

// The field names records have: timestamp, tag, host, source, message. Config code uses this to
// reject unknown `columns:` entries.
bool isKnownField(std::string_view name);
// The columns csv/tsv write when `columns` is empty.
const std::vector<std::string>& defaultColumns();

struct EncoderOptions {
  OutputFormat format = OutputFormat::kMultiJson;
  // csv/tsv: field names in order (each must satisfy isKnownField); empty = defaultColumns().
  std::vector<std::string> columns;
  std::string hostname;
  std::uint64_t max_block_bytes = 4u << 20;  // hard limit of one block's encoded size
  std::uint64_t max_block_records = 0;       // 0 = unlimited
};

struct EncodedBlock {
  std::string data;  // encoded records, each ending in '\n'; <= max_block_bytes
  std::uint64_t records = 0;
  std::uint64_t input_bytes = 0;  // bytes of the records in their chunks, '\n' included
};

struct RejectedRecord {
  std::string data;    // the raw record as read, without its line terminator
  std::string reason;  // a sentence for the dead-letter file
};

struct EncodeStats {
  std::uint64_t records = 0;                // records read from the chunks: in blocks plus rejected
  std::uint64_t invalid_utf8_repaired = 0;  // records in which invalid UTF-8 was replaced
  // Records that did not parse: kJsonLines ones that are not a valid JSON object, and those a
  // parser refused.
  std::uint64_t parse_errors = 0;
  // parse_errors of each chunk, in the order given (one entry per chunk encoded).
  std::vector<std::uint64_t> parse_errors_by_chunk;
};

// Encodes all records of the chunks, in order, into blocks of at most max_block_bytes and
// max_block_records each (appended to `blocks`; no block is empty). A record whose encoding
// alone exceeds max_block_bytes is not put in any block: it is appended to `rejected` (to be
// dead-lettered). Stats are added to `stats`. Pure; any thread.
void encodeChunks(const EncoderOptions& options,
                  std::span<const std::shared_ptr<const RecordChunk>> chunks,
                  std::vector<EncodedBlock>& blocks, std::vector<RejectedRecord>& rejected,
                  EncodeStats& stats);
// The same, handing each block to on_block as soon as it is complete, before the next one
// starts: compressing it there and recycling its buffer (recycleBlockBuffer) keeps one warm
// block buffer per thread in use however many blocks the chunks make.
void encodeChunks(const EncoderOptions& options,
                  std::span<const std::shared_ptr<const RecordChunk>> chunks,
                  const std::function<void(EncodedBlock&&)>& on_block,
                  std::vector<RejectedRecord>& rejected, EncodeStats& stats);

// ISO 8601 UTC with milliseconds (truncated) and 'Z': "2026-11-23T23:30:07.123Z".
std::string formatTimestamp(Clock::Wall t);

// Gives a block's buffer (EncodedBlock::data, once compressed) back to this thread's encoder,
// which starts its next block in it: no new allocation, no zero-fill, no page faults.
void recycleBlockBuffer(std::string&& buffer);

}  // namespace ingestd
