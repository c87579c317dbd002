#include "sim/hw/node.h"

namespace shardlab::sim {

Node::Node(Simulation& sim, NodeSpec spec)
    : sim_(sim),
      spec_(std::move(spec)),
      cpu_(sim, spec_.name, spec_.cores, spec_.cpu_speed),
      disk_(sim, spec_.name, spec_.disk),
      memory_(spec_.memory_bytes),
      page_cache_(spec_.memory_bytes, spec_.page_cache_block_bytes),
      memory_bus_(sim, [this](std::span<FluidActivity> copies) {
        for (FluidActivity& c : copies) {
          c.rate = spec_.memory_bytes_per_s / static_cast<double>(copies.size());
        }
      }) {
  memory_.on_available_changed([this](uint64_t available) { page_cache_.set_capacity(available); });
}

Future Node::node_down() const {
  Future refused = sim_.make_future();
  refused.fail(FaultKind::kNodeDown, spec_.name + " is down");
  return refused;
}

Future Node::compute(double work, std::string_view label) {
  return up_ ? cpu_.compute(work, label) : node_down();
}

Future Node::read_file(FileId file, uint64_t offset, uint64_t bytes) {
  if (!up_) return node_down();
  const PageCache::Access access = page_cache_.read(file, offset, bytes);
  std::vector<Future> parts;
  if (access.miss_bytes > 0) parts.push_back(disk_.read(access.miss_bytes));
  if (access.hit_bytes > 0) parts.push_back(memory_bus_.add(static_cast<double>(access.hit_bytes)));
  return sim_.all_of(std::move(parts));
}

Future Node::write_file(FileId file, uint64_t offset, uint64_t bytes) {
  if (!up_) return node_down();
  page_cache_.write(file, offset, bytes);
  return disk_.write(bytes);
}

Future Node::spawn(Process process) {
  if (processes_.size() >= 64 && processes_.size() == processes_.capacity()) {
    std::erase_if(processes_, [](const Future& f) { return !f.pending(); });
  }
  Future done = sim_.spawn(std::move(process));
  processes_.push_back(done);
  if (!up_) sim_.interrupt(done, FaultKind::kNodeDown, spec_.name + " is down");
  return done;
}

void Node::crash() {
  if (!up_) return;
  up_ = false;
  ++crashes_;
  const std::string message = spec_.name + " crashed";
  cpu_.fail_all(FaultKind::kNodeDown, message);
  disk_.fail_all(FaultKind::kNodeDown, message);
  memory_bus_.fail_if([](const FluidActivity&) { return true; }, FaultKind::kNodeDown, message);
  disk_.set_available(false);
  for (const Future& process : processes_) sim_.interrupt(process, FaultKind::kNodeDown, message);
  processes_.clear();
  page_cache_.clear();
  memory_.wipe();
}

void Node::restart() {
  if (up_) return;
  up_ = true;
  disk_.set_available(true);
}

}  // namespace shardlab::sim
