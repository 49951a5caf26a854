// BufferPool and releaseFreeHeap (see heap.h).
#include "agent/core/heap.h"

#include <algorithm>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ingestd {

std::string BufferPool::take() {
  std::lock_guard<std::mutex> lock(mu_);
  if (free_.empty()) {
    return {};
  }
  std::string out = std::move(free_.back());
  free_.pop_back();
  return out;
}

void BufferPool::give(std::string&& buffer) {
  if (buffer.capacity() < min_capacity_ || buffer.capacity() > max_capacity_ || max_buffers_ == 0) {
    return;
  }
  std::string dropped;  // freed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  if (free_.size() >= max_buffers_) {
    if (free_.front().capacity() >= buffer.capacity()) {
      return;
    }
    dropped = std::move(free_.front());
    free_.erase(free_.begin());
  }
  free_.push_back(std::move(buffer));
  // Smallest first, largest last: take() hands out the one most likely to need no growth.
  std::sort(free_.begin(), free_.end(),
            [](const std::string& a, const std::string& b) { return a.capacity() < b.capacity(); });
}

void BufferPool::clear() {
  std::vector<std::string> drop;
  {
    std::lock_guard<std::mutex> lock(mu_);
    drop.swap(free_);
  }
}

std::size_t BufferPool::heldBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = 0;
  for (const auto& b : free_) {
    n += b.capacity();
  }
  return n;
}

BufferPool& blockBufferPool() {
  static BufferPool pool(2, 1u << 20, 8u << 20);  // blocks: at most 4 MiB plus one record
  return pool;
}

BufferPool& readBufferPool() {
  static BufferPool pool(4, 256u << 10, 4u << 20);  // tail reads are 1 MiB by default
  return pool;
}

BufferPool& compressScratchPool() {
  static BufferPool pool(2, 256u << 10, 16u << 20);
  return pool;
}

BufferPool& compressedBodyPool() {
  static BufferPool pool(4, 64u << 10, 8u << 20);
  return pool;
}

std::shared_ptr<const std::string> pooledBody(std::string&& body) {
  // Created non-const, so the deleter may take the buffer back.
  return std::shared_ptr<const std::string>(new std::string(std::move(body)),
                                            [](const std::string* s) {
                                              auto* owned = const_cast<std::string*>(s);
                                              compressedBodyPool().give(std::move(*owned));
                                              delete owned;
                                            });
}

void releaseFreeHeap() {
  blockBufferPool().clear();
  readBufferPool().clear();
  compressScratchPool().clear();
  compressedBodyPool().clear();
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

}  // namespace ingestd
