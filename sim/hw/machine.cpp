#include "sim/hw/machine.h"

#include <vector>

#include "sim/hw/node.h"

namespace shardlab::sim {

Machine::Machine(Simulation& sim, std::string name, const NodeSpec& spec)
    : sim_(sim),
      name_(std::move(name)),
      memory_bytes_per_s_(spec.memory_bytes_per_s),
      cpu_(sim, name_, spec.cores, spec.cpu_speed),
      disk_(sim, name_, spec.disk),
      memory_(spec.memory_bytes),
      page_cache_(spec.memory_bytes, spec.page_cache_block_bytes),
      memory_bus_(sim, [this](std::span<FluidActivity> copies) {
        for (FluidActivity& c : copies) {
          c.rate = memory_bytes_per_s_ / static_cast<double>(copies.size());
        }
      }) {
  memory_.on_available_changed([this](uint64_t available) { page_cache_.set_capacity(available); });
}

Future Machine::read_file(FileId file, uint64_t offset, uint64_t bytes) {
  const PageCache::Access access = page_cache_.read(file, offset, bytes);
  std::vector<Future> parts;
  if (access.miss_bytes > 0) parts.push_back(disk_.read(access.miss_bytes));
  if (access.hit_bytes > 0) parts.push_back(memory_bus_.add(static_cast<double>(access.hit_bytes)));
  return sim_.all_of(std::move(parts));
}

Future Machine::write_file(FileId file, uint64_t offset, uint64_t bytes) {
  page_cache_.write(file, offset, bytes);
  return disk_.write(bytes);
}

void Machine::power_off(const std::string& message) {
  cpu_.fail_all(FaultKind::kNodeDown, message);
  disk_.fail_all(FaultKind::kNodeDown, message);
  memory_bus_.fail_if([](const FluidActivity&) { return true; }, FaultKind::kNodeDown, message);
  disk_.set_available(false);
  page_cache_.clear();
  memory_.wipe();
}

void Machine::power_on() { disk_.set_available(true); }

}  // namespace shardlab::sim
