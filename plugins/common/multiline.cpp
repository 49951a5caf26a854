// Multiline: the record builder and the line classifiers (user patterns and the presets).
#include "plugins/common/multiline.h"

#include <array>
#include <utility>

#include "agent/core/assert.h"
#include "plugins/common/line_pattern.h"

namespace ingestd::inputs {

namespace {

constexpr std::array<std::string_view, 3> kPresets = {"java", "python", "go"};

// What a line does to the record being built.
enum class LineAction : std::uint8_t {
  kStart,    // ends the record being built; begins a new one
  kJoin,     // joins the record being built (begins one when there is none)
  kJoinEnd,  // joins it, and the record is then complete
  kSingle,   // ends the record being built; is a record of its own
};

class Classifier {
 public:
  virtual ~Classifier() = default;
  virtual LineAction classify(std::string_view line) = 0;
};

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}
bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool isBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') {
      return false;
    }
  }
  return true;
}
bool isIndented(std::string_view s) { return !s.empty() && (s[0] == ' ' || s[0] == '\t'); }

// start and/or continue patterns (the java preset is a continue pattern).
class PatternClassifier final : public Classifier {
 public:
  PatternClassifier(std::optional<LinePattern> start, std::optional<LinePattern> cont)
      : start_(std::move(start)), cont_(std::move(cont)) {}

  LineAction classify(std::string_view line) override {
    if (start_ && cont_) {
      if (start_->matches(line)) {
        return LineAction::kStart;
      }
      return cont_->matches(line) ? LineAction::kJoin : LineAction::kSingle;
    }
    if (start_) {
      return start_->matches(line) ? LineAction::kStart : LineAction::kJoin;
    }
    return cont_->matches(line) ? LineAction::kJoin : LineAction::kStart;
  }

 private:
  std::optional<LinePattern> start_;
  std::optional<LinePattern> cont_;
};

// Java stack traces: frames, "Caused by:", "Suppressed:", "... N more" (and logback's "... N
// common frames omitted"), and the exception line right after a log line
// ("java.lang.IllegalStateException: boom") join the line before them.
constexpr std::string_view kJavaContinue =
    R"(^(?:\s+at |\s*Caused by:|\s*Suppressed: |\s+\.\.\. \d+ (?:more|common frames omitted))"
    R"(|[\w$]+(?:\.[\w$]+)+(?:Exception|Error|Throwable)(?::|$)))";

// Python tracebacks: "Traceback (most recent call last):" joins the line before it (logging's
// logger.exception() writes the message first), indented lines join, the first line that is
// not indented is the exception ("ValueError: bad") and joins too. After it, blank and indented
// lines and a chained traceback ("During handling of the above exception, ...") still join.
class PythonClassifier final : public Classifier {
 public:
  LineAction classify(std::string_view line) override {
    const bool traceback = startsWith(line, "Traceback (most recent call last):");
    switch (state_) {
      case State::kNone:
        if (traceback) {
          state_ = State::kTrace;
          return LineAction::kJoin;
        }
        return LineAction::kStart;
      case State::kTrace:
        if (!isIndented(line) && !isBlank(line)) {
          state_ = State::kAfter;  // the exception line
        }
        return LineAction::kJoin;
      case State::kAfter:
        if (isIndented(line) || isBlank(line)) {
          return LineAction::kJoin;
        }
        if (startsWith(line, "During handling of the above exception") ||
            startsWith(line, "The above exception was the direct cause")) {
          state_ = State::kChain;
          return LineAction::kJoin;
        }
        state_ = traceback ? State::kTrace : State::kNone;
        return LineAction::kStart;
      case State::kChain:
        if (isBlank(line)) {
          return LineAction::kJoin;
        }
        state_ = traceback ? State::kTrace : State::kNone;
        return traceback ? LineAction::kJoin : LineAction::kStart;
    }
    return LineAction::kStart;
  }

 private:
  enum class State : std::uint8_t { kNone, kTrace, kAfter, kChain };
  State state_ = State::kNone;
};

