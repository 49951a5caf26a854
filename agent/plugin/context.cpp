// PluginContext's services: each one wraps a piece of the core (Loop, libcurl client,
// checkpoint files) so that plugins need none of the core's headers.
#include "agent/plugin/context.h"

#include <fmt/format.h>

#include "agent/http/http_client.h"
#include "agent/loop/loop.h"

namespace ingestd {

void PluginContext::post(std::function<void()> fn) const { loop.post(std::move(fn)); }

void PluginContext::fileWork(std::function<void()> work, std::function<void()> done) const {
  ingestd::fileWork(loop, std::move(work), std::move(done));
}

std::unique_ptr<HttpClient> PluginContext::httpClient(HttpClientOptions options) const {
  return std::make_unique<CurlHttpClient>(loop, log, std::move(options));
}

std::unique_ptr<CheckpointStore> PluginContext::checkpointStore(std::string path) const {
  if (path.empty()) {
    // instance is "<type>/<name>"; the default file is <type>-<name>.json.
    std::string type = instance;
    if (type.size() > name.size() && type.ends_with("/" + name)) {
      type.resize(type.size() - name.size() - 1);
    }
    path = fmt::format("{}/{}-{}.json", state_dir, type, name);
  }
  return std::make_unique<CheckpointStore>(loop, log, "input " + instance, std::move(path));
}

}  // namespace ingestd
