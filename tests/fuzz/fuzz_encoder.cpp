// libFuzzer harness: encoder invariants, JSON validator vs nlohmann, UTF-8 repair, gzip round trip.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/compress/gzip_codec.h"
#include "agent/pipeline/encoder.h"
#include "agent/pipeline/json_validate.h"
#include "agent/pipeline/utf8.h"
using namespace ingestd;
#define ASSERT(c)                                          \
  do {                                                     \
    if (!(c)) {                                            \
      fprintf(stderr, "fail: %s line %d\n", #c, __LINE__); \
      abort();                                             \
    }                                                      \
  } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // validator differential
  // nlohmann stops at a NUL byte as if the input ended there; compare only without one.
  if (in.find(std::string_view("\0", 1)) == std::string_view::npos)
    ASSERT(isValidJsonValue(in) == nlohmann::json::accept(in));
  bool rep = false;
  std::string fixed;
  appendUtf8Repaired(fixed, in, rep);
  ASSERT(isValidUtf8(fixed));
  ASSERT(rep == !isValidUtf8(in));
  for (auto fmtk : {OutputFormat::kMultiJson, OutputFormat::kCsv, OutputFormat::kTxt}) {
    for (auto rf : {RecordFormat::kLines, RecordFormat::kJsonLines}) {
      auto src = std::make_shared<SourceInfo>();
      src->tag = "t";
      src->source = "s";
      src->format = rf;
      auto c = std::make_shared<RecordChunk>();
      c->source = src;
      c->data = std::string(in);
      std::vector<std::shared_ptr<const RecordChunk>> chunks{c};
      EncoderOptions o;
      o.format = fmtk;
      o.max_block_bytes = 200 + size % 300;
      o.max_block_records = size % 4;
      std::vector<EncodedBlock> blocks;
      std::vector<RejectedRecord> rej;
      EncodeStats st;
      encodeChunks(o, chunks, blocks, rej, st);
      uint64_t recs = 0, inb = 0;
      for (auto& b : blocks) {
        ASSERT(b.data.size() <= o.max_block_bytes);
        ASSERT(b.records > 0);
        ASSERT(b.data.back() == '\n');
        ASSERT(o.max_block_records == 0 || b.records <= o.max_block_records);
        ASSERT(isValidUtf8(b.data));
        recs += b.records;
        inb += b.input_bytes;
        if (fmtk == OutputFormat::kMultiJson) {
          size_t pos = 0;
          uint64_t n = 0;
          while (pos < b.data.size()) {
            size_t nl = b.data.find('\n', pos);
            ASSERT(nl != std::string::npos);
            std::string_view line(b.data.data() + pos, nl - pos);
            ASSERT(nlohmann::json::accept(line));
            ASSERT(isValidJsonObject(line));
            pos = nl + 1;
            ++n;
          }
          ASSERT(n == b.records);
        }
      }
      ASSERT(recs + rej.size() == st.records);
      size_t lines = 0;
      for (char ch : in) lines += ch == '\n';
      if (!in.empty() && in.back() != '\n') ++lines;
      ASSERT(st.records == lines);
      uint64_t rej_in = 0;
      (void)rej_in;
      if (rej.empty()) ASSERT(inb == in.size());
    }
  }
  std::string gz = gzipCompress(CodecKind::kIsal, 1, in);
  std::string out;
  ASSERT(gunzip(gz, out, size).isOk());
  ASSERT(out == in);
  std::string out2;
  (void)gunzip(in, out2, 1 << 20);  // arbitrary bytes as gzip: must not crash
  return 0;
}