// "goroutine 1 [running]:", "goroutine 7 gp=0xc000 m=0 mp=0x5d [chan receive]:"
bool isGoroutineHeader(std::string_view s) {
  return startsWith(s, "goroutine ") && s.size() > 10 && s[10] >= '0' && s[10] <= '9' &&
         endsWith(s, "]:");
}
// "main.main()", "main.(*T).m(0xc000010000, {0x4b5d40, 0x3})", "panic({0x45f2a0?, 0x4a6a08?})"
bool isGoFunctionLine(std::string_view s) {
  const std::size_t paren = s.find('(');
  return !s.empty() && !isIndented(s) && paren != std::string_view::npos && paren > 0 &&
         s.substr(0, paren).find(' ') == std::string_view::npos && s.back() == ')';
}

// Go panics: "panic: " or "fatal error: " begins a record; then blank lines, goroutine headers,
// function lines, indented file lines, "created by ...", "[signal ...]" join, and "exit status N"
// (go run) ends it. A goroutine header outside a panic joins the line before it (net/http's
// "http: panic serving ...: ..." log line is followed by the stack).
class GoClassifier final : public Classifier {
 public:
  LineAction classify(std::string_view line) override {
    const bool begins = startsWith(line, "panic: ") || startsWith(line, "fatal error: ");
    if (!in_panic_) {
      if (begins) {
        in_panic_ = true;
        return LineAction::kStart;
      }
      if (isGoroutineHeader(line)) {
        in_panic_ = true;
        return LineAction::kJoin;
      }
      return LineAction::kStart;
    }
    if (isBlank(line) || isIndented(line) || begins || isGoroutineHeader(line) ||
        isGoFunctionLine(line) || startsWith(line, "created by ") || startsWith(line, "[signal ") ||
        startsWith(line, "runtime stack:") || startsWith(line, "...additional frames elided...")) {
      return LineAction::kJoin;
    }
    in_panic_ = false;
    if (startsWith(line, "exit status ")) {
      return LineAction::kJoinEnd;
    }
    return LineAction::kStart;
  }

 private:
  bool in_panic_ = false;
};

Result<std::optional<LinePattern>> compileOptional(std::string_view what, const std::string& p) {
  if (p.empty()) {
    return std::optional<LinePattern>();
  }
  auto compiled = LinePattern::compile(p);
  if (!compiled) {
    return makeError(ErrorCode::kInvalidArgument, "the multiline {} pattern is invalid: {}", what,
                     compiled.error().message);
  }
  return std::optional<LinePattern>(std::move(compiled).value());
}

Result<std::unique_ptr<Classifier>> makeClassifier(const MultilineSettings& s) {
  if (!s.preset.empty()) {
    if (!s.start.empty() || !s.continue_pattern.empty()) {
      return makeError(ErrorCode::kInvalidArgument,
                       "a multiline preset cannot be combined with start or continue patterns");
    }
    if (s.preset == "java") {
      auto cont = LinePattern::compile(kJavaContinue);
      INGESTD_CHECK(cont.isOk());
      return std::unique_ptr<Classifier>(
          std::make_unique<PatternClassifier>(std::nullopt, std::move(cont).value()));
    }
    if (s.preset == "python") {
      return std::unique_ptr<Classifier>(std::make_unique<PythonClassifier>());
    }
    if (s.preset == "go") {
      return std::unique_ptr<Classifier>(std::make_unique<GoClassifier>());
    }
    return makeError(ErrorCode::kInvalidArgument,
                     "unknown multiline preset \"{}\" (known: java, python, go)", s.preset);
  }
  if (s.start.empty() && s.continue_pattern.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "multiline needs a start pattern, a continue pattern or a preset");
  }
  auto start = compileOptional("start", s.start);
  if (!start) {
    return start.error();
  }
  auto cont = compileOptional("continue", s.continue_pattern);
  if (!cont) {
    return cont.error();
  }
  return std::unique_ptr<Classifier>(
      std::make_unique<PatternClassifier>(std::move(start).value(), std::move(cont).value()));
}

}  // namespace

std::span<const std::string_view> multilinePresets() { return kPresets; }

struct Multiline::Impl {
  MultilineSettings settings;
  std::unique_ptr<Classifier> classifier;
  MultilineStats stats;
  // The record being built.
  bool pending = false;
  std::string text;
  ByteRange range;
  std::uint32_t lines = 0;
  bool truncated = false;
  Clock::Monotonic last_line{};

  void begin(std::string_view line, ByteRange r, Clock::Monotonic now, Sink sink) {
    const std::size_t max = settings.max_bytes;
    truncated = line.size() > max;
    text.assign(line.substr(0, max));
    range = r;
    lines = 1;
    pending = true;
    last_line = now;
    cutIfFull(sink);
  }

