// StdinInput: standard input into record chunks (see stdin_input.h).
#include "plugins/inputs/stdin/stdin_input.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "agent/core/assert.h"
#include "agent/plugin/loop.h"
#include "plugins/common/framing_config.h"
#include "plugins/common/record_push.h"

namespace ingestd::inputs {

namespace {
constexpr std::size_t kFileReadBytes = 256u << 10;
}  // namespace

Result<StdinSettings> parseStdinSettings(const ConfigNode& node) {
  MapReader r(node);
  r.allow(kCoreInputKeys);
  StdinSettings s;
  s.tag = r.string("tag", r.string("name"));
  s.framing = readFramingSettings(r, FramingMode::kNewline);
  s.multiline = readMultilineSettings(r);
  INGESTD_RETURN_IF_ERROR(r.finish());
  return s;
}

std::string describeStdinSettings(const StdinSettings& s) {
  std::string out = fmt::format(
      "      reads:       standard input; at its end the input has finished (with only such "
      "inputs, ingestd delivers what it read and exits)\n"
      "      framing:     {}, max {} bytes per message\n",
      framingModeName(s.framing.mode), s.framing.max_message_bytes);
  if (s.multiline) {
    out += fmt::format("      multiline:   {}\n", describeMultiline(*s.multiline));
  }
  return out;
}

StdinInput::StdinInput(StdinSettings settings, PluginContext& ctx, int fd)
    : settings_(std::move(settings)),
      ctx_(ctx),
      component_("input " + ctx.instance),
      fd_(fd),
      framer_(settings_.framing) {}

StdinInput::~StdinInput() {
  *alive_ = false;
  if (!stream_ && fd_ >= 0 && !reading_file_) {
    ::close(fd_);
  }
}

Status StdinInput::start(RecordSink& sink) {
  sink_ = &sink;
  auto source = std::make_shared<SourceInfo>();
  source->input = ctx_.name;
  source->tag = settings_.tag;
  source->source = "stdin";
  source->format = ctx_.parser_name == "json" ? RecordFormat::kFramedJson : RecordFormat::kFramed;
  source->parser = ctx_.parser;
  source_ = std::move(source);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    return Error{ErrorCode::kIo, fmt::format("{}: standard input is not open: {}", component_,
                                             std::strerror(errno))};
  }
  if (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    // A terminal is a character device the loop can poll; other devices and files it cannot.
    auto opened = ::isatty(fd_) == 1 ? StreamConnection::openFd(ctx_.loop, fd_, "stdin")
                                     : Result<std::unique_ptr<StreamConnection>>(Error{});
    if (opened) {
      stream_ = std::move(opened).value();
    } else {
      file_mode_ = true;
    }
  } else {
    auto opened = StreamConnection::openFd(ctx_.loop, fd_, "stdin");
    if (!opened) {
      return Error{opened.error().code, fmt::format("{}: {}", component_, opened.error().message)};
    }
    stream_ = std::move(opened).value();
  }
  if (settings_.multiline && settings_.multiline->timeout.count() > 0) {
    ml_timer_ = std::make_unique<Timer>(ctx_.loop);
    auto every = std::max(std::chrono::milliseconds(20), settings_.multiline->timeout / 4);
    ml_timer_->startRepeating(every, [this] {
      if (paused_ || !ml_ || !ml_->hasPending()) {
        return;  // while paused, the next unread line may continue the record
      }
      const auto now = ctx_.clock.now();
      if (auto due = ml_->deadline(); !due || *due > now) {
        return;
      }
      std::string data;
      std::uint64_t records = 0;
      ml_->flushExpired(now, [&](const MultilineRecord& rec) {
        appendFramed(data, rec.text);
        ++records;
      });
      push(std::move(data), records);
    });
  }
  ctx_.log.info(component_, "Reading standard input ({}).",
                file_mode_ ? "a file" : (::isatty(fd_) == 1 ? "a terminal" : "a pipe or socket"));
  if (file_mode_) {
    readFileChunk();
  } else {
    stream_->read([this](std::string_view bytes) { onData(bytes); },
                  [this](const Status& s) { onEnd(s); });
  }
  return Status::ok();
}

