// libFuzzer harness: the YAML config loader with the real plugins' parse() behind it. Any input
// must give a Config or an Error, never a crash, a hang or an escaped exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/config/settings.h"
#include "agent/plugin/plugin.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ingestd::PluginRegistry* registry = [] {
    auto* r = new ingestd::PluginRegistry;
    ingestd::registerBuiltins(*r);
    return r;
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = ingestd::loadConfigText(text, "fuzz.yaml", *registry);
  if (!config) {
    // Every error names the file.
    if (config.error().message.find("fuzz.yaml") == std::string::npos) {
      __builtin_trap();
    }
  }
  return 0;
}
