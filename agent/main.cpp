// ingestd: flags, load config, run — nothing else (the commands live in agent/app/).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agent/app/commands.h"
#include "agent/plugin/plugin.h"

namespace {

constexpr const char* kUsage =
    "usage: ingestd [run] [-c FILE]            run the daemon (default command)\n"
    "       ingestd check [-c FILE]            validate the config, print a summary\n"
    "       ingestd send [-c FILE] [--output NAME] FILE...   ingest files once, exit\n"
    "       ingestd version\n"
    "options: -c, --config FILE   config file (default /etc/ingestd/ingestd.yaml)\n"
    "exit codes: 0 success, 1 runtime failure, 2 bad usage or bad configuration\n";

int usageError(const std::string& what) {
  std::fprintf(stderr, "ingestd: %s\n%s", what.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command = "run";
  std::size_t i = 0;
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
    command = args[0];
    i = 1;
  }
  std::string config = "/etc/ingestd/ingestd.yaml";
  std::string output;
  std::vector<std::string> files;
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "-c" || a == "--config" || a == "--output") {
      if (i + 1 >= args.size()) {
        return usageError(a + " needs a value");
      }
      (a == "--output" ? output : config) = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config = a.substr(9);
    } else if (a.rfind("--output=", 0) == 0) {
      output = a.substr(9);
    } else if (command == "send" && (a.empty() || a[0] != '-' || a == "-")) {
      files.push_back(a);
    } else {
      return usageError("unknown argument '" + a + "'");
    }
  }

  ingestd::PluginRegistry registry;
  ingestd::registerBuiltins(registry);
  if (command == "version" || command == "--version") {
    std::printf("ingestd %s\n", INGESTD_VERSION);
    return 0;
  }
  if (command == "run") {
    return ingestd::runCommand(config, registry);
  }
  if (command == "check") {
    return ingestd::checkCommand(config, registry);
  }
  if (command == "send") {
    if (files.empty()) {
      return usageError("send needs at least one FILE");
    }
    return ingestd::sendCommand(config, output, files, registry);
  }
  return usageError("unknown command '" + command + "'");
}
