// validateConfig (see validate.h): runs each plugin's validate() hook on its section.
#include "agent/config/validate.h"

#include <fmt/format.h>

namespace ingestd {

namespace {

template <class T>
Status validateSection(const PluginSection& section, const PluginRegistry::Factory<T>* factory,
                       ValidationReport& report) {
  if (factory == nullptr || !factory->validate) {
    return Status::ok();
  }
  try {
    return factory->validate(section.node, section.settings, report);
  } catch (const std::exception& e) {
    return section.node.error(fmt::format("cannot be checked: {}", e.what()));
  }
}

}  // namespace

Result<ConfigValidation> validateConfig(const Config& config, const PluginRegistry& registry) {
  ConfigValidation out;
  for (const PluginSection& in : config.inputs) {
    INGESTD_RETURN_IF_ERROR(
        validateSection(in, registry.findInput(in.type), out.inputs.emplace_back()));
  }
  for (const PluginSection& o : config.outputs) {
    INGESTD_RETURN_IF_ERROR(
        validateSection(o, registry.findOutput(o.type), out.outputs.emplace_back()));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> validationWarnings(
    const Config& config, const ConfigValidation& validation) {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](std::string_view kind, const std::vector<PluginSection>& sections,
                 const std::vector<ValidationReport>& reports) {
    for (std::size_t i = 0; i < sections.size() && i < reports.size(); ++i) {
      for (const std::string& w : reports[i].warnings) {
        out.emplace_back(fmt::format("{} {}/{}", kind, sections[i].type, sections[i].name), w);
      }
    }
  };
  add("input", config.inputs, validation.inputs);
  add("output", config.outputs, validation.outputs);
  return out;
}

}  // namespace ingestd
