#include "sim/cluster/cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "base/errors.h"
#include "sim/cluster/shard_pruning.h"

namespace shardlab::sim::cluster {

namespace {

uint64_t block_bytes(const engine::Block& block) {
  uint64_t bytes = 0;
  for (const engine::Column& column : block.columns) bytes += column.byte_size();
  return bytes;
}

}  // namespace

// ---- Construction ----------------------------------------------------------------------------

Cluster::Cluster(Simulation& sim, Network& network, ClusterSpec spec, CostModel cost)
    : sim_(sim),
      network_(network),
      spec_(std::move(spec)),
      cost_(cost),
      schema_(engine::TableSchema::from_ddl(spec_.ddl)),
      memo_(spec_.memo_capacity_bytes),
      merged_(spec_.merged_capacity_bytes) {
  if (spec_.nodes.empty()) throw InputError("a cluster needs at least one node");
  if (spec_.shards == 0 || spec_.replicas == 0) {
    throw InputError("a cluster needs at least one shard and one replica per shard");
  }
  {
    ShardingSpec first = spec_.sharding;
    first.shards = spec_.shards;
    schemes_.emplace_back(schema_, std::move(first));
  }
  for (const NodeSpec& node_spec : spec_.nodes) {
    const std::optional<HostId> host = network_.find_host(node_spec.name);
    if (!host) {
      throw InputError(fmt::format("node '{}' is not a host of the network", node_spec.name));
    }
    hosts_.push_back(*host);
    nodes_.push_back(std::make_unique<Node>(sim_, node_spec));
  }
  process_down_.assign(nodes_.size(), false);
  const std::optional<HostId> coordinator_host = network_.find_host(spec_.coordinator_host);
  if (!coordinator_host) {
    throw InputError(
        fmt::format("coordinator host '{}' is not a host of the network", spec_.coordinator_host));
  }

  if (spec_.placement.empty()) {
    // Round-robin: replica r of shard s on node (s * replicas + r) mod nodes, so the replicas of
    // a shard land on different nodes whenever there are enough.
    spec_.placement.assign(spec_.shards, std::vector<size_t>(spec_.replicas));
    for (size_t s = 0; s < spec_.shards; ++s) {
      for (size_t r = 0; r < spec_.replicas; ++r) {
        spec_.placement[s][r] = (s * spec_.replicas + r) % nodes_.size();
      }
    }
  }
  if (spec_.placement.size() != spec_.shards) {
    throw InputError(fmt::format("placement lists {} shards, the cluster has {}",
                                 spec_.placement.size(), spec_.shards));
  }
  // Joining shards exist, empty and idle, from the start: no container indexed by shard grows
  // under a running process.
  spec_.placement.insert(spec_.placement.end(), spec_.joining_placement.begin(),
                         spec_.joining_placement.end());
  const size_t total = spec_.placement.size();
  active_shards_ = spec_.shards;
  coordinator_ = std::make_unique<Coordinator>(sim_, network_, *coordinator_host,
                                               spec_.coordinator_op_latency, total);
  std::filesystem::create_directories(spec_.data_dir);
  const RandomStream balancing = sim_.stream("load_balancing");
  replicas_.resize(total);
  for (size_t s = 0; s < total; ++s) {
    if (spec_.placement[s].size() != spec_.replicas) {
      throw InputError(fmt::format("shard {} is placed on {} nodes, expected {} replicas", s + 1,
                                   spec_.placement[s].size(), spec_.replicas));
    }
    std::vector<std::string> replica_hosts;
    std::set<size_t> used;
    for (size_t r = 0; r < spec_.replicas; ++r) {
      const size_t node_index = spec_.placement[s][r];
      if (node_index >= nodes_.size()) {
        throw InputError(fmt::format("shard {} replica {}: no node {}", s + 1, r + 1, node_index));
      }
      if (!used.insert(node_index).second) {
        throw InputError(fmt::format("shard {} has two replicas on node '{}'", s + 1,
                                     spec_.nodes[node_index].name));
      }
      auto replica = std::make_unique<Replica>();
      replica->shard = s;
      replica->index = r;
      replica->node = node_index;
      replica->table = engine::Table::create(
          spec_.data_dir / fmt::format("shard{}_replica{}", s + 1, r + 1), spec_.ddl);
      replicas_[s].push_back(std::move(replica));
      replica_hosts.push_back(spec_.nodes[node_index].name);
    }
    balancers_.emplace_back(std::move(replica_hosts), spec_.settings.load_balancing,
                            spec_.settings.error_half_life, balancing.child(s));
  }
  queues_.assign(nodes_.size(), std::vector<ShardQueue>(total));
  bytes_sent_.assign(nodes_.size(), 0);
  bytes_received_.assign(nodes_.size(), 0);
  senders_started_.assign(nodes_.size(), false);
  waiters_.resize(total);
}

Cluster::~Cluster() { sim_.shutdown(); }

size_t Cluster::node_index(const std::string& name) const {
  for (size_t i = 0; i < spec_.nodes.size(); ++i) {
    if (spec_.nodes[i].name == name) return i;
  }
  throw InputError(fmt::format("unknown node '{}'", name));
}

bool Cluster::replicated() const { return spec_.settings.internal_replication; }

bool Cluster::replica_up(const Replica& replica) const {
  return nodes_[replica.node]->up() && !process_down_[replica.node] &&
         network_.node_up(hosts_[replica.node]);
}

void Cluster::start() {
  if (started_) return;
  started_ = true;
  for (auto& shard : replicas_) {
    for (auto& replica : shard) {
      if (replicated()) sim_.spawn(run_applier(replica.get()));
    }
  }
  for (size_t s = 0; s < replicas_.size(); ++s) {
    if (replicated()) {
      sim_.spawn(run_merge_scheduler(s, nullptr));
    } else {
      for (auto& replica : replicas_[s]) sim_.spawn(run_merge_scheduler(s, replica.get()));
    }
  }
  sim_.spawn(run_lag_sampler());
}

FileId Cluster::file_id(size_t shard, const std::string& part, const std::string& column) {
  const std::string key = fmt::format("{}/{}/{}", shard, part, column);
  const auto it = file_ids_.find(key);
  if (it != file_ids_.end()) return it->second;
  const auto id = static_cast<FileId>(file_ids_.size() + 1);
  file_ids_.emplace(key, id);
  return id;
}

// ---- Shard signals ---------------------------------------------------------------------------

Future Cluster::wait_for_change(size_t shard) {
  Future change = sim_.make_future();
  waiters_[shard].push_back(change);
  return change;
}

void Cluster::signal_shard(size_t shard) {
  std::vector<Future> waiting;
  waiting.swap(waiters_[shard]);
  for (const Future& waiter : waiting) waiter.resolve();
}

// ---- Insert path -----------------------------------------------------------------------------

Future Cluster::insert(size_t initiator, engine::Block block) {
  SHARDLAB_ASSERT(initiator < nodes_.size(), "no node {}", initiator);
  return sim_.spawn(run_insert(initiator, std::move(block), next_batch_++));
}

Process Cluster::run_insert(size_t initiator, engine::Block block, uint64_t batch) {
  const uint64_t rows = block.rows();
  ++counters_.inserts;
  counters_.rows_sent += rows;
  Node& init = *nodes_[initiator];
  try {
    if (!init.up() || process_down_[initiator]) {
      throw SimFault(FaultKind::kNodeDown, spec_.nodes[initiator].name + " is down");
    }
    co_await init.compute(cost_.split_cpu(rows), "split");
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
      for (size_t s = 0; s < parts.size(); ++s) {
        if (parts[s].rows() == 0) continue;
        ShardQueue& queue = queues_[initiator][s];
        const uint64_t shard_rows = parts[s].rows();
        queue.rows += shard_rows;
        queue.blocks.push_back(PendingBlock{std::move(parts[s]), shard_rows});
        if (queue.enqueued.valid()) std::exchange(queue.enqueued, Future()).resolve();
      }
      if (!senders_started_[initiator]) {
        senders_started_[initiator] = true;
        for (size_t s = 0; s < replicas_.size(); ++s) sim_.spawn(run_sender(initiator, s));
      }
    } else {
      std::vector<Future> writes;
      for (size_t s = 0; s < parts.size(); ++s) {
        if (parts[s].rows() > 0) writes.push_back(write_shard(initiator, s, std::move(parts[s])));
      }
      co_await sim_.all_of(std::move(writes));
    }
    counters_.rows_acknowledged += rows;
  } catch (const SimFault&) {
    counters_.rows_rejected += rows;
    throw;
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
        queue.rows -= head.rows;
        queue.blocks.pop_front();
      }
      if (!sent) break;
    }
  }
}

