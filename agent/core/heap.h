// Large buffers and the heap. Blocks (up to 4 MiB), reads (1 MiB) and compressor scratch come
// from malloc's heap and from BufferPools of warm buffers, so reading and encoding reuse pages
// instead of faulting in fresh ones for every buffer (on a virtualised host that cost three
// times the CPU of the whole pipeline). While the pipeline holds inputs for a while (an outage),
// releaseFreeHeap() empties the pools and hands freed heap pages back to the kernel, so RSS
// follows what is held, not what once was.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ingestd {

// A few large buffers kept for reuse, shared by every thread. Thread-safe.
class BufferPool {
 public:
  // Keeps at most max_buffers, each of a capacity in [min_capacity, max_capacity]: small ones
  // are not worth keeping (they would crowd out the large ones), huge ones are one-offs.
  BufferPool(std::size_t max_buffers, std::size_t min_capacity, std::size_t max_capacity)
      : max_buffers_(max_buffers), min_capacity_(min_capacity), max_capacity_(max_capacity) {}

  // The largest buffer kept (with the size it had when given: resizing up to that zero-fills
  // nothing), or an empty string.
  std::string take();
  // Keeps `buffer` if its capacity is within bounds and there is room, or it is larger than the
  // smallest one kept (which it then replaces).
  void give(std::string&& buffer);
  void clear();
  std::size_t heldBytes() const;

 private:
  const std::size_t max_buffers_;
  const std::size_t min_capacity_;
  const std::size_t max_capacity_;
  mutable std::mutex mu_;
  std::vector<std::string> free_;
};

// Encoded block buffers (agent/pipeline/encoder), compressor scratch (agent/compress) and
// read buffers (a chunk's data, handed back once encoded; inputs take them for their reads).
BufferPool& blockBufferPool();
BufferPool& readBufferPool();
BufferPool& compressScratchPool();
// Compressed bodies: compressors write them into one of these, and the body goes back when the
// last reference to it (delivery, the HTTP request) is dropped (pooledBody()).
BufferPool& compressedBodyPool();

// Shares `body` as delivery does, handing its buffer back to compressedBodyPool() when the last
// reference goes.
std::shared_ptr<const std::string> pooledBody(std::string&& body);

// Empties the pools and, on glibc, malloc_trim(0): free pages of the heap go back to the
// kernel. Costs a walk of the heap; call it while idle, not per record.
void releaseFreeHeap();

}  // namespace ingestd
