// describeConfig: the readable summary `ingestd check` prints of what a configuration would run.
#pragma once

#include <string>

#include "agent/config/settings.h"

namespace ingestd {

// Multi-line text (ends with a newline): service settings, each input (type, tag) and each
// output (type, match, batch, concurrency, retry, buffer, compression). Plugin-specific
// settings are not shown (only the plugin knows them); no value that could be a secret is.
std::string describeConfig(const Config& config);

}  // namespace ingestd
