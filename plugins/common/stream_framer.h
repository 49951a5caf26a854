// StreamFramer: cuts the byte stream of one stream-socket connection (TCP, Unix stream, stdin)
// into frames: newline, RFC 6587 octet counting, or a per-frame choice of the two. Pure logic:
// no sockets, no clock. One framer per connection, used by one thread (the loop thread).
//
// Rules (docs/configuration.md "Framing" says the same for users):
// - newline: a frame ends at LF; one CR right before the LF is removed. Empty lines are not
//   frames (skipped, not counted).
// - octet-counted (RFC 6587 3.4.1): `LEN SP MSG`. LEN is 1 to kMaxOctetDigits decimal digits
//   without a leading zero; MSG is exactly LEN bytes (it may hold LFs). CR and LF bytes between
//   frames are skipped (many senders end each frame with a newline). A header that breaks the
//   rule (a leading zero, LEN 0, a non-digit before the SP, more than kMaxOctetDigits digits) is a
//   framing error: it is counted, and the bytes from there up to the next LF are delivered as one
//   frame with `framing_error` set (newline rules, max_message_bytes applies). Octet counting
//   resumes after that LF. So a sender that lost sync, or that frames with newlines, loses no
//   data and costs no more memory than a long line.
// - auto: decided per frame. A frame that starts with a digit 1-9, followed by at most
//   kMaxOctetDigits - 1 further digits and a SP, is octet-counted; anything else is a newline
//   frame (the header bytes included), and never a framing error. CR and LF bytes at a frame start
//   are skipped, as in octet-counted mode. Ambiguity: a newline-framed line that starts like a
//   header ("200 OK\n") is read as octet-counted, so it and the bytes after it are framed wrongly
//   until the count runs out. Syslog messages start with '<', so syslog senders are never
//   ambiguous; for raw lines that may start with digits, use `newline`.
// - max_message_bytes: a frame whose content is longer is delivered truncated to that many bytes
//   (`truncated` set, counted) as soon as they are in; the rest is skipped without being buffered
//   (newline: up to the next LF; octet-counted: the remaining LEN bytes).
// - finish() (the connection closed): a frame in progress is delivered with `incomplete` set
//   and counted in incomplete_at_close: its bytes are kept, but it is marked, never passed off as
//   complete (the caller decides: the socket inputs deliver it flagged or drop it, counted).
//   When the frame in progress had already been delivered truncated, nothing more is delivered;
//   it is still counted as incomplete.
//
// Memory: the framer holds at most max(max_message_bytes + 1, kMaxOctetDigits) bytes (of a frame
// that spans feed() calls), whatever the input. Frames that lie within one feed() are not copied.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plugins/common/function_ref.h"

namespace ingestd::inputs {

enum class FramingMode : std::uint8_t {
  kNewline,
  kOctetCounted,
  kAuto,
};

// "newline", "octet-counted", "auto".
std::string_view framingModeName(FramingMode mode);

// The most digits an octet count may have: LEN < 10^9, so the count fits easily and a header is
// never longer than 10 bytes.
inline constexpr std::size_t kMaxOctetDigits = 9;

struct FramingSettings {
  FramingMode mode = FramingMode::kAuto;
  std::size_t max_message_bytes = 64u << 10;  // content bytes per frame; at least 1
};

struct Frame {
  // The frame's content (no LF, no trailing CR, no octet-count header). Points into the data
  // passed to feed() or into the framer's buffer: valid only during the sink call.
  std::string_view data;
  bool truncated = false;      // content was longer than max_message_bytes; the rest skipped
  bool framing_error = false;  // octet-counted mode: delivered up to LF after a bad header
  bool incomplete = false;     // from finish(): the connection closed inside this frame
};

struct FramerStats {
  std::uint64_t frames = 0;  // frames delivered by feed(), truncated and framing-error ones too
  std::uint64_t bytes = 0;   // content bytes of every delivered frame (incomplete ones too)
  std::uint64_t truncated = 0;
  std::uint64_t framing_errors = 0;
  std::uint64_t incomplete_at_close = 0;
  // Bytes of truncated frames not delivered (of a line: all up to its LF, a CR included).
  std::uint64_t dropped_bytes = 0;
};

class StreamFramer {
 public:
  // Called once per frame, in stream order, from within feed() or finish().
  using Sink = FunctionRef<void(const Frame&)>;

  explicit StreamFramer(FramingSettings settings);

  // Frames data[0, n): every frame completed by it goes to `sink`; the incomplete tail is kept
  // for the next call. Never fails: bad input becomes counted, flagged frames.
  void feed(const char* data, std::size_t n, Sink sink);
  void feed(std::string_view data, Sink sink) { feed(data.data(), data.size(), sink); }
  // End of stream: delivers the frame in progress, if any, as `incomplete`. The framer is then
  // ready for a new stream (its stats are kept).
  void finish(Sink sink);

  const FramerStats& stats() const { return stats_; }
  const FramingSettings& settings() const { return settings_; }
  // Bytes held for a frame that spans feed() calls; at most maxBufferedBytes().
  std::size_t bufferedBytes() const { return buf_.size() + hdr_len_; }
  std::size_t maxBufferedBytes() const {
    return std::max(settings_.max_message_bytes + 1, kMaxOctetDigits);
  }
  // True between frames (nothing buffered, nothing being skipped).
  bool atFrameBoundary() const { return state_ == State::kFrameStart; }

 private:
  enum class State : std::uint8_t {
    kFrameStart,  // before the first byte of a frame
    kHeader,      // reading the digits of an octet count
    kOctetBody,   // reading LEN bytes of message
    kLine,        // reading up to LF
    kSkipLine,    // after a truncated line: skipping up to LF
    kSkipOctets,  // after a truncated octet-counted frame: skipping its remaining bytes
  };

  // Each handles the bytes from p on in its state and returns where it stopped. `begin` is the
  // current frame's first byte when the frame began in this feed() call, else nullptr.
  const char* frameStart(const char* p, const char* end);
  const char* header(const char* p, const char* end, const char* begin);
  const char* octetBody(const char* p, const char* end, Sink sink);
  const char* line(const char* p, const char* end, const char* begin, Sink sink);
  // A whole line (without its LF): strips one CR, skips it when empty, applies the max rule.
  void deliverLine(std::string_view raw, Sink sink);
  void deliver(std::string_view data, bool truncated, Sink sink);
  // What looked like a header is not one: the frame is a line, its digits its first bytes
  // (`error`: octet-counted mode, where that is a framing error).
  void headerToLine(const char* begin, bool error);

  FramingSettings settings_;
  FramerStats stats_;
  State state_ = State::kFrameStart;
  std::string buf_;                // the part of the current frame from earlier feed() calls
  char hdr_[kMaxOctetDigits + 1];  // header digits from earlier feed() calls
  std::size_t hdr_len_ = 0;        // digits read of the current header
  std::uint64_t octets_ = 0;       // LEN being read, then the message bytes not yet skipped
  std::size_t octet_keep_ = 0;     // message bytes to deliver: min(LEN, max_message_bytes)
  bool truncate_octets_ = false;   // the octet-counted frame being read is longer than max
  bool line_error_ = false;        // the line being read follows a bad header (octet-counted)
};

}  // namespace ingestd::inputs
