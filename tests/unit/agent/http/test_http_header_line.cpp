// Unit tests of the HTTP client's pure header-line parsing.
#include <doctest/doctest.h>

#include "agent/http/http_client.h"

using ingestd::parseHttpHeaderLine;

TEST_CASE("http: header lines are split into a lower-case name and a trimmed value") {
  std::string name;
  std::string value;
  REQUIRE(parseHttpHeaderLine("Retry-After: 7\r\n", name, value));
  CHECK(name == "retry-after");
  CHECK(value == "7");
  REQUIRE(parseHttpHeaderLine("X-Ms-Activity-Id:\tabc  \r\n", name, value));
  CHECK(name == "x-ms-activity-id");
  CHECK(value == "abc");
  REQUIRE(parseHttpHeaderLine("Empty:\r\n", name, value));
  CHECK(name == "empty");
  CHECK(value.empty());
  REQUIRE(parseHttpHeaderLine("Date: Mon, 01 Jan 2024 00:00:12 GMT\n", name, value));
  CHECK(value == "Mon, 01 Jan 2024 00:00:12 GMT");
}

TEST_CASE("http: status lines, blank lines and junk are not headers") {
  std::string name;
  std::string value;
  CHECK_FALSE(parseHttpHeaderLine("HTTP/1.1 200 OK\r\n", name, value));
  CHECK_FALSE(parseHttpHeaderLine("\r\n", name, value));
  CHECK_FALSE(parseHttpHeaderLine("", name, value));
  CHECK_FALSE(parseHttpHeaderLine("no colon here\r\n", name, value));
  CHECK_FALSE(parseHttpHeaderLine(": value\r\n", name, value));
  CHECK_FALSE(parseHttpHeaderLine(" folded continuation\r\n", name, value));
}
