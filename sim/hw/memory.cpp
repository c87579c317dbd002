#include "sim/hw/memory.h"

#include <algorithm>
#include <utility>

namespace shardlab::sim {

MemoryClaim::MemoryClaim(MemoryClaim&& other) noexcept
    : memory_(std::move(other.memory_)),
      bytes_(std::exchange(other.bytes_, 0)),
      epoch_(other.epoch_) {}

MemoryClaim& MemoryClaim::operator=(MemoryClaim&& other) noexcept {
  if (this != &other) {
    release();
    memory_ = std::move(other.memory_);
    bytes_ = std::exchange(other.bytes_, 0);
    epoch_ = other.epoch_;
  }
  return *this;
}

void MemoryClaim::release() {
  const std::shared_ptr<Memory*> cell = std::move(memory_);
  if (cell && *cell) (*cell)->give_back(bytes_, epoch_);
  bytes_ = 0;
}

MemoryClaim Memory::try_claim(uint64_t bytes) {
  if (bytes > available()) {
    ++refusals_;
    return MemoryClaim();
  }
  claimed_ += bytes;
  peak_ = std::max(peak_, claimed_);
  changed();
  return MemoryClaim(self_, bytes, epoch_);
}

void Memory::give_back(uint64_t bytes, uint64_t epoch) {
  if (epoch != epoch_) return;  // claimed before a crash that already wiped it
  claimed_ -= bytes;
  changed();
}

void Memory::wipe() {
  ++epoch_;
  claimed_ = 0;
  changed();
}

}  // namespace shardlab::sim
