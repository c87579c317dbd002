// Replication in Cluster (cluster.h, "Replication"): each replica's log applier, fetches, merges
// chosen by the shard's leader and replayed by the others, and replica lag.
#include <algorithm>

#include "base/errors.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/replica_store.h"

namespace shardlab::sim::cluster {

Cluster::PartSource Cluster::find_source(size_t shard, const std::string& part,
                                         const Replica* except, std::optional<HostId> to) const {
  for (const auto& replica : replicas_[shard]) {
    if (replica.get() == except || !replica_up(*replica)) continue;
    // A source cut off from the fetching replica (a partition) is no source: another may do.
    if (to && !network_.route_latency(hosts_[replica->node], *to)) continue;
    if (engine::PartPtr p = replica->store->find_visible_covering(part)) {
      return {replica.get(), p};
    }
  }
  throw SimFault(FaultKind::kUnreachable, "no replica that is up has " + part);
}

void Cluster::link_from(Replica* replica, const PartSource& source) {
  // The transfer took simulated time; the source may have merged the part away meanwhile (its
  // files are gone then). Retry later from whatever covers it now.
  if (!replica_up(*replica)) throw SimFault(FaultKind::kNodeDown, "the replica went down");
  if (!replica->store->attach_from(*source.replica->store, source.part)) {
    throw SimFault(FaultKind::kUnreachable, source.part->name() + " was merged away at its source");
  }
}

Process Cluster::run_applier(Replica* replica) {
  const size_t shard = replica->shard;
  for (;;) {
    const std::vector<LogEntry>& log = coordinator_->log(shard);
    if (replica->applied >= log.size()) {
      co_await wait_for_change(shard);
      continue;
    }
    if (!replica_up(*replica)) {
      co_await wait_for_change(shard);
      continue;
    }
    const LogEntry entry = log[replica->applied];  // a copy: the log may grow meanwhile
    if (entry.kind == LogEntry::Kind::kMerge && entry.part.empty()) {
      // A merge whose rows all expired: the sources go, nothing replaces them.
      replica->store->drop_parts(entry.merged);
      ++replica->applied;
      signal_shard(shard);
      continue;
    }
    if (replica->store->has_covering(entry.part)) {
      ++replica->applied;
      signal_shard(shard);
      continue;
    }
    bool applied = false;
    try {
      if (entry.kind == LogEntry::Kind::kMerge) {
        co_await sim_.spawn(run_apply_merge(replica, entry));
      } else {
        co_await sim_.spawn(run_fetch(replica, entry));
      }
      applied = true;
    } catch (const SimFault&) {
    }
    if (applied) {
      ++replica->applied;
      signal_shard(shard);
    } else {
      co_await sim_.sleep(spec_.fetch_retry_interval);  // no co_await inside a handler
    }
  }
}

Process Cluster::run_fetch(Replica* replica, LogEntry entry) {
  const Time start = sim_.now();
  // The part itself, or a part that has since covered it (merged at the source).
  const HostId target = hosts_[replica->node];
  const PartSource source = find_source(replica->shard, entry.part, replica, target);
  const uint64_t bytes = source.part->bytes_on_disk();
  co_await coordinator_->round_trip(target, 2);
  co_await network_.transfer(hosts_[source.replica->node], target, static_cast<double>(bytes));
  co_await write_columns(replica->node, replica->shard, source.part);
  link_from(replica, source);
  bytes_sent_[source.replica->node] += bytes;
  bytes_received_[replica->node] += bytes;
  ++counters_.parts_fetched;
  counters_.bytes_fetched += bytes;
  trace_work(replica->node, "fetch", start);
}

std::vector<Future> Cluster::read_sources(size_t node, size_t shard,
                                          const std::vector<engine::PartPtr>& parts,
                                          engine::MergeProfile* estimate) {
  std::vector<Future> reads;
  for (const engine::PartPtr& part : parts) {
    for (size_t c = 0; c < schema_.columns.size(); ++c) {
      const engine::ColumnStats stats = part->column_stats(c);
      if (estimate) {
        estimate->uncompressed_bytes_read += stats.uncompressed_bytes;
        estimate->compressed_bytes_read += stats.compressed_bytes;
      }
      if (stats.compressed_bytes > 0) {
        reads.push_back(nodes_[node]->read_file(
            file_id(shard, part->name(), schema_.columns[c].name), 0, stats.compressed_bytes));
      }
    }
  }
  return reads;
}

Process Cluster::run_apply_merge(Replica* replica, LogEntry entry) {
  // Every source must be here to merge locally; otherwise fetch the result like a new part.
  const std::optional<std::vector<engine::PartPtr>> sources =
      replica->store->find_all_active(entry.merged);
  if (!sources) {
    co_await sim_.spawn(run_fetch(replica, entry));
    co_return;
  }
  const Time start = sim_.now();
  Node& node = *nodes_[replica->node];
  engine::MergeProfile profile;
  profile.parts = entry.merged.size();
  profile.rows_read = entry.rows;
  profile.uncompressed_bytes_read = entry.uncompressed_bytes;
  std::vector<Future> reads = read_sources(replica->node, replica->shard, *sources, nullptr);
  const double merge_cpu = cost_.merge_cpu(profile);
  counters_.merge_cpu_s += merge_cpu;
  reads.push_back(node.compute(merge_cpu, "merge"));
  co_await sim_.all_of(std::move(reads));
  // The merged part is identical on every replica (merges are deterministic, TTL evaluated at
  // the leader's time); link the one another replica wrote rather than redo the work in wall
  // time. With no such replica up (the leader went down after merging), merge here.
  std::optional<PartSource> source;
  try {
    source = find_source(replica->shard, entry.part, replica);
  } catch (const SimFault&) {
  }
  if (source) {
    co_await write_columns(replica->node, replica->shard, source->part);
    link_from(replica, *source);
  } else {
    if (!replica_up(*replica)) throw SimFault(FaultKind::kNodeDown, "the replica went down");
    const engine::PartPtr merged =
        replica->store->replay_merge(entry.part, entry.merged, entry.merged_at_s).merged;
    co_await write_columns(replica->node, replica->shard, merged);
  }
  ++counters_.merges;
  trace_work(replica->node, "merge", start);
}

Cluster::Replica* Cluster::merge_leader(size_t shard, Replica* own) {
  // Replicated: the first replica that is up and current chooses (the leader). Otherwise each
  // replica merges for itself.
  if (own) return own;
  for (auto& replica : replicas_[shard]) {
    if (replica_up(*replica) && replica->applied == coordinator_->log(shard).size()) {
      return replica.get();
    }
  }
  return nullptr;
}

Process Cluster::run_merge_scheduler(size_t shard, Replica* own) {
  for (;;) {
    co_await sim_.sleep(spec_.merge_interval);
    Replica* leader = merge_leader(shard, own);
    if (!leader || !replica_up(*leader)) continue;
    std::optional<engine::MergePlan> plan = leader->store->select_merge();
    if (plan && replicated() &&
        coordinator_->any_reserved(shard, plan->result.min_block, plan->result.max_block)) {
      continue;  // a write holding a block number in that range is still in flight
    }
    if (!plan) {
      // Nothing to merge until the shard changes: wait for that rather than poll.
      co_await wait_for_change(shard);
      continue;
    }
    const Time start = sim_.now();
    engine::MergeProfile estimate;
    estimate.parts = plan->parts.size();
    estimate.rows_read = plan->rows;
    std::vector<Future> reads = read_sources(leader->node, shard, plan->parts, &estimate);
    const double merge_cpu = cost_.merge_cpu(estimate);
    counters_.merge_cpu_s += merge_cpu;
    reads.push_back(nodes_[leader->node]->compute(merge_cpu, "merge"));
    try {
      co_await sim_.all_of(std::move(reads));
    } catch (const SimFault&) {
      continue;
    }
    // The sources may have changed while the merge was simulated (a fetch of a covering part).
    if (!replica_up(*leader) || !leader->store->has_all_active(plan->parts)) continue;
    const int64_t now_s = data_clock_s(sim_.now());
    const MergeOutcome outcome = leader->store->merge(*plan, now_s);
    ++counters_.merges;
    trace_work(leader->node, "merge", start);
    // Null when every row expired: the entry then tells the other replicas to drop the sources.
    if (outcome.merged) {
      try {
        co_await write_columns(leader->node, shard, outcome.merged);
      } catch (const SimFault&) {
      }
    }
    if (replicated()) log_merge(*leader, plan->parts, outcome, now_s);
  }
}

void Cluster::log_merge(const Replica& leader, const std::vector<engine::PartPtr>& sources,
                        const MergeOutcome& outcome, int64_t now_s) {
  LogEntry entry;
  entry.kind = LogEntry::Kind::kMerge;
  entry.part = outcome.profile.result_part;
  for (const engine::PartPtr& part : sources) entry.merged.push_back(part->name());
  entry.rows = outcome.profile.rows_read;
  entry.uncompressed_bytes = outcome.profile.uncompressed_bytes_read;
  entry.bytes = outcome.merged ? outcome.merged->bytes_on_disk() : 0;
  entry.merged_at_s = now_s;
  entry.source_replica = leader.index;
  coordinator_->append(leader.shard, std::move(entry));
  // The leader made it; its own applier finds it covered.
  signal_shard(leader.shard);
}

Duration Cluster::replica_lag(size_t shard, size_t replica) const {
  const std::vector<LogEntry>& log = coordinator_->log(shard);
  const size_t applied = replicas_[shard][replica]->applied;
  return applied < log.size() ? sim_.now() - log[applied].created : Duration();
}

Duration Cluster::current_replica_lag() const {
  Duration lag;
  for (size_t s = 0; s < replicas_.size(); ++s) {
    for (size_t r = 0; r < replicas_[s].size(); ++r) lag = std::max(lag, replica_lag(s, r));
  }
  return lag;
}

Process Cluster::run_lag_sampler() {
  for (;;) {
    co_await sim_.sleep(Duration::seconds(1));
    max_lag_ = std::max(max_lag_, current_replica_lag());
  }
}

}  // namespace shardlab::sim::cluster