  void join(std::string_view line, ByteRange r, Clock::Monotonic now, Sink sink) {
    if (!pending) {
      begin(line, r, now, sink);
      return;
    }
    if (text.size() + 1 + line.size() > settings.max_bytes) {
      emit(MultilineEnd::kMaxBytes, sink);
      begin(line, r, now, sink);
      return;
    }
    text += '\n';
    text += line;
    range.end = r.end;
    ++lines;
    last_line = now;
    cutIfFull(sink);
  }

  // A record that cannot take another line is emitted at once.
  void cutIfFull(Sink sink) {
    if (lines >= settings.max_lines) {
      emit(MultilineEnd::kMaxLines, sink);
    } else if (text.size() >= settings.max_bytes) {
      emit(MultilineEnd::kMaxBytes, sink);
    }
  }

  void emit(MultilineEnd end, Sink sink) {
    INGESTD_ASSERT(pending);
    MultilineRecord rec;
    rec.text = text;
    rec.range = range;
    rec.lines = lines;
    rec.truncated = truncated;
    rec.end = end;
    ++stats.records;
    stats.lines += lines;
    stats.joined += lines > 1 ? 1 : 0;
    stats.cut_max_lines += end == MultilineEnd::kMaxLines ? 1 : 0;
    stats.cut_max_bytes += end == MultilineEnd::kMaxBytes ? 1 : 0;
    stats.timeouts += end == MultilineEnd::kTimeout ? 1 : 0;
    stats.truncated += truncated ? 1 : 0;
    pending = false;
    sink(rec);
    text.clear();
  }
};

Result<Multiline> Multiline::create(const MultilineSettings& settings) {
  auto classifier = makeClassifier(settings);
  if (!classifier) {
    return classifier.error();
  }
  auto impl = std::make_unique<Impl>();
  impl->settings = settings;
  impl->settings.max_lines = std::max<std::uint32_t>(settings.max_lines, 1);
  impl->settings.max_bytes = std::max<std::size_t>(settings.max_bytes, 1);
  impl->classifier = std::move(classifier).value();
  return Multiline(std::move(impl));
}

Multiline::Multiline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Multiline::Multiline(Multiline&&) noexcept = default;
Multiline& Multiline::operator=(Multiline&&) noexcept = default;
Multiline::~Multiline() = default;

void Multiline::push(std::string_view line, ByteRange range, Clock::Monotonic now, Sink sink) {
  Impl& m = *impl_;
  switch (m.classifier->classify(line)) {
    case LineAction::kStart:
      if (m.pending) {
        m.emit(MultilineEnd::kNextRecord, sink);
      }
      m.begin(line, range, now, sink);
      break;
    case LineAction::kJoin: m.join(line, range, now, sink); break;
    case LineAction::kJoinEnd:
      m.join(line, range, now, sink);
      if (m.pending) {
        m.emit(MultilineEnd::kComplete, sink);
      }
      break;
    case LineAction::kSingle:
      if (m.pending) {
        m.emit(MultilineEnd::kNextRecord, sink);
      }
      m.begin(line, range, now, sink);
      if (m.pending) {
        m.emit(MultilineEnd::kComplete, sink);
      }
      break;
  }
}

std::optional<Clock::Monotonic> Multiline::deadline() const {
  if (!impl_->pending || impl_->settings.timeout.count() == 0) {
    return std::nullopt;
  }
  return impl_->last_line + impl_->settings.timeout;
}

void Multiline::flushExpired(Clock::Monotonic now, Sink sink) {
  const auto due = deadline();
  if (due && *due <= now) {
    impl_->emit(MultilineEnd::kTimeout, sink);
  }
}

void Multiline::flush(Sink sink) {
  if (impl_->pending) {
    impl_->emit(MultilineEnd::kFlush, sink);
  }
}

bool Multiline::hasPending() const { return impl_->pending; }

std::optional<std::uint64_t> Multiline::pendingBegin() const {
  if (!impl_->pending) {
    return std::nullopt;
  }
  return impl_->range.begin;
}

const MultilineStats& Multiline::stats() const { return impl_->stats; }
const MultilineSettings& Multiline::settings() const { return impl_->settings; }

}  // namespace ingestd::inputs
