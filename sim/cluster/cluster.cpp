// Cluster's construction and the helpers its paths share (insert.cpp, replication.cpp,
// query.cpp, crash.cpp): replica health, simulated file ids and column I/O, shard signals, and
// the final state for reports.
#include "sim/cluster/cluster.h"

#include <fmt/format.h>

#include <set>

#include "base/errors.h"
#include "sim/cluster/replica_store.h"
#include "sim/cluster/shard_pruning.h"
#include "sim/core/trace.h"

namespace shardlab::sim::cluster {

// ---- Construction ----------------------------------------------------------------------------

Cluster::Cluster(Simulation& sim, Network& network, ClusterSpec spec, CostModel cost)
    : sim_(sim),
      network_(network),
      spec_(std::move(spec)),
      cost_(cost),
      schema_(engine::TableSchema::from_ddl(spec_.ddl)),
      caches_(std::make_unique<StoreCaches>(spec_.memo_capacity_bytes, spec_.merged_capacity_bytes,
                                            spec_.merged_settled_rows)) {
  if (spec_.nodes.empty()) throw InputError("a cluster needs at least one node");
  if (spec_.shards == 0 || spec_.replicas == 0) {
    throw InputError("a cluster needs at least one shard and one replica per shard");
  }
  {
    ShardingSpec first = spec_.sharding;
    first.shards = spec_.shards;
    schemes_.emplace_back(schema_, std::move(first));
  }
  make_nodes();
  process_down_.assign(nodes_.size(), false);
  const std::optional<HostId> coordinator_host = network_.find_host(spec_.coordinator_host);
  if (!coordinator_host) {
    throw InputError(
        fmt::format("coordinator host '{}' is not a host of the network", spec_.coordinator_host));
  }
  place_shards();
  const size_t total = spec_.placement.size();
  active_shards_ = spec_.shards;
  coordinator_ = std::make_unique<Coordinator>(sim_, network_, *coordinator_host,
                                               spec_.coordinator_op_latency, total);
  std::filesystem::create_directories(spec_.data_dir);
  make_replicas();
  queues_.assign(nodes_.size(), std::vector<ShardQueue>(total));
  bytes_sent_.assign(nodes_.size(), 0);
  bytes_received_.assign(nodes_.size(), 0);
  senders_started_.assign(nodes_.size(), false);
  waiters_.resize(total);
}

void Cluster::make_nodes() {
  // Servers naming one machine share it; the first one's hardware is the machine's, and the
  // others must agree, or the scenario meant two machines.
  std::map<std::string, std::pair<std::shared_ptr<Machine>, const NodeSpec*>> machines;
  for (const NodeSpec& node_spec : spec_.nodes) {
    const std::optional<HostId> host = network_.find_host(node_spec.name);
    if (!host) {
      throw InputError(fmt::format("node '{}' is not a host of the network", node_spec.name));
    }
    hosts_.push_back(*host);
    if (node_spec.machine.empty()) {
      nodes_.push_back(std::make_unique<Node>(sim_, node_spec));
      continue;
    }
    auto [it, first] = machines.try_emplace(node_spec.machine);
    if (first) {
      it->second = {std::make_shared<Machine>(sim_, node_spec.machine, node_spec), &node_spec};
    } else if (!same_hardware(node_spec, *it->second.second)) {
      throw InputError(fmt::format("nodes '{}' and '{}' share machine '{}' but not its hardware",
                                   it->second.second->name, node_spec.name, node_spec.machine));
    }
    nodes_.push_back(std::make_unique<Node>(sim_, node_spec, it->second.first));
  }
}

void Cluster::place_shards() {
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
}

void Cluster::make_replicas() {
  const size_t total = spec_.placement.size();
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
      // Replicated shards share part names for the same rows, so their replicas share memo
      // entries. Without internal replication each replica numbers its own blocks: a replica
      // that missed a write gives the same name to other rows, so each replica memoises on its
      // own. Kept merged states are always the replica's own.
      const size_t memo_copy = replicated() ? s : total + s * spec_.replicas + r;
      replica->store = std::make_unique<ReplicaStore>(
          spec_.data_dir / fmt::format("shard{}_replica{}", s + 1, r + 1), spec_.ddl, caches_.get(),
          memo_copy, s * spec_.replicas + r);
      replicas_[s].push_back(std::move(replica));
      replica_hosts.push_back(spec_.nodes[node_index].name);
    }
    balancers_.emplace_back(std::move(replica_hosts), spec_.settings.load_balancing,
                            spec_.settings.error_half_life, balancing.child(s));
  }
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

void Cluster::trace_work(size_t node, std::string_view what, Time start) {
  Tracer* tracer = sim_.tracer();
  if (!tracer) return;
  tracer->slice(tracer->track(spec_.nodes[node].name, "cluster"), what, start, sim_.now());
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

uint64_t Cluster::kept_state_rebuilds() const { return caches_->merged.rebuilds(); }

// ---- Simulated files -------------------------------------------------------------------------

FileId Cluster::file_id(size_t shard, const std::string& part, const std::string& column) {
  const std::string key = fmt::format("{}/{}/{}", shard, part, column);
  const auto it = file_ids_.find(key);
  if (it != file_ids_.end()) return it->second;
  const auto id = static_cast<FileId>(file_ids_.size() + 1);
  file_ids_.emplace(key, id);
  return id;
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

// ---- Shards and final state ------------------------------------------------------------------

const Cluster::Replica& Cluster::most_current(size_t shard) const {
  const Replica* best = replicas_[shard].front().get();
  uint64_t best_rows = 0;
  for (const auto& replica : replicas_[shard]) {
    const uint64_t rows = replica->store->visible_rows();
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
    for (const engine::PartPtr& part : most_current(s).store->visible_parts()) {
      state.rows += part->rows();
      state.bytes += part->bytes_on_disk();
      ++state.parts;
    }
    states.push_back(state);
  }
  return states;
}

std::vector<engine::PartPtr> Cluster::active_parts(size_t shard) const {
  return most_current(shard).store->visible_parts();
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

}  // namespace shardlab::sim::cluster