Future Cluster::write_shard(size_t initiator, size_t shard, engine::Block block) {
  return sim_.spawn(run_write_shard(initiator, shard, std::move(block)));
}

Process Cluster::run_write_shard(size_t initiator, size_t shard, engine::Block block) {
  const uint64_t rows = block.rows();
  if (replicated()) {
    // One healthy replica, in load-balancing order; replication copies it to the others.
    LoadBalancer& balancer = balancers_[shard];
    const std::vector<size_t> order =
        balancer.order(sim_.now(), spec_.nodes[initiator].name, spec_.settings.prefer_localhost_replica);
    for (size_t r : order) {
      Replica* replica = replicas_[shard][r].get();
      try {
        co_await sim_.spawn(run_replica_write(initiator, replica, &block));
        counters_.rows_written += rows;
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
}

Process Cluster::run_replica_write(size_t initiator, Replica* replica, const engine::Block* block) {
  Node& node = *nodes_[replica->node];
  const HostId target = hosts_[replica->node];
  if (!replica_up(*replica)) {
    throw SimFault(FaultKind::kNodeDown, spec_.nodes[replica->node].name + " is down");
  }
  co_await network_.transfer(hosts_[initiator], target, cost_.wire_bytes(block_bytes(*block)));
  // Backpressure, as MergeTree applies it: a delay above parts_to_delay_insert, a refusal above
  // parts_to_throw_insert (from the engine, below).
  const uint64_t delay_ms =
      replica->table->insert_delay_ms(replica->table->max_parts_in_partition());
  if (delay_ms > 0) co_await sim_.sleep(Duration::milliseconds(static_cast<int64_t>(delay_ms)));
  std::optional<uint64_t> first_block;
  uint64_t reserved = 0;
  if (replicated()) {
    co_await coordinator_->round_trip(target, spec_.coordinator_ops_per_insert);
    reserved = replica->table->partitions_of(*block);
    first_block = coordinator_->allocate_blocks(replica->shard, reserved);
  }
  // Block numbers stay reserved until the write is logged or abandoned: no merge may span them.
  struct Release {
    Coordinator* coordinator;
    size_t shard;
    std::optional<uint64_t> first;
    uint64_t count;
    ~Release() {
      if (first) coordinator->release_blocks(shard, *first, count);
    }
  } release{coordinator_.get(), replica->shard, first_block, reserved};
  if (!replica_up(*replica)) {
    throw SimFault(FaultKind::kNodeDown, spec_.nodes[replica->node].name + " is down");
  }
  engine::InsertResult result;
  try {
    result = first_block ? replica->table->insert(*block, *first_block)
                         : replica->table->insert(*block);
  } catch (const RuntimeError& e) {
    throw SimFault(FaultKind::kRefused, e.what());
  }
  // The parts exist in the engine from now, but queries see them only once the simulated write
  // completes; a failure rolls them back as the server would discard a half-written part.
  replica->hidden.insert(replica->hidden.end(), result.parts.begin(), result.parts.end());
  auto unhide = [replica, &result] {
    std::erase_if(replica->hidden, [&](const std::string& p) {
      return std::find(result.parts.begin(), result.parts.end(), p) != result.parts.end();
    });
  };
  try {
    co_await node.compute(cost_.insert_cpu(result), "insert");
    std::vector<Future> writes;
    for (const std::string& name : result.parts) {
      const engine::PartPtr part = replica->table->find_active(name);
      if (part) writes.push_back(write_columns(replica->node, replica->shard, part));
    }
    co_await sim_.all_of(std::move(writes));
  } catch (const SimFault&) {
    unhide();
    for (const std::string& name : result.parts) replica->table->drop_part(name);
    throw;
  }
  unhide();
  bytes_received_[replica->node] += cost_.wire_bytes(block_bytes(*block));
  bytes_sent_[initiator] += cost_.wire_bytes(block_bytes(*block));
  if (!replicated()) signal_shard(replica->shard);  // wakes the replica's merge scheduler
  if (replicated()) {
    for (const std::string& name : result.parts) {
      const engine::PartPtr part = replica->table->find_active(name);
      LogEntry entry;
      entry.kind = LogEntry::Kind::kNewPart;
      entry.part = name;
      entry.source_replica = replica->index;
      entry.rows = part ? part->rows() : 0;
      entry.bytes = part ? part->bytes_on_disk() : 0;
      coordinator_->append(replica->shard, std::move(entry));
    }
    signal_shard(replica->shard);
    if (spec_.settings.insert_quorum > 1) {
      co_await sim_.with_timeout(sim_.spawn(run_quorum_wait(replica->shard, result.parts)),
                                 spec_.settings.insert_quorum_timeout);
    }
  }
}

Process Cluster::run_quorum_wait(size_t shard, std::vector<std::string> parts) {
  for (;;) {
    uint32_t holding = 0;
    for (const auto& replica : replicas_[shard]) {
      bool all = true;
      for (const std::string& name : parts) {
        // The part itself (visible) or a merged part that contains it.
        all = all && has_covering(*replica, name) &&
              std::find(replica->hidden.begin(), replica->hidden.end(), name) ==
                  replica->hidden.end();
      }
      holding += all;
    }
    if (holding >= spec_.settings.insert_quorum) co_return;
    co_await wait_for_change(shard);
  }
}

Future Cluster::write_columns(size_t node, size_t shard, const engine::PartPtr& part) {
  std::vector<Future> writes;
  for (size_t c = 0; c < schema_.columns.size(); ++c) {
    const uint64_t bytes = part->column_stats(c).compressed_bytes;
    if (bytes == 0) continue;
    writes.push_back(
        nodes_[node]->write_file(file_id(shard, part->name(), schema_.columns[c].name), 0, bytes));
  }
  return sim_.all_of(std::move(writes));
}

// ---- Replication -----------------------------------------------------------------------------

namespace {

// The part called `name` among `parts`, or one that covers it (a merge has absorbed it).
engine::PartPtr covering(const std::vector<engine::PartPtr>& parts, const std::string& name) {
  const std::optional<engine::PartInfo> info = engine::PartInfo::parse(name);
  for (const engine::PartPtr& p : parts) {
    if (p->name() == name || (info && p->info().contains(*info))) return p;
  }
  return nullptr;
}

}  // namespace

Cluster::PartSource Cluster::find_source(size_t shard, const std::string& part,
                                         const Replica* except, std::optional<HostId> to) const {
  for (const auto& replica : replicas_[shard]) {
    if (replica.get() == except || !replica_up(*replica)) continue;
    // A source cut off from the fetching replica (a partition) is no source: another may do.
    if (to && !network_.route_latency(hosts_[replica->node], *to)) continue;
    if (engine::PartPtr p = covering(visible_parts(*replica), part)) return {replica.get(), p};
  }
  throw SimFault(FaultKind::kUnreachable, "no replica that is up has " + part);
}

bool Cluster::has_covering(const Replica& replica, const std::string& part) const {
  return covering(replica.table->active_parts(), part) != nullptr;
}

void Cluster::link_from(Replica* replica, const PartSource& source) {
  // The transfer took simulated time; the source may have merged the part away meanwhile (its
  // files are gone then). Retry later from whatever covers it now.
  if (!replica_up(*replica)) throw SimFault(FaultKind::kNodeDown, "the replica went down");
  if (source.replica->table->find_active(source.part->name()) != source.part) {
    throw SimFault(FaultKind::kUnreachable, source.part->name() + " was merged away at its source");
  }
  replica->table->attach_linked(*source.part);
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
      for (const std::string& name : entry.merged) replica->table->drop_part(name);
      ++replica->applied;
      signal_shard(shard);
      continue;
    }
    if (has_covering(*replica, entry.part)) {
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
}

Process Cluster::run_apply_merge(Replica* replica, LogEntry entry) {
  // Every source must be here to merge locally; otherwise fetch the result like a new part.
  bool all_sources = true;
  for (const std::string& name : entry.merged) {
    all_sources = all_sources && replica->table->find_active(name) != nullptr;
  }
  if (!all_sources) {
    co_await sim_.spawn(run_fetch(replica, entry));
    co_return;
  }
  Node& node = *nodes_[replica->node];
  engine::MergeProfile profile;
  profile.parts = entry.merged.size();
  profile.rows_read = entry.rows;
  profile.uncompressed_bytes_read = entry.uncompressed_bytes;
  std::vector<Future> reads;
  for (const std::string& name : entry.merged) {
    const engine::PartPtr part = replica->table->find_active(name);
    for (size_t c = 0; c < schema_.columns.size(); ++c) {
      const uint64_t bytes = part->column_stats(c).compressed_bytes;
      if (bytes > 0) {
        reads.push_back(node.read_file(file_id(replica->shard, name, schema_.columns[c].name), 0,
                                       bytes));
      }
    }
  }
  reads.push_back(node.compute(cost_.merge_cpu(profile), "merge"));
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
    const engine::PartPtr merged = merge_locally(replica, entry);
    co_await write_columns(replica->node, replica->shard, merged);
  }
  ++counters_.merges;
}

engine::PartPtr Cluster::merge_locally(Replica* replica, const LogEntry& entry) {
  if (!replica_up(*replica)) throw SimFault(FaultKind::kNodeDown, "the replica went down");
  engine::MergePlan plan;
  plan.result = *engine::PartInfo::parse(entry.part);
  plan.partition_id = plan.result.partition_id;
  for (const std::string& name : entry.merged) {
    engine::PartPtr part = replica->table->find_active(name);
    // A source fetched away meanwhile (covered by a newer part): apply the entry again later.
    if (!part) throw SimFault(FaultKind::kUnreachable, name + " is no longer active here");
    plan.rows += part->rows();
    plan.bytes += part->bytes_on_disk();
    plan.parts.push_back(std::move(part));
  }
  const engine::MergeProfile done = replica->table->merge(plan, entry.merged_at_s);
  SHARDLAB_ASSERT(done.result_part == entry.part, "merging {} here made {}", entry.part,
                  done.result_part);
  return replica->table->find_active(done.result_part);
}

Process Cluster::run_merge_scheduler(size_t shard, Replica* own) {
  for (;;) {
    co_await sim_.sleep(spec_.merge_interval);
    // Replicated: the first replica that is up and current chooses (the leader). Otherwise each
    // replica merges for itself.
    Replica* leader = own;
    if (!leader) {
      for (auto& replica : replicas_[shard]) {
        if (replica_up(*replica) && replica->applied == coordinator_->log(shard).size()) {
          leader = replica.get();
          break;
        }
      }
    }
    if (!leader || !replica_up(*leader)) continue;
    std::optional<engine::MergePlan> plan =
        engine::select_merge(mergeable_parts(*leader), schema_.settings);
    if (plan && replicated() &&
        coordinator_->any_reserved(shard, plan->result.min_block, plan->result.max_block)) {
      continue;  // a write holding a block number in that range is still in flight
    }
    if (!plan) {
      // Nothing to merge until the shard changes: wait for that rather than poll.
      co_await wait_for_change(shard);
      continue;
    }
    Node& node = *nodes_[leader->node];
    engine::MergeProfile estimate;
    estimate.parts = plan->parts.size();
    estimate.rows_read = plan->rows;
    std::vector<Future> reads;
    for (const engine::PartPtr& part : plan->parts) {
      for (size_t c = 0; c < schema_.columns.size(); ++c) {
        const engine::ColumnStats stats = part->column_stats(c);
        estimate.uncompressed_bytes_read += stats.uncompressed_bytes;
        estimate.compressed_bytes_read += stats.compressed_bytes;
        if (stats.compressed_bytes > 0) {
          reads.push_back(node.read_file(file_id(shard, part->name(), schema_.columns[c].name), 0,
                                         stats.compressed_bytes));
        }
      }
    }
    reads.push_back(node.compute(cost_.merge_cpu(estimate), "merge"));
    try {
      co_await sim_.all_of(std::move(reads));
    } catch (const SimFault&) {
      continue;
    }
    // The sources may have changed while the merge was simulated (a fetch of a covering part).
    bool still_active = replica_up(*leader);
    for (const engine::PartPtr& part : plan->parts) {
      still_active = still_active && leader->table->find_active(part->name()) == part;
    }
    if (!still_active) continue;
    const int64_t now_s = spec_.epoch_s + sim_.now().ns() / 1'000'000'000;
    const engine::MergeProfile profile = leader->table->merge(*plan, now_s);
    ++counters_.merges;
    // Empty when every row expired: the entry then tells the other replicas to drop the sources.
    const engine::PartPtr merged = profile.result_part.empty()
                                       ? nullptr
                                       : leader->table->find_active(profile.result_part);
    if (merged) {
      try {
        co_await write_columns(leader->node, shard, merged);
      } catch (const SimFault&) {
      }
    }
    if (replicated()) {
      LogEntry entry;
      entry.kind = LogEntry::Kind::kMerge;
      entry.part = profile.result_part;
      for (const engine::PartPtr& part : plan->parts) entry.merged.push_back(part->name());
      entry.rows = profile.rows_read;
      entry.uncompressed_bytes = profile.uncompressed_bytes_read;
      entry.bytes = merged ? merged->bytes_on_disk() : 0;
      entry.merged_at_s = now_s;
      entry.source_replica = leader->index;
      coordinator_->append(shard, std::move(entry));
      // The leader made it; its own applier finds it covered.
      signal_shard(shard);
    }
  }
}

std::vector<engine::PartPtr> Cluster::mergeable_parts(const Replica& replica) const {
  std::vector<engine::PartPtr> parts = replica.table->active_parts();
  if (replica.hidden.empty()) return parts;
  // Writes in flight hold the newest block numbers of their partitions: the parts below the
  // lowest of them can merge (a merge must not span a block still being written); a partition
  // with no write in flight merges as usual. Waiting for no write at all would starve merges
  // under steady ingest, when some write is nearly always in flight.
  std::map<std::string, uint64_t> first_hidden;
  for (const std::string& name : replica.hidden) {
    const std::optional<engine::PartInfo> info = engine::PartInfo::parse(name);
    if (!info) continue;
    auto [it, inserted] = first_hidden.emplace(info->partition_id, info->min_block);
    if (!inserted) it->second = std::min(it->second, info->min_block);
  }
  std::erase_if(parts, [&](const engine::PartPtr& part) {
    const auto it = first_hidden.find(part->info().partition_id);
    return it != first_hidden.end() && part->info().max_block >= it->second;
  });
  return parts;
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

// ---- Query path ------------------------------------------------------------------------------

std::vector<engine::PartPtr> Cluster::visible_parts(const Replica& replica) const {
  std::vector<engine::PartPtr> parts = replica.table->active_parts();
  if (!replica.hidden.empty()) {
    std::erase_if(parts, [&](const engine::PartPtr& p) {
      return std::find(replica.hidden.begin(), replica.hidden.end(), p->name()) !=
             replica.hidden.end();
    });
  }
  return parts;
}

engine::PartResult Cluster::execute_on_replica(const Replica& replica, const engine::Query& query,
                                               std::vector<PartRead>* reads) {
  engine::PartResult partial = query.empty_result();
  // Replicated shards share part names for the same rows, so their replicas share memo entries.
  // Without internal replication each replica numbers its own blocks: a replica that missed a
  // write gives the same name to other rows, so each replica memoises on its own.
  const size_t copy = replicated() ? replica.shard
                                   : replicas_.size() + replica.shard * spec_.replicas + replica.index;
  const std::vector<engine::PartPtr> parts = visible_parts(replica);
  auto memoised = [&](const engine::PartPtr& part) -> const engine::PartResult& {
    if (const engine::PartResult* memo = memo_.find(copy, query.fingerprint(), part->name())) {
      ++counters_.memo_hits;
      return *memo;
    }
    ++counters_.memo_misses;
    return memo_.insert(copy, query.fingerprint(), part->name(), query.run_part(part));
  };
  std::vector<engine::WorkProfile> profiles(parts.size());
  if (!partial.aggregate) {
    for (size_t idx = 0; idx < parts.size(); ++idx) {
      const engine::PartResult& memo = memoised(parts[idx]);
      PartResultCache::accumulate(memo, &partial);
      profiles[idx] = memo.profile;
    }
  } else {
    // Aggregations start from the replica's kept merged state of its settled parts (large ones,
    // which later merges rarely combine with parts the state has not seen), brought up to date,
    // and merge in only the recent parts, which inserts and merges keep replacing.
    std::vector<engine::PartPtr> settled;
    std::vector<size_t> settled_at, recent_at;
    for (size_t idx = 0; idx < parts.size(); ++idx) {
      if (parts[idx]->rows() >= spec_.merged_settled_rows) {
        settled.push_back(parts[idx]);
        settled_at.push_back(idx);
      } else {
        recent_at.push_back(idx);
      }
    }
    const size_t replica_id = replica.shard * spec_.replicas + replica.index;
    auto update =
        merged_.begin(replica_id, query.fingerprint(), settled, std::move(*partial.aggregate));
    for (size_t k = 0; k < settled.size(); ++k) {
      const engine::PartResult& memo = memoised(settled[k]);
      if (update.needs(k)) {
        update.add(*memo.aggregate);
      } else {
        ++counters_.kept_parts_reused;
      }
      profiles[settled_at[k]] = memo.profile;
    }
    partial.aggregate.emplace(merged_.finish(replica_id, query.fingerprint(), settled));
    for (size_t idx : recent_at) {
      const engine::PartResult& memo = memoised(parts[idx]);
      partial.aggregate->merge(*memo.aggregate);
      profiles[idx] = memo.profile;
    }
    for (const engine::WorkProfile& profile : profiles) partial.profile.add(profile);
  }
  if (reads) {
    for (size_t idx = 0; idx < parts.size(); ++idx)
      reads->push_back(PartRead{parts[idx], std::move(profiles[idx])});
  }
  partial.profile.groups = partial.aggregate ? partial.aggregate->groups() : 0;
  partial.profile.result_bytes = partial_result_bytes(partial);
  return partial;
}

Future Cluster::read_columns(size_t node, size_t shard, const engine::PartPtr& part,
                             const engine::WorkProfile& profile) {
  std::vector<Future> reads;
  for (const auto& [column, stats] : profile.columns) {
    if (stats.compressed_bytes == 0) continue;
    reads.push_back(
        nodes_[node]->read_file(file_id(shard, part->name(), column), 0, stats.compressed_bytes));
  }
  return sim_.all_of(std::move(reads));
}

Future Cluster::query(size_t initiator, const engine::Query& query, QueryAnswer* answer,
                      const std::vector<bool>* shards) {
  SHARDLAB_ASSERT(initiator < nodes_.size(), "no node {}", initiator);
  return sim_.spawn(run_query(initiator, &query, answer, shards));
}

Process Cluster::run_query(size_t initiator, const engine::Query* query, QueryAnswer* answer,
                           const std::vector<bool>* shards) {
  const Time start = sim_.now();
  ++counters_.queries;
  try {
    if (!nodes_[initiator]->up() || process_down_[initiator]) {
      throw SimFault(FaultKind::kNodeDown, spec_.nodes[initiator].name + " is down");
    }
    // The shards serving when the query arrives; a query that started before a reshard does
    // not visit the shards that joined meanwhile.
    const size_t serving = active_shards_;
    std::vector<engine::PartResult> partials(serving);
    std::vector<bool> visited(serving, true);
    std::vector<Future> subqueries;
    for (size_t s = 0; s < serving; ++s) {
      if (shards && s < shards->size() && !(*shards)[s]) {
        partials[s] = query->empty_result();
        visited[s] = false;
        ++counters_.shards_pruned;
        continue;
      }
      subqueries.push_back(sim_.spawn(run_subquery(initiator, s, query, &partials[s])));
    }
    co_await sim_.all_of(std::move(subqueries));
    uint64_t groups = 0;
    uint64_t rows_merged = 0;  // candidate rows of non-aggregating queries (ORDER BY ... LIMIT)
    for (const engine::PartResult& p : partials) {
      groups += p.aggregate ? p.aggregate->groups() : 0;
      rows_merged += p.rows.empty() ? 0 : p.rows.front().rows;
    }
    engine::QueryResult result;
    if (spec_.settings.group_by_no_merge) {
      // Each shard finishes its own part; the initiator only concatenates.
      for (size_t shard = 0; shard < partials.size(); ++shard) {
        if (!visited[shard]) continue;  // pruned or skipped: nothing to concatenate
        engine::PartResult& partial = partials[shard];
        std::vector<engine::PartResult> one;
        one.push_back(std::move(partial));
        engine::QueryResult shard_result = query->finish(std::move(one));
        if (result.columns.empty()) {
          result = std::move(shard_result);
        } else {
          for (size_t c = 0; c < result.columns.size(); ++c) {
            engine::append_column(&result.columns[c], shard_result.columns[c]);
          }
        }
      }
      groups = 0;
      rows_merged = 0;
    } else {
      result = query->finish(std::move(partials));
    }
    co_await nodes_[initiator]->compute(
        cost_.initiator_merge_cpu(groups, result.profile.result_bytes, rows_merged),
        "merge results");
    answer->result = std::move(result);
    answer->latency = sim_.now() - start;
  } catch (const SimFault&) {
    ++counters_.query_errors;
    throw;
  }
}

std::vector<size_t> Cluster::replica_order(size_t initiator, size_t shard) {
  std::vector<size_t> order = balancers_[shard].order(sim_.now(), spec_.nodes[initiator].name,
                                                      spec_.settings.prefer_localhost_replica);
  if (!replicated()) return order;
  // Replicas lagging more than max_replica_delay go last, or are skipped without the fallback.
  const std::vector<LogEntry>& log = coordinator_->log(shard);
  auto stale = [&](size_t r) {
    const Replica& replica = *replicas_[shard][r];
    return replica.applied < log.size() &&
           sim_.now() - log[replica.applied].created > spec_.settings.max_replica_delay;
  };
  std::stable_partition(order.begin(), order.end(), [&](size_t r) { return !stale(r); });
  if (!spec_.settings.fallback_to_stale_replicas) std::erase_if(order, stale);
  return order;
}

Process Cluster::run_subquery(size_t initiator, size_t shard, const engine::Query* query,
                              engine::PartResult* out) {
  LoadBalancer& balancer = balancers_[shard];
  for (size_t r : replica_order(initiator, shard)) {
    Replica* replica = replicas_[shard][r].get();
    for (uint32_t attempt = 0; attempt < spec_.settings.connect_tries; ++attempt) {
      if (!replica_up(*replica) || !network_.route_latency(hosts_[initiator], hosts_[replica->node])) {
        // A connection to a dead or unreachable server costs the connect timeout.
        co_await sim_.sleep(spec_.settings.connect_timeout);
        balancer.record_error(r, sim_.now());
        ++counters_.failovers;
        continue;
      }
      try {
        co_await sim_.spawn(run_on_replica(initiator, replica, query, out));
        co_return;
      } catch (const SimFault& fault) {
        if (fault.kind() == FaultKind::kCancelled) throw;
        balancer.record_error(r, sim_.now());
        ++counters_.failovers;
        break;  // the replica failed mid-query: on to the next one
      }
    }
  }
  if (spec_.settings.skip_unavailable_shards) {
    *out = query->empty_result();
    co_return;
  }
  throw SimFault(FaultKind::kUnreachable, fmt::format("no replica of shard {} answered", shard + 1));
}

Process Cluster::run_on_replica(size_t initiator, Replica* replica, const engine::Query* query,
                                engine::PartResult* out) {
  const HostId from = hosts_[initiator];
  const HostId to = hosts_[replica->node];
  co_await network_.transfer(from, to, Coordinator::kRequestBytes);
  if (!replica_up(*replica)) {
    throw SimFault(FaultKind::kNodeDown, spec_.nodes[replica->node].name + " is down");
  }
  std::vector<PartRead> reads;
  engine::PartResult partial = execute_on_replica(*replica, *query, &reads);
  const SubqueryDemand demand = cost_.subquery(partial.profile);
  Node& node = *nodes_[replica->node];
  std::vector<Future> work;
  work.push_back(node.compute(demand.cpu_s, "query"));
  for (const PartRead& read : reads) {
    work.push_back(read_columns(replica->node, replica->shard, read.part, read.profile));
  }
  co_await sim_.all_of(std::move(work));
  co_await network_.transfer(to, from, static_cast<double>(demand.result_bytes));
  bytes_sent_[replica->node] += demand.result_bytes;
  bytes_received_[initiator] += demand.result_bytes;
  *out = std::move(partial);
}

// ---- Faults and final state ------------------------------------------------------------------

void Cluster::crash_node(size_t node, CrashKind kind) {
  Node& n = *nodes_[node];
  if (!n.up() || process_down_[node]) return;
  network_.set_node_up(hosts_[node], false);
  if (kind == CrashKind::kNodeLoss) {
    n.crash();
    // The async queue was in the page cache, never fsynced: gone, and counted. A block being
    // sent right now may still reach its shard; its sender settles its fate.
    for (ShardQueue& queue : queues_[node]) {
      const bool in_flight = !queue.blocks.empty() && queue.blocks.front().sending;
      while (queue.blocks.size() > (in_flight ? 1u : 0u)) {
        counters_.rows_lost += queue.blocks.back().rows;
        queue.rows -= queue.blocks.back().rows;
        queue.blocks.pop_back();
      }
      if (in_flight) queue.blocks.front().orphaned = true;
    }
  } else {
    // The server process died: its work in flight fails, the machine keeps disk and cache.
    process_down_[node] = true;
    n.cpu().fail_all(FaultKind::kNodeDown, spec_.nodes[node].name + " restarted");
    n.disk().fail_all(FaultKind::kNodeDown, spec_.nodes[node].name + " restarted");
  }
}

void Cluster::restart_node(size_t node) {
  nodes_[node]->restart();
  process_down_[node] = false;
  network_.set_node_up(hosts_[node], true);
  for (size_t s = 0; s < replicas_.size(); ++s) signal_shard(s);
}

uint64_t Cluster::queued_rows() const {
  uint64_t rows = 0;
  for (const auto& per_node : queues_) {
    for (const ShardQueue& queue : per_node) rows += queue.rows;
  }
  return rows;
}

const Cluster::Replica& Cluster::most_current(size_t shard) const {
  const Replica* best = replicas_[shard].front().get();
  uint64_t best_rows = 0;
  for (const auto& replica : replicas_[shard]) {
    uint64_t rows = 0;
    for (const engine::PartPtr& part : visible_parts(*replica)) rows += part->rows();
    if (rows > best_rows) {
      best = replica.get();
      best_rows = rows;
    }
  }
  return *best;
}

std::vector<Cluster::ShardState> Cluster::shard_states() const {
  std::vector<ShardState> states;
  for (size_t s = 0; s < replicas_.size(); ++s) {
    ShardState state;
    for (const engine::PartPtr& part : visible_parts(most_current(s))) {
      state.rows += part->rows();
      state.bytes += part->bytes_on_disk();
      ++state.parts;
    }
    states.push_back(state);
  }
  return states;
}

engine::QueryResult Cluster::query_now(const engine::Query& query,
                                       const std::vector<bool>* shards) {
  std::vector<engine::PartResult> partials;
  for (size_t s = 0; s < active_shards_; ++s) {
    partials.push_back(shards && s < shards->size() && !(*shards)[s] ? query.empty_result()
                                               : execute_on_replica(most_current(s), query, nullptr));
  }
  return query.finish(std::move(partials));
}

void Cluster::grow(ShardingSpec next) {
  if (next.shards <= active_shards_ || next.shards > replicas_.size()) {
    throw InputError(fmt::format("a cluster of {} shards, {} of them joining, cannot grow to {}",
                                 active_shards_, replicas_.size() - active_shards_, next.shards));
  }
  schemes_.emplace_back(schema_, std::move(next));
  active_shards_ = schemes_.back().shards();
}

std::vector<bool> Cluster::shards_to_visit(std::string_view sql) const {
  // Growing moves no data: rows stay where the scheme of their day put them, so a shard is
  // skipped only if no scheme it ever served under could have sent it a matching row.
  std::vector<bool> visit(active_shards_, false);
  for (const ShardingScheme& scheme : schemes_) {
    const std::vector<bool> by_scheme = cluster::shards_to_visit(scheme, schema_, sql);
    for (size_t s = 0; s < by_scheme.size(); ++s) visit[s] = visit[s] || by_scheme[s];
  }
  // Shards that joined after a scheme hold rows only from later schemes; nothing more to add.
  return visit;
}

std::vector<engine::PartPtr> Cluster::active_parts(size_t shard) const {
  return visible_parts(most_current(shard));
}

}  // namespace shardlab::sim::cluster
