// validateConfig: the checks of a loaded Config against this machine, which loading itself may
// not make (it opens no files): every plugin's validate() (CA files exist and hold PEM
// certificates, `*_file` secrets exist and are readable, tail globs' directories exist).
// `ingestd check`, `run` and `send` all run it after loading and before starting anything, so
// what `check` accepts does not then fail forever at run time.
#pragma once

#include <vector>

#include "agent/config/settings.h"
#include "agent/plugin/plugin.h"

namespace ingestd {

struct ConfigValidation {
  std::vector<ValidationReport> inputs;   // one per Config::inputs, in the same order
  std::vector<ValidationReport> outputs;  // one per Config::outputs
};

// Blocking file-system calls: before the loop runs. The first error (file:line:col and key,
// never a secret value) as kInvalidArgument; warnings are in the reports. Never throws.
Result<ConfigValidation> validateConfig(const Config& config, const PluginRegistry& registry);

// Every warning of `validation` as {log component, message}: {"input tail/app", "..."}.
std::vector<std::pair<std::string, std::string>> validationWarnings(
    const Config& config, const ConfigValidation& validation);

}  // namespace ingestd