void StdinInput::readFileChunk() {
  if (reading_file_ || paused_ || eof_ || stopping_) {
    return;
  }
  reading_file_ = true;
  struct Read {
    std::string buf;
    ssize_t n = 0;
    int err = 0;
  };
  auto r = std::make_shared<Read>();
  r->buf.resize(kFileReadBytes);
  ctx_.fileWork(
      [r, fd = fd_] {
        do {
          r->n = ::read(fd, r->buf.data(), r->buf.size());
        } while (r->n < 0 && errno == EINTR);
        r->err = r->n < 0 ? errno : 0;
      },
      [this, r, alive = std::weak_ptr<bool>(alive_)] {
        if (alive.expired()) {
          return;
        }
        reading_file_ = false;
        if (stopping_) {
          if (stop_done_) {
            auto done = std::move(stop_done_);
            stop_done_ = nullptr;
            ::close(fd_);
            fd_ = -1;
            done();
          }
          return;
        }
        if (r->n > 0) {
          onData(std::string_view(r->buf.data(), static_cast<std::size_t>(r->n)));
          readFileChunk();
          return;
        }
        onEnd(r->n == 0 ? Status::ok()
                        : Status(Error{ErrorCode::kIo,
                                       fmt::format("read failed: {}", std::strerror(r->err))}));
      });
}

void StdinInput::addFrame(const Frame& f, std::string& data, std::uint64_t& records) {
  if (!settings_.multiline) {
    appendFramed(data, f.data);
    ++records;
    return;
  }
  if (!ml_) {
    auto ml = Multiline::create(*settings_.multiline);
    INGESTD_ASSERT(ml.isOk());  // the patterns compiled when the config was parsed
    ml_.emplace(std::move(ml).value());
  }
  const ByteRange range{ml_offset_, ml_offset_ + f.data.size() + 1};
  ml_offset_ = range.end;
  ml_->push(f.data, range, ctx_.clock.now(), [&](const MultilineRecord& rec) {
    appendFramed(data, rec.text);
    ++records;
  });
}

void StdinInput::onData(std::string_view bytes) {
  if (ctx_.input_metrics != nullptr) {
    ctx_.input_metrics->bytes->Increment(static_cast<double>(bytes.size()));
  }
  std::string data;
  data.reserve(bytes.size() + bytes.size() / 8 + 64);  // the frames and their lengths, once
  std::uint64_t records = 0;
  const std::uint64_t truncated = framer_.stats().truncated;
  framer_.feed(bytes, [&](const Frame& f) { addFrame(f, data, records); });
  if (ctx_.input_metrics != nullptr && framer_.stats().truncated > truncated) {
    ctx_.input_metrics->dropped("truncated")
        .Increment(static_cast<double>(framer_.stats().truncated - truncated));
  }
  push(std::move(data), records);
}

void StdinInput::onEnd(const Status& st) {
  if (eof_) {
    return;
  }
  eof_ = true;
  if (!st) {
    ctx_.log.error(component_, "Cannot read standard input any more: {}.", st.message());
  }
  std::string data;
  std::uint64_t records = 0;
  // A last line without its newline is a whole line (files often end so); an octet-counted
  // message cut short is counted, not guessed at.
  framer_.finish([&](const Frame& f) {
    if (settings_.framing.mode == FramingMode::kNewline) {
      addFrame(f, data, records);
    }
  });
  if (settings_.framing.mode != FramingMode::kNewline && framer_.stats().incomplete_at_close > 0 &&
      ctx_.input_metrics != nullptr) {
    ctx_.input_metrics->dropped("incomplete")
        .Increment(static_cast<double>(framer_.stats().incomplete_at_close));
  }
  if (ml_) {
    ml_->flush([&](const MultilineRecord& rec) {
      appendFramed(data, rec.text);
      ++records;
    });
  }
  push(std::move(data), records);
  if (ml_timer_) {
    ml_timer_->stop();
  }
  ctx_.log.info(component_, "End of standard input after {} bytes.", framer_.stats().bytes);
  if (ctx_.finished) {
    ctx_.finished();
  }
}

void StdinInput::push(std::string data, std::uint64_t records) {
  pushRecords(*sink_, ctx_, source_, std::move(data), records);
}

void StdinInput::pause() {
  paused_ = true;
  if (stream_) {
    stream_->pauseReading();
  }
}

void StdinInput::resume() {
  paused_ = false;
  if (stream_) {
    stream_->resumeReading();
  } else if (file_mode_) {
    readFileChunk();
  }
}

void StdinInput::stop(std::function<void()> done) {
  stopping_ = true;
  if (ml_timer_) {
    ml_timer_->stop();
  }
  if (stream_) {
    stream_->close([alive = std::weak_ptr<bool>(alive_), done = std::move(done)] {
      if (!alive.expired()) {
        done();
      }
    });
    return;
  }
  if (reading_file_) {
    stop_done_ = std::move(done);  // after the read in progress (reads are short)
    return;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  done();
}

}  // namespace ingestd::inputs
