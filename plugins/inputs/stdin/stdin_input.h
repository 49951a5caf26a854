// The stdin input: reads the daemon's standard input (a pipe, a socket, a terminal or a file it
// was started with: `producer | ingestd run -c FILE`, `ingestd run -c FILE < app.log`), frames
// it like a stream socket (`newline` by default, `octet-counted`, `auto`), optionally joins
// multiline records, and at end of input tells the core it has finished: when every input has
// finished, ingestd delivers what it holds and exits 0. Loop thread only.
//
// Pipes, sockets and terminals are read on the loop (StreamConnection::openFd); regular files
// and devices, which the loop cannot poll, with reads of 256 KiB on the file-work pool.
// Backpressure: pause() stops reading, so a producer writing into the pipe blocks. What was read
// lives in memory until delivered: a crash loses it (README "Delivery guarantees").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agent/plugin/context.h"
#include "agent/plugin/net.h"
#include "agent/plugin/plugin.h"
#include "plugins/common/multiline.h"
#include "plugins/common/stream_framer.h"

namespace ingestd::inputs {

struct StdinSettings {
  std::string tag;
  FramingSettings framing;  // default newline
  std::optional<MultilineSettings> multiline;
};

Result<StdinSettings> parseStdinSettings(const ConfigNode& node);
std::string describeStdinSettings(const StdinSettings& s);

class StdinInput : public Input {
 public:
  // `fd`: what to read (0; tests pass a pipe or a file). The input owns it and closes it.
  StdinInput(StdinSettings settings, PluginContext& ctx, int fd = 0);
  ~StdinInput() override;

  Status start(RecordSink& sink) override;
  void pause() override;
  void resume() override;
  void stop(std::function<void()> done) override;

  bool atEndForTest() const { return eof_; }

 private:
  void onData(std::string_view bytes);
  void onEnd(const Status& st);
  void readFileChunk();  // file mode: one read on the file-work pool
  void addFrame(const Frame& f, std::string& data, std::uint64_t& records);
  void push(std::string data, std::uint64_t records);

  StdinSettings settings_;
  PluginContext& ctx_;
  std::string component_;
  int fd_;
  RecordSink* sink_ = nullptr;
  std::shared_ptr<const SourceInfo> source_;
  StreamFramer framer_;
  std::optional<Multiline> ml_;
  std::uint64_t ml_offset_ = 0;
  std::unique_ptr<Timer> ml_timer_;
  std::unique_ptr<StreamConnection> stream_;  // pipe, socket, terminal
  bool file_mode_ = false;                    // regular file or device: reads on the pool
  bool reading_file_ = false;                 // a pool read is running
  bool paused_ = false;
  bool eof_ = false;
  bool stopping_ = false;
  std::function<void()> stop_done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

struct StdinPlugin {
  static constexpr std::string_view kName = "stdin";
  using Settings = StdinSettings;
  static Result<Settings> parse(const ConfigNode& node) { return parseStdinSettings(node); }
  static Result<std::unique_ptr<Input>> create(const Settings& s, PluginContext& ctx) {
    return std::unique_ptr<Input>(std::make_unique<StdinInput>(s, ctx));
  }
  static std::string describe(const Settings& s) { return describeStdinSettings(s); }
};

}  // namespace ingestd::inputs
