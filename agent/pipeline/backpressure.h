// Backpressure: the one place inputs learn "hold" and "go on" from. Every reason to stop
// reading is a cause with its own on/off state, registered by whoever owns it:
//   memory   the memory budget is full (MemoryBudget)
//   backlog  an output's raw records waiting for the encoders are above its high mark
//   stalled  an output's rejected block cannot be written to the dead-letter directory
// (and, with the disk buffer, a full spool). Inputs are held while any cause is on and released
// when the last one turns off; the listener hears only those two edges. Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ingestd {

class Backpressure {
 public:
  using CauseId = std::size_t;

  struct Cause {
    std::string kind;   // memory, backlog, stalled
    std::string owner;  // the output it belongs to ("" for process-wide causes)
    bool on = false;
    std::uint64_t times_on = 0;  // how often it turned on
  };

  // listener(true) when the first cause turns on, listener(false) when the last turns off.
  void setListener(std::function<void(bool hold)> listener) { listener_ = std::move(listener); }

  CauseId addCause(std::string kind, std::string owner = {});
  void set(CauseId id, bool on);

  bool holding() const { return active_ > 0; }
  // The causes on now, in words for a log line: "memory budget full; output \"k\": backlog".
  std::string describe() const;
  // How many causes of this kind are on (the ingestd_backpressure gauge).
  std::size_t activeOfKind(const std::string& kind) const;
  const std::vector<Cause>& causes() const { return causes_; }

 private:
  std::vector<Cause> causes_;
  std::size_t active_ = 0;
  std::function<void(bool)> listener_;
};

}  // namespace ingestd
