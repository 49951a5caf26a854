// libFuzzer harness for kusto-local's whole request path in-process: HTTP parsing, then the
// Service (routing, auth and token endpoints, faults endpoint, ingest with gzip, mgmt and query
// into a real Engine). Catches crashes and exceptions escaping a handler.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tools/kusto-local/auth.h"
#include "tools/kusto-local/engine.h"
#include "tools/kusto-local/faults.h"
#include "tools/kusto-local/http_parser.h"
#include "tools/kusto-local/service.h"

namespace {

struct World {
  kusto_local::Engine engine{kusto_local::EngineOptions{64 * 1024, false, ""}};
  kusto_local::Auth auth{[] {
    kusto_local::AuthOptions o;
    o.clients = {{"app", "secret"}};
    return o;
  }()};
  kusto_local::Faults faults;
  kusto_local::Service service{engine, auth, faults, [] {
                                 kusto_local::ServiceOptions o;
                                 o.max_ingest_raw_bytes = 64 * 1024;
                                 return o;
                               }()};
  World() {
    engine.ensureDatabase("db");
    (void)engine.mgmt("db", ".create table t (a:string, b:long)");
    (void)engine.mgmt("db", ".alter table t policy streamingingestion enable");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  kusto_local::HttpLimits limits;
  limits.max_head_bytes = 8192;
  limits.max_body_bytes = 64 * 1024;
  kusto_local::HttpRequestParser parser(limits);
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (int requests = 0; !input.empty() && requests < 8; ++requests) {
    input.remove_prefix(parser.feed(input));
    kusto_local::HttpResponse response;
    if (parser.failed()) {
      world.service.handleParseError(parser.errorStatus(), parser.errorMessage(), parser.request(),
                                     response);
      break;
    }
    if (!parser.complete()) {
      break;
    }
    // Latency faults would make the fuzzer sleep; keep the settings fault-free.
    if (parser.request().path.find("faults") != std::string::npos) {
      parser.reset();
      continue;
    }
    world.service.handle(parser.request(), response);
    parser.reset();
  }
  return 0;
}
