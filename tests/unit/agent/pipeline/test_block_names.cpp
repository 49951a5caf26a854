// Unit tests: the names of the parts of a batch (batchPartId).
#include <doctest/doctest.h>

#include "agent/pipeline/encode_stage.h"

using ingestd::batchPartId;

TEST_CASE("block names: the first part of a batch has the batch's id, the next ones a suffix") {
  CHECK(batchPartId("0123456789abcdef-0000002a", 0) == "0123456789abcdef-0000002a");
  CHECK(batchPartId("0123456789abcdef-0000002a", 1) == "0123456789abcdef-0000002a.2");
  CHECK(batchPartId("0123456789abcdef-0000002a", 9) == "0123456789abcdef-0000002a.10");
}
