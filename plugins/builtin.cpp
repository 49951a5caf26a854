// The one list of compiled-in plugins, one line each (no self-registering statics).
#include "agent/plugin/plugin.h"
#include "plugins/inputs/socket/socket_input.h"
#include "plugins/inputs/tail/tail_input.h"
#include "plugins/outputs/kusto/kusto_output.h"

namespace ingestd {

void registerBuiltins(PluginRegistry& registry) {
  registry.addInput<inputs::TailInput>();
  registry.addInput<inputs::TcpInput>();
  registry.addInput<inputs::UdpInput>();
  registry.addInput<inputs::UnixInput>();
  registry.addInput<inputs::SyslogInput>();
  registry.addOutput<outputs::KustoOutput>();
}

}  // namespace ingestd
