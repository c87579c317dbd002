// A look-aside cache in front of the cluster: the clients ask memcached first, and on a miss
// run the query on the cluster and store the answer. Which templates are cached, and how the
// cache is kept in step with the data (the sync strategy), are scenario settings.
//
// Read path. The client (on its initiator's host) sends `get key` to the key's server. A hit
// answers from the cache. A miss runs the distributed query and then `set`s the answer (its size
// decides its slab class) with the strategy's TTL. With leases, only the first client to miss a
// key recomputes it; the others wait `lease_retry` and ask again (memcached's lease / "win"
// token), so an expiry or invalidation sends one query to the cluster instead of a herd. With
// `lease_stale`, a waiter that knows the previous answer takes it at once instead of waiting
// (memcached's stale value handed out with a lease refusal); whether it was stale is decided as
// for any other served answer.
//
// Sync strategies:
//   ttl     entries expire after `ttl`; with `refresh_interval`, the hot set (the most requested
//           keys of the last interval) is recomputed and written every interval.
//   access  every `refresh_interval`, the `refresh_keys` keys most requested over the sliding
//           `access_window` are recomputed and written before they are asked for again.
//   change  every acknowledged INSERT invalidates (action delete) or recomputes and rewrites
//           (action update) exactly the cached answers it affects (AnswerPredicate). Delivery:
//             client      the writer, once its INSERT is acknowledged, from its initiator;
//             server      the shard replica that committed the rows, at commit (for async
//                         inserts, when the queued block reaches the shard);
//             middleware  the commit is appended to a change log (a message to the broker
//                         host, Kafka-style partitions); a consumer per partition polls every
//                         `batch_interval`, runs `lag` behind, and applies the batch.
//
// Staleness is measured exactly under every strategy: a served answer is stale when an
// acknowledged INSERT that affects it came after the answer was computed (the query's start).
// Its age is the time since the first such INSERT.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/cache/answer_predicate.h"
#include "sim/cache/cache_tier.h"
#include "sim/cache/partition_map.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/workload.h"

namespace shardlab::sim::cache {

enum class SyncStrategy : uint8_t { kTtl, kAccess, kChange };
enum class ChangeDelivery : uint8_t { kClient, kServer, kMiddleware };
enum class ChangeAction : uint8_t { kDelete, kUpdate };

const char* sync_strategy_name(SyncStrategy strategy);
const char* change_delivery_name(ChangeDelivery delivery);

struct LookAsideConfig {
  std::vector<bool> cached;  // per query template
  SyncStrategy strategy = SyncStrategy::kTtl;
  uint32_t ttl_s = 300;  // 0: no expiry
  Duration refresh_interval;  // ttl: 0 for no refresh; access: the warm-up period
  size_t refresh_keys = 100;
  Duration access_window = Duration::seconds(600);
  ChangeDelivery delivery = ChangeDelivery::kClient;
  ChangeAction action = ChangeAction::kDelete;
  std::string broker_host;  // middleware: where the log and its consumers run
  uint32_t partitions = 8;
  Duration batch_interval = Duration::milliseconds(100);
  Duration consumer_lag = Duration::seconds(1);
  uint32_t change_record_bytes = 64;  // per inserted row in the log
  bool leases = false;
  bool lease_stale = false;  // a waiter takes the previous answer instead of retrying
  Duration lease_retry = Duration::milliseconds(10);
  Duration lease_timeout = Duration::seconds(10);  // a waiter then computes it itself
  Duration bin = Duration::seconds(60);            // time-series resolution
  std::optional<PartitionMap> partition;  // the tier's placement is kPartition
};

// Per template. Requests are the cached template's queries; cluster_queries all the queries the
// cache sent to the cluster for it (misses, refreshes, updates).
struct TemplateCacheStats {
  uint64_t requests = 0;
  uint64_t hits = 0;
  uint64_t stale_hits = 0;
  uint64_t cluster_queries = 0;
  uint64_t refreshes = 0;
  uint64_t invalidations = 0;  // deletes or updates sent for changes
  uint64_t lease_waits = 0;
  uint64_t lease_stale_served = 0;  // previous answers handed to waiters (counted in hits)
  std::vector<double> stale_ages_s;  // one per stale hit
  std::vector<uint32_t> cluster_queries_per_s;  // per second of simulated time
  std::vector<uint64_t> requests_per_bin;
  std::vector<uint64_t> hits_per_bin;
};

class LookAsideCache : public cluster::QueryFrontend {
 public:
  // REQUIRES: everything outlives the simulation's run. Throws InputError for a host the
  // network lacks.
  LookAsideCache(Simulation& sim, Network& network, cluster::Cluster& cluster,
                 cluster::WorkloadDriver& driver, CacheTier& tier, LookAsideConfig config);

