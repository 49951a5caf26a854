// libFuzzer harness for kusto-local's text parsers: control commands, the KQL subset (whole
// queries and management-command pipes) and ingestion mappings. They must never crash, hang or
// read out of bounds, whatever the bytes; results are checked for basic consistency.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tools/kusto-local/commands.h"
#include "tools/kusto-local/kql.h"
#include "tools/kusto-local/mapping.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  kusto_local::CommandParse command = kusto_local::parseCommand(text);
  if (command.command.has_value() == !command.error.empty()) {
    std::abort();  // exactly one of command / error must be set
  }
  if (command.command && command.command->kind == kusto_local::CommandKind::kCreateMapping) {
    (void)kusto_local::parseMapping(command.command->mapping_kind, command.command->literal);
  }
  kusto_local::KqlParse query = kusto_local::parseKql(text);
  if (query.query.has_value() == !query.error.empty()) {
    std::abort();
  }
  (void)kusto_local::parseKqlOperators(text);
  (void)kusto_local::parseJsonPath(text);
  return 0;
}
