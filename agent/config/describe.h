// describeConfig: the readable summary `ingestd check` prints of what a configuration would run.
#pragma once

#include <string>

#include "agent/config/settings.h"

namespace ingestd {

// Multi-line text (ends with a newline): service settings, each input (type, tag) and each
// output (type, match, batch, concurrency, retry, buffer, compression). Plugin-specific
// settings come from each plugin's optional describe() when a registry is given; no value that
// could be a secret is shown.
class PluginRegistry;
std::string describeConfig(const Config& config, const PluginRegistry* registry = nullptr);

}  // namespace ingestd