  // Spawns the strategy's background processes (refreshers, log consumers).
  void start(Time end);

  Process serve(cluster::QueryRequest request) override;
  void insert_acknowledged(size_t initiator, std::shared_ptr<const engine::Block> block) override;

  const std::vector<TemplateCacheStats>& stats() const { return stats_; }
  const LookAsideConfig& config() const { return config_; }
  // Queries that reached the cluster in each second of simulated time (every template, cached
  // or not), and the ones served from the cache.
  const std::vector<uint32_t>& cluster_queries_per_s() const { return cluster_per_s_; }
  uint64_t change_batches() const { return change_batches_; }
  Duration max_change_delay() const { return max_change_delay_; }

 private:
  struct Entry {
    size_t template_index = 0;
    cluster::QueryRequest request;  // to recompute it
    std::shared_ptr<const AnswerPredicate> predicate;
    Time computed_at;                // start of the query whose answer is stored
    std::optional<Time> stale_since;  // first affecting INSERT acknowledged after computed_at
    uint32_t value_bytes = 0;
    bool computing = false;  // a lease is out for it
  };
  struct Change {
    Time acknowledged;
    std::shared_ptr<const engine::Block> rows;
  };

  Process run_on_cluster(cluster::QueryRequest request, bool* ok);
  Process read_through(cluster::QueryRequest request, HostId client);
  Process recompute(std::string key, HostId client);
  Process refresher(Time end);
  Process deliver(std::vector<std::string> keys, HostId from);
  Process run_consumer(uint32_t partition, Time end);
  Process publish(size_t shard, size_t node, std::shared_ptr<const engine::Block> rows);

  // The keys of the stored answers computed by `at` that `rows` affect.
  std::vector<std::string> keys_affected(const engine::Block& rows, Time at);
  Duration access_bin_width() const;
  void note_access(const std::string& key);
  void count_cluster_query(size_t template_index);
  size_t bin_of(Time at) const { return static_cast<size_t>(at.ns() / config_.bin.ns()); }
  static void bump(std::vector<uint64_t>& bins, size_t bin);
  std::shared_ptr<const AnswerPredicate> predicate_for(const cluster::QueryRequest& request);
  // The key as the tier takes it: with a partition map, the node it names.
  CacheKey cache_key(const std::string& key, const cluster::QueryRequest& request) const {
    return CacheKey(key, config_.partition ? config_.partition->server_of(request) : std::nullopt);
  }

  Simulation& sim_;
  Network& network_;
  cluster::Cluster& cluster_;
  CacheTier& tier_;
  LookAsideConfig config_;
  std::vector<TemplateCacheStats> stats_;
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, std::shared_ptr<const AnswerPredicate>> predicates_;
  // Acknowledged INSERTs since the oldest query still running: its answer may miss them.
  std::deque<Change> recent_changes_;
  std::multiset<Time> in_flight_;  // start times of the cache's queries running now
  // Sliding access counts: one map per bin of the window.
  std::deque<std::unordered_map<std::string, uint32_t>> access_bins_;
  Time access_bin_start_;
  std::vector<uint32_t> cluster_per_s_;
  // middleware: each partition's pending change records (when they were committed, and rows)
  std::vector<std::deque<Change>> log_;
  HostId broker_{};
  uint64_t change_batches_ = 0;
  Duration max_change_delay_;
};

}  // namespace shardlab::sim::cache
