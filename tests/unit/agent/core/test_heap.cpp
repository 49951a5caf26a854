// BufferPool: warm large buffers shared by threads, bounded in count and size.
#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "agent/core/heap.h"

using ingestd::BufferPool;

TEST_CASE("buffer pool hands back the largest kept buffer, within its bounds") {
  BufferPool pool(2, 100, 1u << 20);
  CHECK(pool.take().empty());
  std::string a(1000, 'a');
  a.reserve(4096);
  const char* a_data = a.data();
  pool.give(std::move(a));
  pool.give(std::string(2u << 20, 'x'));  // over max_capacity: not kept
  pool.give(std::string(20, 's'));        // under min_capacity: not kept
  pool.give(std::string(200, 'b'));
  CHECK(pool.heldBytes() >= 4096 + 200);
  pool.give(std::string(150, 'c'));  // full, and smaller than any kept: dropped
  CHECK(pool.heldBytes() < 4096 + 200 + 150);
  std::string got = pool.take();
  CHECK(got.data() == a_data);  // the same allocation: its pages are warm
  CHECK(got.size() == 1000);    // as it was given
  CHECK(got.capacity() >= 4096);
  CHECK(pool.take().capacity() >= 200);
  CHECK(pool.take().empty());
}

TEST_CASE("a full buffer pool keeps a larger buffer in place of its smallest") {
  BufferPool pool(2, 100, 1u << 20);
  pool.give(std::string(200, 'a'));
  pool.give(std::string(300, 'b'));
  pool.give(std::string(5000, 'c'));  // replaces the 200-byte one
  CHECK(pool.take().size() == 5000);
  CHECK(pool.take().size() == 300);
  CHECK(pool.take().empty());
  pool.give(std::string(300, 'd'));
  pool.clear();
  CHECK(pool.heldBytes() == 0);
  CHECK(pool.take().empty());
}

TEST_CASE("buffer pool is safe to use from several threads") {
  BufferPool pool(4, 1024, 1u << 20);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool] {
      for (int i = 0; i < 2000; ++i) {
        std::string b = pool.take();
        b.resize(4096);
        b[0] = 'x';
        pool.give(std::move(b));
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  CHECK(pool.heldBytes() <= 4 * (1u << 20));
  CHECK(pool.heldBytes() > 0);
}
