// A node's memory, accounted rather than simulated byte by byte. Caches and query working sets
// claim it and can be refused; the OS page cache lives in whatever is left (see PageCache), the
// way Linux gives free memory to the cache and takes it back under pressure.
//
// Claims are RAII (MemoryClaim). A crash wipes every claim at once (volatile state is lost); a
// claim made before the crash then releases nothing, which its epoch detects.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace shardlab::sim {

class Memory;

class MemoryClaim {
 public:
  MemoryClaim() = default;
  MemoryClaim(MemoryClaim&& other) noexcept;
  MemoryClaim& operator=(MemoryClaim&& other) noexcept;
  ~MemoryClaim() { release(); }

  uint64_t bytes() const { return bytes_; }
  explicit operator bool() const { return memory_ != nullptr; }
  void release();

 private:
  friend class Memory;
  MemoryClaim(std::shared_ptr<Memory*> memory, uint64_t bytes, uint64_t epoch)
      : memory_(std::move(memory)), bytes_(bytes), epoch_(epoch) {}
  // The memory's cell: a claim held by a process frame can outlive the Memory (frames are freed
  // with the simulation), and then releases nothing.
  std::shared_ptr<Memory*> memory_;
  uint64_t bytes_ = 0;
  uint64_t epoch_ = 0;
};

class Memory {
 public:
  explicit Memory(uint64_t capacity_bytes)
      : self_(std::make_shared<Memory*>(this)), capacity_(capacity_bytes) {}
  ~Memory() { *self_ = nullptr; }
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;

  // Claims `bytes` if they fit next to the other claims (the page cache yields); otherwise
  // returns an empty claim. Refusals are counted.
  MemoryClaim try_claim(uint64_t bytes);

  uint64_t capacity() const { return capacity_; }
  uint64_t claimed() const { return claimed_; }
  uint64_t available() const { return capacity_ - claimed_; }
  uint64_t peak_claimed() const { return peak_; }
  uint64_t refusals() const { return refusals_; }

  // Called with the new available() after every change (the page cache resizes itself).
  void on_available_changed(std::function<void(uint64_t)> fn) { on_change_ = std::move(fn); }
  // A crash: every claim is void.
  void wipe();

 private:
  friend class MemoryClaim;
  void give_back(uint64_t bytes, uint64_t epoch);
  void changed() {
    if (on_change_) on_change_(available());
  }

  std::shared_ptr<Memory*> self_;
  uint64_t capacity_;
  uint64_t claimed_ = 0;
  uint64_t peak_ = 0;
  uint64_t refusals_ = 0;
  uint64_t epoch_ = 0;
  std::function<void(uint64_t)> on_change_;
};

}  // namespace shardlab::sim
