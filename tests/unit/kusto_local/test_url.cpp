// Unit tests for kusto-local's percent-decoding, query and path splitting.
#include <doctest/doctest.h>

#include "tools/kusto-local/url.h"

using kusto_local::findParam;
using kusto_local::parseQuery;
using kusto_local::percentDecode;
using kusto_local::splitPath;

TEST_CASE("kusto-local url: percent decoding") {
  CHECK(percentDecode("a%20b%2Fc", false) == "a b/c");
  CHECK(percentDecode("a+b", false) == "a+b");
  CHECK(percentDecode("a+b", true) == "a b");
  CHECK(percentDecode("%e2%82%AC", false) == "\xe2\x82\xac");
  CHECK_FALSE(percentDecode("%", false).has_value());
  CHECK_FALSE(percentDecode("%4", false).has_value());
  CHECK_FALSE(percentDecode("%zz", false).has_value());
  CHECK(percentDecode("", false) == "");
}

TEST_CASE("kusto-local url: query parameters in any order, decoded, case-insensitive lookup") {
  auto q = parseQuery("mappingName=my%20map&sourceKind&streamFormat=MultiJson&&x=1=2");
  REQUIRE(q.has_value());
  CHECK(q->at("mappingName") == "my map");
  CHECK(q->at("streamFormat") == "MultiJson");
  CHECK(q->at("sourceKind").empty());
  CHECK(q->at("x") == "1=2");
  REQUIRE(findParam(*q, "streamformat") != nullptr);
  CHECK(*findParam(*q, "STREAMFORMAT") == "MultiJson");
  CHECK(findParam(*q, "missing") == nullptr);
  CHECK_FALSE(parseQuery("a=%G1").has_value());
  CHECK(parseQuery("")->empty());
  // The first occurrence wins.
  CHECK(parseQuery("a=1&a=2")->at("a") == "1");
}

TEST_CASE("kusto-local url: path segments are decoded one by one") {
  auto s = splitPath("/v1/rest/ingest/My%20Db/T%2Fx/");
  REQUIRE(s.has_value());
  REQUIRE(s->size() == 5);
  CHECK((*s)[3] == "My Db");
  CHECK((*s)[4] == "T/x");
  CHECK(splitPath("//a//b")->size() == 2);
  CHECK(splitPath("/a+b")->at(0) == "a+b");
  CHECK_FALSE(splitPath("/a%").has_value());
}
