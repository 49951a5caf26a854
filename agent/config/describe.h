// describeConfig: the readable summary `ingestd check` prints of what a configuration would run.
#pragma once

#include <string>

#include "agent/config/settings.h"

namespace ingestd {

// Multi-line text (ends with a newline): service settings, each input (type, tag, the outputs
// its tag reaches) and each output (type, match, batch, concurrency, retry, buffer,
// compression). Plugin-specific settings come from each plugin's optional describe() when a
// registry is given; with `validation` (what validateConfig() found) they also say what was
// checked, and each section's warnings follow it. No value that could be a secret is shown.
class PluginRegistry;
struct ConfigValidation;
std::string describeConfig(const Config& config, const PluginRegistry* registry = nullptr,
                           const ConfigValidation* validation = nullptr);

}  // namespace ingestd
