// CheckpointStore: the plugin API over the core's checkpoint file (agent/checkpoint): loads on
// libuv's pool through fileWork(), writes through CheckpointWriter (one at a time, newest wins).
#include "agent/plugin/checkpoint.h"

#include "agent/checkpoint/checkpoint_file.h"
#include "agent/checkpoint/checkpoint_writer.h"
#include "agent/core/assert.h"
#include "agent/loop/loop.h"
#include "agent/plugin/loop.h"

namespace ingestd {

CheckpointStore::CheckpointStore(Loop& loop, Logger& log, std::string component, std::string path)
    : loop_(loop), writer_(std::make_shared<CheckpointWriter>()) {
  writer_->loop = loop.raw();
  writer_->log = &log;
  writer_->component = std::move(component);
  writer_->path = std::move(path);
}

CheckpointStore::~CheckpointStore() { writer_->on_idle = nullptr; }

const std::string& CheckpointStore::path() const { return writer_->path; }

void CheckpointStore::load(std::function<void(LoadedCheckpoint)> done) {
  INGESTD_ASSERT_ON_LOOP();
  auto loaded = std::make_shared<LoadedCheckpoint>();
  fileWork(
      loop_, [loaded, path = writer_->path] { *loaded = loadCheckpointFile(path); },
      [loaded, done = std::move(done)] { done(std::move(*loaded)); });
}

void CheckpointStore::save(const CheckpointData& data) {
  INGESTD_ASSERT_ON_LOOP();
  CheckpointWriter::write(writer_, encodeCheckpoint(data));
}

bool CheckpointStore::writing() const { return writer_->in_flight; }

bool CheckpointStore::lastFailed() const { return writer_->last_failed; }

std::uint64_t CheckpointStore::writes() const { return writer_->writes; }

void CheckpointStore::setOnIdle(std::function<void()> fn) { writer_->on_idle = std::move(fn); }

}  // namespace ingestd
