// StreamFramer: the framing state machine (rules in stream_framer.h).
#include "plugins/common/stream_framer.h"

#include <algorithm>
#include <cstring>

namespace ingestd::inputs {

std::string_view framingModeName(FramingMode mode) {
  switch (mode) {
    case FramingMode::kNewline: return "newline";
    case FramingMode::kOctetCounted: return "octet-counted";
    case FramingMode::kAuto: return "auto";
  }
  return "?";
}

StreamFramer::StreamFramer(FramingSettings settings) : settings_(settings), hdr_{} {
  settings_.max_message_bytes = std::max<std::size_t>(settings_.max_message_bytes, 1);
}

void StreamFramer::feed(const char* data, std::size_t n, Sink sink) {
  const char* p = data;
  const char* const end = data + n;
  // The first byte of the current frame when it began in this data (then buf_ is empty);
  // nullptr when it began in an earlier call (its bytes so far are in buf_ / hdr_).
  const char* begin = nullptr;
  while (p < end) {
    switch (state_) {
      case State::kFrameStart:
        p = frameStart(p, end);
        begin = p;
        break;
      case State::kHeader: p = header(p, end, begin); break;
      case State::kOctetBody: p = octetBody(p, end, sink); break;
      case State::kLine: p = line(p, end, begin, sink); break;
      case State::kSkipLine: {
        const auto* lf = static_cast<const char*>(std::memchr(p, '\n', end - p));
        const char* stop = lf != nullptr ? lf : end;
        stats_.dropped_bytes += stop - p;
        p = lf != nullptr ? lf + 1 : end;
        if (lf != nullptr) {
          state_ = State::kFrameStart;
        }
        break;
      }
      case State::kSkipOctets: {
        const auto take = static_cast<std::size_t>(
            std::min<std::uint64_t>(octets_, static_cast<std::uint64_t>(end - p)));
        p += take;
        octets_ -= take;
        stats_.dropped_bytes += take;
        if (octets_ == 0) {
          state_ = State::kFrameStart;
        }
        break;
      }
    }
  }
}

const char* StreamFramer::frameStart(const char* p, const char* end) {
  line_error_ = false;
  if (settings_.mode == FramingMode::kNewline) {
    state_ = State::kLine;
    return p;
  }
  while (p < end && (*p == '\n' || *p == '\r')) {
    ++p;  // separators between octet-counted frames
  }
  if (p == end) {
    return p;
  }
  if (*p >= '1' && *p <= '9') {
    state_ = State::kHeader;
    hdr_len_ = 0;
    octets_ = 0;
    return p;
  }
  state_ = State::kLine;
  if (settings_.mode == FramingMode::kOctetCounted) {
    line_error_ = true;
    ++stats_.framing_errors;
  }
  return p;
}

const char* StreamFramer::header(const char* p, const char* end, const char* begin) {
  while (p < end) {
    const char c = *p;
    if (c >= '0' && c <= '9' && hdr_len_ < kMaxOctetDigits) {
      if (begin == nullptr) {
        hdr_[hdr_len_] = c;
      }
      ++hdr_len_;
      octets_ = octets_ * 10 + static_cast<std::uint64_t>(c - '0');
      ++p;
      continue;
    }
    if (c == ' ') {
      const std::size_t max = settings_.max_message_bytes;
      truncate_octets_ = octets_ > max;
      octet_keep_ = truncate_octets_ ? max : static_cast<std::size_t>(octets_);
      hdr_len_ = 0;
      state_ = State::kOctetBody;
      return p + 1;
    }
    // Not a header after all (a tenth digit or another byte): the frame is a line.
    headerToLine(begin, settings_.mode == FramingMode::kOctetCounted);
    return p;
  }
  if (begin != nullptr) {
    std::memcpy(hdr_, begin, hdr_len_);
  }
  return end;
}

void StreamFramer::headerToLine(const char* begin, bool error) {
  state_ = State::kLine;
  line_error_ = error;
  if (error) {
    ++stats_.framing_errors;
  }
  if (begin == nullptr) {
    buf_.assign(hdr_, hdr_len_);  // the line's first bytes; begin != nullptr: still in the data
  }
  hdr_len_ = 0;
}

const char* StreamFramer::octetBody(const char* p, const char* end, Sink sink) {
  const auto avail = static_cast<std::size_t>(end - p);
  const std::size_t need = octet_keep_ - buf_.size();
  if (avail < need) {
    buf_.append(p, avail);
    return end;
  }
  if (buf_.empty()) {
    deliver({p, need}, truncate_octets_, sink);
  } else {
    buf_.append(p, need);
    deliver(buf_, truncate_octets_, sink);
    buf_.clear();
  }
  octets_ -= octet_keep_;
  state_ = octets_ != 0 ? State::kSkipOctets : State::kFrameStart;
  return p + need;
}

const char* StreamFramer::line(const char* p, const char* end, const char* begin, Sink sink) {
  const std::size_t max = settings_.max_message_bytes;
  const char* from = begin != nullptr ? begin : p;
  const auto* lf = static_cast<const char*>(std::memchr(p, '\n', end - p));
  if (lf != nullptr) {
    if (buf_.empty()) {
      deliverLine({from, static_cast<std::size_t>(lf - from)}, sink);
    } else {
      const std::size_t total = buf_.size() + static_cast<std::size_t>(lf - from);
      if (total <= max + 1) {
        buf_.append(from, lf - from);
        deliverLine(buf_, sink);
      } else {  // longer than max even without a CR: buf_ holds at most max + 1 bytes
        if (buf_.size() < max) {
          buf_.append(from, max - buf_.size());
        }
        stats_.dropped_bytes += total - max;
        deliver(std::string_view(buf_).substr(0, max), true, sink);
      }
      buf_.clear();
    }
    state_ = State::kFrameStart;
    return lf + 1;
  }
  // No LF yet. Keep up to max + 1 bytes: a line of max bytes may still end with CR LF.
  const std::size_t have = buf_.size() + static_cast<std::size_t>(end - from);
  const char last = end[-1];
  if (have < max + 1 || (have == max + 1 && last == '\r')) {
    buf_.append(from, end - from);
    return end;
  }
  stats_.dropped_bytes += have - max;
  if (buf_.empty()) {
    deliver({from, max}, true, sink);
  } else {
    if (buf_.size() < max) {
      buf_.append(from, max - buf_.size());
    }
    deliver(std::string_view(buf_).substr(0, max), true, sink);
    buf_.clear();
  }
  state_ = State::kSkipLine;
  return end;
}

void StreamFramer::deliverLine(std::string_view raw, Sink sink) {
  std::string_view content = raw;
  if (!content.empty() && content.back() == '\r') {
    content.remove_suffix(1);
  }
  if (content.empty()) {
    return;  // an empty line is not a frame
  }
  const std::size_t max = settings_.max_message_bytes;
  if (content.size() > max) {
    stats_.dropped_bytes += raw.size() - max;  // a truncated line's CR is dropped with it
    deliver(content.substr(0, max), true, sink);
  } else {
    deliver(content, false, sink);
  }
}

void StreamFramer::deliver(std::string_view data, bool truncated, Sink sink) {
  ++stats_.frames;
  stats_.bytes += data.size();
  stats_.truncated += truncated ? 1 : 0;
  Frame f;
  f.data = data;
  f.truncated = truncated;
  f.framing_error = line_error_;
  sink(f);
}

void StreamFramer::finish(Sink sink) {
  Frame f;
  f.incomplete = true;
  bool deliver_it = true;
  switch (state_) {
    case State::kFrameStart: return;
    case State::kHeader:  // digits only: auto mode would have read them as a line
      f.data = std::string_view(hdr_, std::min(hdr_len_, settings_.max_message_bytes));
      f.truncated = hdr_len_ > settings_.max_message_bytes;
      stats_.truncated += f.truncated ? 1 : 0;
      stats_.dropped_bytes += hdr_len_ - f.data.size();
      break;
    case State::kLine:
      f.data = std::string_view(buf_).substr(0, settings_.max_message_bytes);
      f.framing_error = line_error_;
      break;
    case State::kOctetBody: f.data = buf_; break;
    case State::kSkipLine:
    case State::kSkipOctets:
      deliver_it = false;  // already delivered truncated
      break;
  }
  ++stats_.incomplete_at_close;
  if (deliver_it) {
    stats_.bytes += f.data.size();
    sink(f);
  }
  state_ = State::kFrameStart;
  buf_.clear();
  hdr_len_ = 0;
  octets_ = 0;
  line_error_ = false;
}

}  // namespace ingestd::inputs
