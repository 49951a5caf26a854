// The one list of compiled-in plugins, one line each (no self-registering statics).
#include "agent/plugin/plugin.h"
#include "plugins/inputs/socket/socket_input.h"
#include "plugins/inputs/stdin/stdin_input.h"
#include "plugins/inputs/tail/tail_input.h"
#include "plugins/outputs/kusto/kusto_output.h"
#include "plugins/parsers/cri/cri_parser.h"
#include "plugins/parsers/docker/docker_parser.h"
#include "plugins/parsers/logfmt/logfmt_parser.h"
#include "plugins/parsers/regex/regex_parser.h"
#include "plugins/parsers/syslog/syslog_parser.h"

namespace ingestd {

void registerBuiltins(PluginRegistry& registry) {
  registry.addInput<inputs::TailInput>();
  registry.addInput<inputs::TcpInput>();
  registry.addInput<inputs::UdpInput>();
  registry.addInput<inputs::UnixInput>();
  registry.addInput<inputs::UnixgramInput>();
  registry.addInput<inputs::SyslogInput>();
  registry.addInput<inputs::StdinPlugin>();
  registry.addOutput<outputs::KustoOutput>();
  registry.addParser<parsers::CriParser>();
  registry.addParser<parsers::DockerParser>();
  registry.addParser<parsers::LogfmtParser>();
  registry.addParser<parsers::RegexParser>();
  registry.addParser<parsers::SyslogParser>();
}

}  // namespace ingestd
