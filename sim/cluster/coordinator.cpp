#include "sim/cluster/coordinator.h"

namespace shardlab::sim::cluster {

Coordinator::Coordinator(Simulation& sim, Network& network, HostId host, Duration op_latency,
                         size_t shards)
    : sim_(sim),
      network_(network),
      host_(host),
      op_latency_(op_latency),
      logs_(shards),
      next_block_(shards, 1),
      reserved_(shards) {}

Future Coordinator::round_trip(HostId from, uint32_t ops) {
  return sim_.spawn(run_round_trip(from, ops));
}

Process Coordinator::run_round_trip(HostId from, uint32_t ops) {
  co_await network_.transfer(from, host_, kRequestBytes);
  if (!network_.node_up(host_)) throw SimFault(FaultKind::kNodeDown, "coordinator is down");
  co_await sim_.sleep(op_latency_ * ops);
  co_await network_.transfer(host_, from, kRequestBytes);
}

uint64_t Coordinator::allocate_blocks(size_t shard, uint64_t count) {
  const uint64_t first = next_block_[shard];
  next_block_[shard] += count;
  for (uint64_t b = first; b < first + count; ++b) reserved_[shard].insert(b);
  return first;
}

void Coordinator::release_blocks(size_t shard, uint64_t first, uint64_t count) {
  for (uint64_t b = first; b < first + count; ++b) reserved_[shard].erase(b);
}

bool Coordinator::any_reserved(size_t shard, uint64_t min_block, uint64_t max_block) const {
  const auto it = reserved_[shard].lower_bound(min_block);
  return it != reserved_[shard].end() && *it <= max_block;
}

void Coordinator::append(size_t shard, LogEntry entry) {
  entry.created = sim_.now();
  logs_[shard].push_back(std::move(entry));
}

}  // namespace shardlab::sim::cluster
