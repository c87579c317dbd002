// The query path of Cluster (cluster.h, "Query path"): replica choice with failover, subqueries
// on the chosen replicas' stores, and the initiator's two-stage aggregation.
#include <fmt/format.h>

#include <algorithm>

#include "base/errors.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/query_memory.h"
#include "sim/cluster/replica_store.h"

namespace shardlab::sim::cluster {

namespace {

// group_by_no_merge: each shard finishes its own part; the initiator only concatenates them.
engine::QueryResult concatenate_shards(const engine::Query& query,
                                       std::vector<engine::PartResult> partials,
                                       const std::vector<bool>& visited) {
  engine::QueryResult result;
  for (size_t shard = 0; shard < partials.size(); ++shard) {
    if (!visited[shard]) continue;  // pruned or skipped: nothing to concatenate
    std::vector<engine::PartResult> one;
    one.push_back(std::move(partials[shard]));
    engine::QueryResult shard_result = query.finish(std::move(one));
    if (result.columns.empty()) {
      result = std::move(shard_result);
    } else {
      for (size_t c = 0; c < result.columns.size(); ++c) {
        engine::append_column(&result.columns[c], shard_result.columns[c]);
      }
    }
  }
  return result;
}

}  // namespace

engine::PartResult Cluster::execute_on_replica(const Replica& replica, const engine::Query& query,
                                               std::vector<PartRead>* reads) {
  MemoStats stats;
  engine::PartResult partial = replica.store->run_query(query, reads, &stats);
  counters_.memo_hits += stats.hits;
  counters_.memo_misses += stats.misses;
  counters_.kept_parts_reused += stats.kept_parts_reused;
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
    std::vector<SubqueryPlace> places(serving);
    std::vector<Future> subqueries;
    for (size_t s = 0; s < serving; ++s) {
      if (shards && s < shards->size() && !(*shards)[s]) {
        partials[s] = query->empty_result();
        visited[s] = false;
        ++counters_.shards_pruned;
        continue;
      }
      subqueries.push_back(sim_.spawn(run_subquery(initiator, s, query, &partials[s], &places[s])));
    }
    co_await sim_.all_of(std::move(subqueries));
    uint64_t groups = 0;
    uint64_t rows_merged = 0;  // candidate rows of non-aggregating queries (ORDER BY ... LIMIT)
    for (const engine::PartResult& p : partials) {
      groups += p.aggregate ? p.aggregate->groups() : 0;
      rows_merged += p.rows.empty() ? 0 : p.rows.front().rows;
    }
    // The shards' partial states, held until the merge is done, with what the shards answered
    // on the initiator itself held: ClickHouse counts a local shard's pipeline in the query's
    // own memory.
    uint64_t remote_shards = 0;
    uint64_t local_bytes = 0;
    for (const SubqueryPlace& place : places) {
      remote_shards += place.remote ? 1 : 0;
      local_bytes += place.remote ? 0 : place.memory_bytes;
    }
    account_query_memory(initiator, initiator_memory_bytes(partials, remote_shards) + local_bytes);
    engine::QueryResult result;
    if (spec_.settings.group_by_no_merge) {
      result = concatenate_shards(*query, std::move(partials), visited);
      groups = 0;
      rows_merged = 0;
    } else {
      result = query->finish(std::move(partials));
    }
    const double merge_cpu =
        cost_.initiator_merge_cpu(groups, result.profile.result_bytes, rows_merged);
    counters_.initiator_cpu_s += merge_cpu;
    co_await nodes_[initiator]->compute(merge_cpu, "merge results");
    answer->result = std::move(result);
    answer->latency = sim_.now() - start;
  } catch (const SimFault& fault) {
    ++counters_.query_errors;
    if (fault.kind() == FaultKind::kRefused) ++counters_.memory_refusals;
    throw;
  }
}

