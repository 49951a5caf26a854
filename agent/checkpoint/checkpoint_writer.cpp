// CheckpointWriter: one checkpoint write at a time on libuv's thread pool, newest contents win.
#include "agent/checkpoint/checkpoint_writer.h"

#include "agent/checkpoint/checkpoint_file.h"
#include "agent/core/assert.h"

namespace ingestd {

namespace {
struct WriteReq {
  uv_work_t req{};
  std::shared_ptr<CheckpointWriter> writer;
  std::string contents;
  Status status;
};
}  // namespace

void CheckpointWriter::write(const std::shared_ptr<CheckpointWriter>& self, std::string contents) {
  if (self->in_flight) {
    self->next = std::move(contents);
    return;
  }
  self->in_flight = true;
  auto* w = new WriteReq;
  w->req.data = w;
  w->writer = self;
  w->contents = std::move(contents);
  int rc = uv_queue_work(
      self->loop, &w->req,
      [](uv_work_t* req) {
        auto* wr = static_cast<WriteReq*>(req->data);
        wr->status = writeCheckpointFile(wr->writer->path, wr->contents);
      },
      [](uv_work_t* req, int) {
        std::unique_ptr<WriteReq> wr(static_cast<WriteReq*>(req->data));
        auto writer = wr->writer;
        writer->in_flight = false;
        ++writer->writes;
        writer->last_failed = !wr->status.isOk();
        if (!wr->status.isOk()) {
          writer->log->logLimited(LogLevel::kError, writer->path, std::chrono::seconds(60),
                                  writer->component,
                                  wr->status.message() +
                                      " Offsets are kept in memory and saved "
                                      "again at the next checkpoint.");
        }
        if (writer->next) {
          std::string again = std::move(*writer->next);
          writer->next.reset();
          write(writer, std::move(again));
          return;
        }
        if (writer->on_idle) {
          auto fn = writer->on_idle;
          fn();
        }
      });
  INGESTD_CHECK(rc == 0);
}

}  // namespace ingestd
