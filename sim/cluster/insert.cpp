// The insert path of Cluster (cluster.h, "Insert path"): the initiator's split, async queues and
// their senders, shard writes with failover, replica writes, and insert quorum.
#include <fmt/format.h>

#include <utility>

#include "base/errors.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/replica_store.h"

namespace shardlab::sim::cluster {

namespace {

uint64_t block_bytes(const engine::Block& block) {
  uint64_t bytes = 0;
  for (const engine::Column& column : block.columns) bytes += column.byte_size();
  return bytes;
}

// Block numbers stay reserved until the write is logged or abandoned: no merge may span them.
struct BlockReservation {
  Coordinator* coordinator;
  size_t shard;
  std::optional<uint64_t> first;
  uint64_t count;
  ~BlockReservation() {
    if (first) coordinator->release_blocks(shard, *first, count);
  }
};

}  // namespace

Future Cluster::insert(size_t initiator, engine::Block block) {
  SHARDLAB_ASSERT(initiator < nodes_.size(), "no node {}", initiator);
  return sim_.spawn(run_insert(initiator, std::move(block), next_batch_++));
}

Process Cluster::run_insert(size_t initiator, engine::Block block, uint64_t batch) {
  const uint64_t rows = block.rows();
  const Time arrived = sim_.now();
  ++counters_.inserts;
  counters_.rows_sent += rows;
  Node& init = *nodes_[initiator];
  try {
    if (!init.up() || process_down_[initiator]) {
      throw SimFault(FaultKind::kNodeDown, spec_.nodes[initiator].name + " is down");
    }
    const double split_cpu = cost_.split_cpu(rows);
    counters_.split_cpu_s += split_cpu;
    co_await init.compute(split_cpu, "split");
    std::vector<engine::Block> parts = schemes_.back().split(block, spec_.seed, batch);
    if (spec_.settings.insert_mode == InsertMode::kAsync) {
      // Written to the initiator's queue files (through the page cache, not fsynced: 18.16 does
      // not sync them), then acknowledged.
      // Every shard's file is written before any block is queued: an insert that fails midway
      // leaves nothing behind to be sent (or counted as lost).
      std::vector<Future> writes;
      for (size_t s = 0; s < parts.size(); ++s) {
        if (parts[s].rows() == 0) continue;
        const uint64_t bytes = block_bytes(parts[s]);
        ShardQueue& queue = queues_[initiator][s];
        writes.push_back(init.write_file(file_id(s, fmt::format("queue@{}", initiator), "bin"),
                                         queue.written_bytes, bytes));
        queue.written_bytes += bytes;
      }
      co_await sim_.all_of(std::move(writes));
      if (!init.up() || process_down_[initiator]) {
        throw SimFault(FaultKind::kNodeDown, spec_.nodes[initiator].name + " is down");
      }
      enqueue(initiator, &parts, arrived);
    } else {
      std::vector<Future> writes;
      for (size_t s = 0; s < parts.size(); ++s) {
        if (parts[s].rows() > 0) writes.push_back(write_shard(initiator, s, std::move(parts[s])));
      }
      co_await sim_.all_of(std::move(writes));
      if (delivery_listener_) delivery_listener_(sim_.now() - arrived, rows);
    }
    counters_.rows_acknowledged += rows;
  } catch (const SimFault&) {
    counters_.rows_rejected += rows;
    throw;
  }
}

void Cluster::enqueue(size_t initiator, std::vector<engine::Block>* parts, Time arrived) {
  for (size_t s = 0; s < parts->size(); ++s) {
    engine::Block& part = (*parts)[s];
    if (part.rows() == 0) continue;
    ShardQueue& queue = queues_[initiator][s];
    const uint64_t shard_rows = part.rows();
    queue.rows += shard_rows;
    queue.blocks.push_back(PendingBlock{std::move(part), shard_rows, arrived});
    if (queue.enqueued.valid()) std::exchange(queue.enqueued, Future()).resolve();
  }
  if (!senders_started_[initiator]) {
    senders_started_[initiator] = true;
    for (size_t s = 0; s < replicas_.size(); ++s) sim_.spawn(run_sender(initiator, s));
  }
}

Process Cluster::run_sender(size_t initiator, size_t shard) {
  ShardQueue& queue = queues_[initiator][shard];
  const Time phase = sim_.now();
  const Duration interval = spec_.settings.async_send_interval;
  for (;;) {
    // The directory monitor looks every interval; a look at an empty queue changes nothing, so
    // an idle sender sleeps until a block is queued, then wakes at the next of its ticks.
    if (queue.blocks.empty()) {
      Future queued = sim_.make_future();
      queue.enqueued = queued;
      co_await queued;
    }
    const int64_t ticks = (sim_.now() - phase).ns() / interval.ns() + 1;
    co_await sim_.sleep(phase + interval * ticks - sim_.now());
    // One block at a time, in order; a failure leaves it at the head for the next round.
    while (!queue.blocks.empty() && nodes_[initiator]->up() && !process_down_[initiator]) {
      PendingBlock& head = queue.blocks.front();
      head.sending = true;
      bool sent = false;
      try {
        co_await write_shard(initiator, shard, head.block);
        sent = true;
      } catch (const SimFault&) {
      }
      head.sending = false;
      // A node loss during the send left only this block in the queue, orphaned: it counts as
      // lost unless the shard got it after all.
      if (sent || head.orphaned) {
        if (!sent) counters_.rows_lost += head.rows;
        if (sent && delivery_listener_) delivery_listener_(sim_.now() - head.arrived, head.rows);
        queue.rows -= head.rows;
        queue.blocks.pop_front();
      }
      if (!sent) break;
    }
  }
}

std::vector<Duration> Cluster::queued_block_ages() const {
  std::vector<Duration> ages;
  for (const auto& per_node : queues_) {
    for (const ShardQueue& queue : per_node) {
      for (const PendingBlock& block : queue.blocks) ages.push_back(sim_.now() - block.arrived);
    }
  }
  return ages;
}

uint64_t Cluster::queued_rows() const {
  uint64_t rows = 0;
  for (const auto& per_node : queues_) {
    for (const ShardQueue& queue : per_node) rows += queue.rows;
  }
  return rows;
}

Future Cluster::write_shard(size_t initiator, size_t shard, engine::Block block) {
  return sim_.spawn(run_write_shard(initiator, shard, std::move(block)));
}

Process Cluster::run_write_shard(size_t initiator, size_t shard, engine::Block block) {
  const uint64_t rows = block.rows();
  if (replicated()) {
    // One healthy replica, in load-balancing order; replication copies it to the others.
    LoadBalancer& balancer = balancers_[shard];
    const std::vector<size_t> order = balancer.order(sim_.now(), spec_.nodes[initiator].name,
                                                     spec_.settings.prefer_localhost_replica);
    for (size_t r : order) {
      Replica* replica = replicas_[shard][r].get();
      try {
        co_await sim_.spawn(run_replica_write(initiator, replica, &block));
        counters_.rows_written += rows;
        if (commit_listener_) commit_listener_(shard, replica->node, block);
        co_return;
      } catch (const SimFault& fault) {
        // Withdrawn (another shard's write failed) or refused by the table: not the replica's
        // fault, and no reason to try another one.
        if (fault.kind() == FaultKind::kRefused || fault.kind() == FaultKind::kTimeout ||
            fault.kind() == FaultKind::kCancelled || fault.kind() == FaultKind::kInterrupted) {
          throw;
        }
        balancer.record_error(r, sim_.now());
        ++counters_.failovers;
      }
    }
    throw SimFault(FaultKind::kUnreachable,
                   fmt::format("no replica of shard {} accepted the insert", shard + 1));
  }
  // Without internal replication the Distributed table writes every replica itself.
  std::vector<Future> writes;
  for (auto& replica : replicas_[shard]) {
    writes.push_back(sim_.spawn(run_replica_write(initiator, replica.get(), &block)));
  }
  co_await sim_.all_of(std::move(writes));
  counters_.rows_written += rows;
  if (commit_listener_) commit_listener_(shard, replicas_[shard].front()->node, block);
}

Process Cluster::run_replica_write(size_t initiator, Replica* replica, const engine::Block* block) {
  const Time start = sim_.now();
  Node& node = *nodes_[replica->node];
  ReplicaStore& store = *replica->store;
  const HostId target = hosts_[replica->node];
  if (!replica_up(*replica)) {
    throw SimFault(FaultKind::kNodeDown, spec_.nodes[replica->node].name + " is down");
  }
  co_await network_.transfer(hosts_[initiator], target, cost_.wire_bytes(block_bytes(*block)));
  // Backpressure, as MergeTree applies it: a delay above parts_to_delay_insert, a refusal above
  // parts_to_throw_insert (from the engine, below).
  const uint64_t delay_ms = store.insert_delay_ms();
  if (delay_ms > 0) co_await sim_.sleep(Duration::milliseconds(static_cast<int64_t>(delay_ms)));
  std::optional<uint64_t> first_block;
  uint64_t reserved = 0;
  if (replicated()) {
    co_await coordinator_->round_trip(target, spec_.coordinator_ops_per_insert);
    reserved = store.partitions_of(*block);
    first_block = coordinator_->allocate_blocks(replica->shard, reserved);
  }
  const BlockReservation reservation{coordinator_.get(), replica->shard, first_block, reserved};
  if (!replica_up(*replica)) {
    throw SimFault(FaultKind::kNodeDown, spec_.nodes[replica->node].name + " is down");
  }
  // The parts exist in the engine from now, but queries see them only once the simulated write
  // completes; a failure rolls them back as the server would discard a half-written part.
  const engine::InsertResult result = store.insert(*block, first_block);
  try {
    const double insert_cpu = cost_.insert_cpu(result);
    counters_.insert_cpu_s += insert_cpu;
    co_await node.compute(insert_cpu, "insert");
    std::vector<Future> writes;
    for (const std::string& name : result.parts) {
      const engine::PartPtr part = store.find_active(name);
      if (part) writes.push_back(write_columns(replica->node, replica->shard, part));
    }
    co_await sim_.all_of(std::move(writes));
  } catch (const SimFault&) {
    store.roll_back(result);
    throw;
  }
  store.publish(result);
  trace_work(replica->node, "insert", start);
  bytes_received_[replica->node] += cost_.wire_bytes(block_bytes(*block));
  bytes_sent_[initiator] += cost_.wire_bytes(block_bytes(*block));
  if (!replicated()) {
    signal_shard(replica->shard);  // wakes the replica's merge scheduler
    co_return;
  }
  log_new_parts(*replica, result);
  if (spec_.settings.insert_quorum > 1) {
    co_await sim_.with_timeout(sim_.spawn(run_quorum_wait(replica->shard, result.parts)),
                               spec_.settings.insert_quorum_timeout);
  }
}

void Cluster::log_new_parts(const Replica& replica, const engine::InsertResult& write) {
  for (const std::string& name : write.parts) {
    const engine::PartPtr part = replica.store->find_active(name);
    LogEntry entry;
    entry.kind = LogEntry::Kind::kNewPart;
    entry.part = name;
    entry.source_replica = replica.index;
    entry.rows = part ? part->rows() : 0;
    entry.bytes = part ? part->bytes_on_disk() : 0;
    coordinator_->append(replica.shard, std::move(entry));
  }
  signal_shard(replica.shard);
}

Process Cluster::run_quorum_wait(size_t shard, std::vector<std::string> parts) {
  for (;;) {
    uint32_t holding = 0;
    for (const auto& replica : replicas_[shard]) {
      bool all = true;
      // The part itself (visible) or a merged part that contains it.
      for (const std::string& name : parts) all = all && replica->store->holds(name);
      holding += all;
    }
    if (holding >= spec_.settings.insert_quorum) co_return;
    co_await wait_for_change(shard);
  }
}

void Cluster::preload(const engine::Block& block) {
  std::vector<engine::Block> parts = schemes_.back().split(block, spec_.seed, preload_batches_++);
  for (size_t s = 0; s < parts.size(); ++s) {
    if (parts[s].rows() == 0) continue;
    ReplicaStore& store = *replicas_[s].front()->store;
    std::optional<uint64_t> first_block;
    if (replicated()) {
      first_block = coordinator_->allocate_blocks(s, store.partitions_of(parts[s]));
    }
    const engine::InsertResult result = store.insert(parts[s], first_block);
    store.publish(result);
    rows_preloaded_ += parts[s].rows();
  }
}

void Cluster::finish_preload() {
  const int64_t now_s = data_clock_s(sim_.now());
  for (auto& shard : replicas_) {
    ReplicaStore& first = *shard.front()->store;
    while (const std::optional<engine::MergePlan> plan = first.select_merge()) {
      first.merge(*plan, now_s);
    }
    for (size_t r = 1; r < shard.size(); ++r) {
      for (const engine::PartPtr& part : first.visible_parts()) {
        const bool attached = shard[r]->store->attach_from(first, part);
        SHARDLAB_ASSERT(attached, "preloaded part {} vanished", part->name());
      }
    }
  }
  // Days of inserts leave the most recently written parts in each node's page cache, oldest
  // evicted first: every node's parts, of all its shards, written oldest first (part names
  // start with the partition, the day), so the newest data is what stays.
  std::vector<std::vector<std::pair<size_t, engine::PartPtr>>> per_node(nodes_.size());
  for (const auto& shard : replicas_) {
    for (const auto& replica : shard) {
      for (const engine::PartPtr& part : replica->store->visible_parts()) {
        per_node[replica->node].emplace_back(replica->shard, part);
      }
    }
  }
  for (size_t n = 0; n < per_node.size(); ++n) {
    std::stable_sort(per_node[n].begin(), per_node[n].end(), [](const auto& a, const auto& b) {
      return a.second->name() < b.second->name();
    });
    PageCache& cache = nodes_[n]->page_cache();
    for (const auto& [shard, part] : per_node[n]) {
      for (size_t c = 0; c < schema_.columns.size(); ++c) {
        const uint64_t bytes = part->column_stats(c).compressed_bytes;
        if (bytes > 0) cache.write(file_id(shard, part->name(), schema_.columns[c].name), 0, bytes);
      }
    }
  }
}

}  // namespace shardlab::sim::cluster