void Cluster::account_query_memory(size_t node, uint64_t bytes) {
  counters_.peak_query_memory_bytes = std::max(counters_.peak_query_memory_bytes, bytes);
  const uint64_t limit = spec_.settings.max_memory_usage;
  if (limit > 0 && bytes > limit) {
    const auto gib = [](uint64_t b) { return static_cast<double>(b) / 0x1.0p30; };
    throw SimFault(FaultKind::kRefused,
                   fmt::format("{}: Memory limit (for query) exceeded: would use {:.2f} GiB, "
                               "maximum: {:.2f} GiB",
                               spec_.nodes[node].name, gib(bytes), gib(limit)));
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
                              engine::PartResult* out, SubqueryPlace* place) {
  LoadBalancer& balancer = balancers_[shard];
  for (size_t r : replica_order(initiator, shard)) {
    Replica* replica = replicas_[shard][r].get();
    for (uint32_t attempt = 0; attempt < spec_.settings.connect_tries; ++attempt) {
      if (!replica_up(*replica) ||
          !network_.route_latency(hosts_[initiator], hosts_[replica->node])) {
        // A connection to a dead or unreachable server costs the connect timeout.
        co_await sim_.sleep(spec_.settings.connect_timeout);
        balancer.record_error(r, sim_.now());
        ++counters_.failovers;
        continue;
      }
      try {
        co_await sim_.spawn(run_on_replica(initiator, replica, query, out, &place->memory_bytes));
        place->remote = replica->node != initiator;
        co_return;
      } catch (const SimFault& fault) {
        // A memory refusal is the query's own: the server answered with an exception, which
        // ClickHouse does not retry on another replica.
        if (fault.kind() == FaultKind::kCancelled || fault.kind() == FaultKind::kRefused) throw;
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
  ++counters_.shard_failures;
  throw SimFault(FaultKind::kUnreachable,
                 fmt::format("no replica of shard {} answered", shard + 1));
}

Process Cluster::run_on_replica(size_t initiator, Replica* replica, const engine::Query* query,
                                engine::PartResult* out, uint64_t* memory_bytes) {
  const Time start = sim_.now();
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
  counters_.query_cpu_s += demand.cpu_s;
  // ClickHouse splits a subquery's parts and granule ranges over up to max_threads threads,
  // each reading at least kMinGranulesPerThread granules: the work runs as that many equal tasks,
  // which the node's cores share with everything else running there.
  const uint64_t limit = spec_.settings.max_threads > 0 ? spec_.settings.max_threads
                                                        : static_cast<uint64_t>(node.cpu().cores());
  const uint64_t threads = std::clamp<uint64_t>(
      partial.profile.granules_read / kMinGranulesPerThread, 1, std::max<uint64_t>(1, limit));
  *memory_bytes = subquery_memory_bytes(partial, threads);
  account_query_memory(replica->node, *memory_bytes);
  for (uint64_t thread = 0; thread < threads; ++thread) {
    work.push_back(node.compute(demand.cpu_s / static_cast<double>(threads), "query"));
  }
  for (const PartRead& read : reads) {
    work.push_back(read_columns(replica->node, replica->shard, read.part, read.profile));
  }
  co_await sim_.all_of(std::move(work));
  co_await network_.transfer(to, from, static_cast<double>(demand.result_bytes));
  bytes_sent_[replica->node] += demand.result_bytes;
  bytes_received_[initiator] += demand.result_bytes;
  *out = std::move(partial);
  trace_work(replica->node, "query", start);
}

QueryWork Cluster::work_of(const engine::Query& query) {
  QueryWork work;
  std::vector<engine::PartResult> partials;
  for (size_t s = 0; s < active_shards_; ++s) {
    // Not counted in the run's memo statistics: this is not one of the run's queries.
    MemoStats scratch;
    partials.push_back(most_current(s).store->run_query(query, nullptr, &scratch));
    const SubqueryDemand demand = cost_.subquery(partials.back().profile);
    work.cpu_s += demand.cpu_s;
    work.max_shard_cpu_s = std::max(work.max_shard_cpu_s, demand.cpu_s);
    work.disk_bytes += demand.disk_bytes;
    work.result_bytes += demand.result_bytes;
    ++work.shards;
  }
  uint64_t groups = 0;
  uint64_t rows_merged = 0;
  for (const engine::PartResult& p : partials) {
    groups += p.aggregate ? p.aggregate->groups() : 0;
    rows_merged += p.rows.empty() ? 0 : p.rows.front().rows;
  }
  const engine::QueryResult result = query.finish(std::move(partials));
  if (spec_.settings.group_by_no_merge) {
    groups = 0;  // as run_query charges it: the initiator concatenates
    rows_merged = 0;
  }
  work.initiator_cpu_s =
      cost_.initiator_merge_cpu(groups, result.profile.result_bytes, rows_merged);
  return work;
}

engine::QueryResult Cluster::query_now(const engine::Query& query,
                                       const std::vector<bool>* shards) {
  std::vector<engine::PartResult> partials;
  for (size_t s = 0; s < active_shards_; ++s) {
    partials.push_back(shards && s < shards->size() && !(*shards)[s]
                           ? query.empty_result()
                           : execute_on_replica(most_current(s), query, nullptr));
  }
  return query.finish(std::move(partials));
}

}  // namespace shardlab::sim::cluster
