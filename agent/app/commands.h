// The ingestd commands (DESIGN.md section 6). Each returns the process exit code:
// 0 success, 1 runtime failure, 2 bad usage or bad configuration.
#pragma once

#include <string>
#include <vector>

namespace ingestd {

class PluginRegistry;

int runCommand(const std::string& config_path, const PluginRegistry& registry);
int checkCommand(const std::string& config_path, const PluginRegistry& registry);
int sendCommand(const std::string& config_path, const std::string& output_name,
                const std::vector<std::string>& files, const PluginRegistry& registry);

}  // namespace ingestd
