// libFuzzer harness for kusto-local's streaming-ingest decoders: the first byte picks the
// format, the rest is the body, decoded with the identity mapping into a fixed schema. Also
// runs the cheap record counter used in --discard mode.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tools/kusto-local/ingest_formats.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using kusto_local::ColumnType;
  static constexpr std::string_view kFormats[] = {"csv",        "tsv",   "tsve", "psv",
                                                  "scsv",       "sohsv", "json", "multijson",
                                                  "singlejson", "txt",   "raw"};
  if (size == 0) {
    return 0;
  }
  std::string_view format = kFormats[data[0] % std::size(kFormats)];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  static const std::vector<kusto_local::ColumnSpec> kSchema = {{"a", ColumnType::kString},
                                                               {"b", ColumnType::kLong},
                                                               {"c", ColumnType::kDateTime},
                                                               {"d", ColumnType::kDynamic}};
  auto parsed = kusto_local::parseDataFormat(format);
  if (!parsed) {
    std::abort();
  }
  kusto_local::DecodedRows rows = kusto_local::decodeRecords(*parsed, body, kSchema, nullptr);
  if (!rows.error) {
    for (const auto& column : rows.columns) {
      if (column.size() != rows.rows) {
        std::abort();  // every column holds one cell per row
      }
    }
  }
  (void)kusto_local::countRecordsFast(format, body);
  return 0;
}
