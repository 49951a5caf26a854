// Backpressure: inputs hear two edges only, whatever the number of causes.
#include <doctest/doctest.h>

#include <vector>

#include "agent/pipeline/backpressure.h"

using ingestd::Backpressure;

TEST_CASE("backpressure holds while any cause is on and releases when the last turns off") {
  Backpressure p;
  std::vector<bool> edges;
  p.setListener([&](bool hold) { edges.push_back(hold); });
  const auto memory = p.addCause("memory");
  const auto backlog = p.addCause("backlog", "k1");
  const auto stalled = p.addCause("stalled", "k2");
  CHECK_FALSE(p.holding());
  CHECK(p.describe().empty());

  p.set(backlog, true);
  p.set(backlog, true);  // no change: no edge
  p.set(memory, true);
  CHECK(p.holding());
  CHECK(edges == std::vector<bool>{true});
  CHECK(p.describe() == "memory budget full; output \"k1\": backlog");
  CHECK(p.activeOfKind("backlog") == 1);
  CHECK(p.activeOfKind("stalled") == 0);

  p.set(backlog, false);
  CHECK(p.holding());  // memory still on
  CHECK(edges.size() == 1);
  p.set(stalled, true);
  p.set(memory, false);
  CHECK(edges.size() == 1);
  CHECK(p.describe() == "output \"k2\": stalled");
  p.set(stalled, false);
  CHECK_FALSE(p.holding());
  CHECK(edges == std::vector<bool>{true, false});
  CHECK(p.causes()[memory].times_on == 1);
  CHECK(p.causes()[backlog].times_on == 1);
  p.set(stalled, false);  // off again: nothing
  CHECK(edges.size() == 2);
}
