// AckTracker: ranges in read order, acknowledged in any order; the committed offset only moves
// over a prefix of acknowledged ranges.
#include "agent/plugin/ack_tracker.h"

#include "agent/core/assert.h"

namespace ingestd {

AckTracker::Ticket AckTracker::add(std::uint64_t start, std::uint64_t end) {
  INGESTD_CHECK(start == end_ && end >= start);
  Ticket t{generation_, first_seq_ + ranges_.size()};
  ranges_.push_back(Range{end, false});
  end_ = end;
  return t;
}

void AckTracker::addAcked(std::uint64_t start, std::uint64_t end) {
  INGESTD_CHECK(start == end_ && end >= start);
  ranges_.push_back(Range{end, true});
  end_ = end;
  advance();
}

bool AckTracker::ack(Ticket ticket) {
  if (ticket.generation != generation_ || ticket.seq < first_seq_ ||
      ticket.seq >= first_seq_ + ranges_.size()) {
    return false;  // stale generation, or already acknowledged and committed
  }
  ranges_[ticket.seq - first_seq_].acked = true;
  return advance();
}

bool AckTracker::advance() {
  bool moved = false;
  while (!ranges_.empty() && ranges_.front().acked) {
    committed_ = ranges_.front().end;
    ranges_.pop_front();
    ++first_seq_;
    moved = true;
  }
  return moved;
}

void AckTracker::reset(std::uint64_t start) {
  ++generation_;
  ranges_.clear();
  first_seq_ = 0;
  committed_ = start;
  end_ = start;
}

}  // namespace ingestd
