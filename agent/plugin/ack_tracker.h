// AckTracker: for one file, the byte ranges handed to the pipeline in read order, acknowledged in
// any order, and the committed offset: the highest offset below which every range is
// acknowledged. Pure; loop thread only (no locking).
#pragma once

#include <cstdint>
#include <deque>

namespace ingestd {

class AckTracker {
 public:
  // Identifies one range for ack(). A ticket from before the last reset() is stale and ignored,
  // so ranges still in flight when a file was truncated cannot move the new committed offset.
  struct Ticket {
    std::uint64_t generation = 0;
    std::uint64_t seq = 0;
  };

  explicit AckTracker(std::uint64_t start = 0) : committed_(start), end_(start) {}

  // Hands out [start, end). Ranges are contiguous: start must equal end() (checked).
  Ticket add(std::uint64_t start, std::uint64_t end);
  // A range that needs no acknowledgement (e.g. the dropped tail of a truncated long line): it is
  // committed as soon as everything before it is.
  void addAcked(std::uint64_t start, std::uint64_t end);

  // Any order, at most once per ticket (a second ack of the same ticket is ignored). Returns
  // true when committed() moved.
  bool ack(Ticket ticket);

  // Starts a new generation at `start` (after a truncation): forgets pending ranges.
  void reset(std::uint64_t start);

  std::uint64_t committed() const { return committed_; }
  std::uint64_t end() const { return end_; }  // end of the last range handed out
  std::uint64_t generation() const { return generation_; }
  std::size_t pending() const { return ranges_.size(); }

 private:
  struct Range {
    std::uint64_t end;
    bool acked;
  };
  bool advance();

  std::uint64_t committed_;
  std::uint64_t end_;
  std::uint64_t generation_ = 0;
  std::uint64_t first_seq_ = 0;  // sequence number of ranges_.front()
  std::deque<Range> ranges_;
};

}  // namespace ingestd
