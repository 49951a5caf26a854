// Backpressure implementation (see backpressure.h).
#include "agent/pipeline/backpressure.h"

#include <fmt/format.h>

namespace ingestd {

Backpressure::CauseId Backpressure::addCause(std::string kind, std::string owner) {
  causes_.push_back(Cause{.kind = std::move(kind), .owner = std::move(owner)});
  return causes_.size() - 1;
}

void Backpressure::set(CauseId id, bool on) {
  Cause& c = causes_.at(id);
  if (c.on == on) {
    return;
  }
  c.on = on;
  if (on) {
    ++c.times_on;
    if (++active_ == 1 && listener_) {
      listener_(true);
    }
  } else if (--active_ == 0 && listener_) {
    listener_(false);
  }
}

std::string Backpressure::describe() const {
  std::string out;
  for (const auto& c : causes_) {
    if (!c.on) {
      continue;
    }
    if (!out.empty()) {
      out += "; ";
    }
    if (c.kind == "memory") {
      out += "memory budget full";
    } else if (c.owner.empty()) {
      out += c.kind;
    } else {
      out += fmt::format("output \"{}\": {}", c.owner, c.kind);
    }
  }
  return out;
}

std::size_t Backpressure::activeOfKind(const std::string& kind) const {
  std::size_t n = 0;
  for (const auto& c : causes_) {
    n += (c.on && c.kind == kind) ? 1 : 0;
  }
  return n;
}

}  // namespace ingestd
