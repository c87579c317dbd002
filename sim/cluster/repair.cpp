// Damaged parts in Cluster (cluster.h, "Damaged parts"): detaching them and fetching them again.
#include <algorithm>

#include "sim/cluster/cluster.h"
#include "sim/cluster/replica_store.h"

namespace shardlab::sim::cluster {

void Cluster::break_parts(size_t node, size_t count) {
  for (auto& shard : replicas_) {
    for (auto& replica : shard) {
      if (replica->node != node) continue;
      // The parts with the most rows: a latent sector error is likeliest where most bytes are,
      // and the choice is deterministic.
      std::vector<engine::PartPtr> parts = replica->store->visible_parts();
      std::stable_sort(parts.begin(), parts.end(),
                       [](const auto& a, const auto& b) { return a->rows() > b->rows(); });
      parts.resize(std::min(parts.size(), count));
      for (const engine::PartPtr& part : parts) {
        if (!replica->store->detach_broken(part->name())) continue;
        ++counters_.parts_broken;
        open_repairs_[{replica.get(), part->name()}] = OpenRepair{sim_.now(), part->rows()};
        // Plain MergeTree replicas have no log to fetch from: the rows stay lost.
        if (replicated()) sim_.spawn(run_repair(replica.get(), part->name()));
      }
    }
  }
}

Process Cluster::run_repair(Replica* replica, std::string part) {
  const Time since = sim_.now();
  // A part covering it may arrive through the log meanwhile (a merge fetched as a new part):
  // that repairs it too.
  while (!replica->store->has_covering(part)) {
    bool fetched = false;
    if (replica_up(*replica)) {
      LogEntry entry;
      entry.kind = LogEntry::Kind::kNewPart;
      entry.part = part;
      try {
        co_await sim_.spawn(run_fetch(replica, entry));
        fetched = true;
      } catch (const SimFault&) {
      }
    }
    if (fetched) break;
    co_await sim_.sleep(spec_.fetch_retry_interval);  // no co_await inside a handler
  }
  ++counters_.parts_refetched;
  max_repair_ = std::max(max_repair_, sim_.now() - since);
  open_repairs_.erase({replica, part});
  signal_shard(replica->shard);
}

Duration Cluster::max_part_repair() const {
  Duration longest = max_repair_;
  for (const auto& [key, open] : open_repairs_)
    longest = std::max(longest, sim_.now() - open.since);
  return longest;
}

uint64_t Cluster::rows_awaiting_repair() const {
  uint64_t rows = 0;
  for (const auto& [key, open] : open_repairs_) rows += open.rows;
  return rows;
}

}  // namespace shardlab::sim::cluster
