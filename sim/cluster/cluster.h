// A ClickHouse-style cluster on simulated hardware: nodes, shards × replicas placed on them, a
// Distributed table in front, a coordination service, and the background work that keeps
// replicas in step. Every replica is a real engine table holding real rows; every duration is
// simulated. The cluster's logic runs as processes on the kernel, so it reads top to bottom.
// Every engine call goes through the replica's ReplicaStore (replica_store.h), which also holds
// the parts a write has not made visible yet; the processes only charge what it reports. The
// sections below are the source files: insert.cpp, replication.cpp, query.cpp, repair.cpp and
// crash.cpp; cluster.cpp has construction and the helpers they share.
//
// Insert path (insert()):
//   1. The initiator splits the block by the sharding scheme (real), charging the split's CPU.
//   2. async (the default): each shard's rows are written to the initiator's local queue (disk,
//      through the page cache, not fsynced, as in 18.16) and the insert is acknowledged. A sender
//      per (initiator, shard) ships the queue every async_send_interval, retrying failures.
//      sync: the insert is acknowledged once every shard has written its rows.
//   3. Writing to a shard: with internal_replication, to one replica (load-balancer order, failing
//      over), and replication copies it; without, to every replica. A replica write transfers the
//      block over the network, takes block numbers from the coordinator (a round trip), inserts
//      into the engine (real) and charges the insert's CPU and disk. The new parts stay invisible
//      to queries until that simulated write completes, and are rolled back if it fails. With
//      insert_quorum = N the write waits until N replicas hold every new part.
//
// Replication: each new part and each merge goes into the shard's log at the coordinator. Every
// replica runs a process that applies the log in order: it fetches parts it lacks from a replica
// that has them (network, disk, coordinator costs charged; the files are hard-linked, so the disk
// holds one copy) and applies merges (CPU and disk charged; the merged part is linked from the
// replica that made it). A replica that was down catches up when it returns. Replica lag is the
// age of the oldest log entry a replica has not applied. Merges are chosen by one replica per
// shard (the first one that is up and current), as ReplicatedMergeTree's leader does.
//
// Query path (query()):
//   1. For each shard the initiator orders the replicas by the load-balancing policy and tries
//      them in turn: a connection costs a request on the network; a replica that is down or
//      unreachable costs connect_timeout and an error on its counter (connect_tries times).
//      A shard with no replica left fails the query, unless skip_unavailable_shards.
//   2. The chosen replica runs the query on its visible active parts with the real engine. Each
//      (shard, query fingerprint, part) result is memoised: parts are immutable, so a long run does
//      not re-scan unchanged parts; and each replica keeps its settled parts' merged aggregation
//      state between queries (MergedAggregateCache), so it does not re-merge them either. Neither
//      changes the simulated cost, which is always that of scanning and merging every part. The
//      work profile becomes CPU (cost model), disk reads of each column file through the node's
//      page cache, and the result's bytes back to the initiator.
//   3. The initiator merges the shards' partial results (two-stage aggregation), charging the
//      merge's CPU; with group_by_no_merge each shard finishes its own and the initiator
//      concatenates.
//   Memory (query_memory.h): a subquery holds its threads' aggregation states and read buffers,
//   the initiator the shards' partial states while it merges; past max_memory_usage the query
//   fails (kRefused) and no other replica is tried.
//
// Damaged parts (break_parts()): a replica that finds a part damaged detaches it and fetches it
// again from a peer, as ReplicatedMergeTree does after its part check; until then it answers
// without those rows.
//
// Crashes (crash_node()): a node loss fails everything running on the node; its replicas stop
// serving and applying the log until restart; an initiator's async queue is lost unless the crash
// is a process restart (disk and page cache survive), and the lost rows are counted exactly.
// Nodes may share a machine (NodeSpec::machine, node.h): then their work competes for its
// hardware, and a node loss is that server's death alone (kill -9), so its queue survives in
// the machine's page cache.
//
// Lifetime: the cluster's processes reference it. Destroying a Cluster first shuts the
// simulation down (Simulation::shutdown()), freeing every process.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shardlab/engine/query.h"
#include "sim/cluster/coordinator.h"
#include "sim/cluster/cost_model.h"
#include "sim/cluster/load_balancer.h"
#include "sim/cluster/settings.h"
#include "sim/cluster/sharding.h"
#include "sim/core/simulation.h"
#include "sim/hw/network.h"
#include "sim/hw/node.h"

namespace shardlab::sim::cluster {

// replica_store.h: the cluster reaches the engine only through these.
class ReplicaStore;
struct StoreCaches;
struct PartRead;
struct MergeOutcome;

struct ClusterSpec {
  std::vector<NodeSpec> nodes;  // node i is the network host called nodes[i].name
  size_t shards = 1;
  size_t replicas = 1;
  std::vector<std::vector<size_t>> placement;  // [shard][replica] -> node index; empty: round-robin
  // Shards that join later (grow()), [shard][replica] -> node index. Their replicas exist, empty,
  // from the start.
  std::vector<std::vector<size_t>> joining_placement;
  ShardingSpec sharding;
  std::string ddl;  // the table every replica holds
  DistributedSettings settings;
  std::string coordinator_host;  // a host of the network
  Duration coordinator_op_latency = Duration::milliseconds(1);
  uint32_t coordinator_ops_per_insert = 10;
  std::filesystem::path data_dir;  // replicas' tables live in data_dir/shardS_replicaR
  uint64_t seed = 1;
  int64_t epoch_s = 0;  // the wall-clock second simulated time 0 stands for (TTL, merges)
  // Seconds of the data's clock per simulated second: above 1 the day is played compressed
  // (live mode's --speed), so rows fall due, parts age and clock-reading queries see time that
  // many times faster, while latencies and protocol timeouts stay in simulated seconds.
  double data_seconds_per_s = 1.0;
  // Memory for memoised per-part results, across parts (PartResultCache). A run's peak memory
  // is mostly this plus the engine's working set.
  uint64_t memo_capacity_bytes = uint64_t{2} << 30;
  // Memory for replicas' merged aggregation states kept between queries (MergedAggregateCache),
  // and the rows from which a part counts as settled and goes into such a state. Smaller parts
  // are merged afresh by every query: inserts and merges replace them too often to keep.
  uint64_t merged_capacity_bytes = uint64_t{1} << 30;
  uint64_t merged_settled_rows = 1'000'000;
  Duration merge_interval = Duration::seconds(1);
  Duration fetch_retry_interval = Duration::seconds(1);
};

struct ClusterCounters {
  uint64_t inserts = 0;
  uint64_t rows_sent = 0;          // rows of INSERTs that reached an initiator
  uint64_t rows_acknowledged = 0;  // rows of INSERTs acknowledged to the client
  uint64_t rows_rejected = 0;      // rows of INSERTs that failed
  uint64_t rows_lost = 0;          // acknowledged async rows lost with an initiator's queue
  uint64_t rows_written = 0;       // rows written into a first replica (per shard)
  uint64_t queries = 0;
  uint64_t query_errors = 0;
  uint64_t failovers = 0;      // replicas tried in vain before one answered
  uint64_t shard_failures = 0; // subqueries no replica of their shard answered: the query failed
                               // though its initiator was up
  uint64_t memory_refusals = 0;  // queries stopped by max_memory_usage
  uint64_t peak_query_memory_bytes = 0;  // the most one query held on one server
  uint64_t shards_pruned = 0;  // shard visits skipped by range or list pruning
  uint64_t parts_fetched = 0;
  uint64_t bytes_fetched = 0;
  uint64_t parts_broken = 0;     // parts found damaged on a replica and detached
  uint64_t parts_refetched = 0;  // ... and fetched again from a peer (or covered by a fetch)
  uint64_t merges = 0;
  uint64_t memo_hits = 0;
  uint64_t memo_misses = 0;
  // Settled parts a query found already merged into its replica's kept state
  // (MergedAggregateCache).
  uint64_t kept_parts_reused = 0;
  // CPU work charged, in reference-core seconds (cost_model.h), by what it was for.
  double split_cpu_s = 0;      // initiators splitting INSERT batches by shard
  double insert_cpu_s = 0;     // replicas writing parts
  double merge_cpu_s = 0;      // background merges
  double query_cpu_s = 0;      // subqueries on replicas
  double initiator_cpu_s = 0;  // initiators merging the shards' partial results
};

// What one SELECT costs on the cluster's current data, from the engine's work profiles: what the
// planner's analytic screen scales.
struct QueryWork {
  double cpu_s = 0;             // every shard's subquery, reference-core seconds
  double max_shard_cpu_s = 0;   // the largest one: the critical path when shards run in parallel
  double initiator_cpu_s = 0;   // the final merge on the initiator
  uint64_t disk_bytes = 0;      // compressed bytes read, every shard
  uint64_t result_bytes = 0;    // partial results on the wire
  size_t shards = 0;            // subqueries
};

struct QueryAnswer {
  engine::QueryResult result;
  Duration latency;
};

class Cluster {
 public:
  enum class CrashKind : uint8_t {
    kNodeLoss,        // power failure or machine loss: volatile state and unsynced writes lost
    kProcessRestart,  // the server process dies: disk and page cache survive
  };

  // Creates every replica's table under spec.data_dir. Throws InputError for a bad spec (DDL,
  // sharding, placement, unknown hosts).
  Cluster(Simulation& sim, Network& network, ClusterSpec spec, CostModel cost);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts the background processes: replication appliers, merge scheduling, lag sampling.
  void start();

  // An INSERT of `block` (the table's columns) arriving at node `initiator`. Resolves when
  // acknowledged; fails (SimFault) when rejected.
  Future insert(size_t initiator, engine::Block block);
  // A SELECT arriving at node `initiator`. On success *answer holds the result and latency.
  // `shards`, if given, flags the shards to visit (shard_pruning.h); the others contribute
  // nothing. REQUIRES: `query`, `answer` and `shards` outlive the future.
  Future query(size_t initiator, const engine::Query& query, QueryAnswer* answer,
               const std::vector<bool>* shards = nullptr);

  // Called whenever a shard has committed rows of an INSERT (on its first replica, and visible
  // there): `node` is that replica's node, `rows` the shard's part of the block. What a
  // server-side trigger (a change feed, a cache invalidation) would see. Empty: none.
  using CommitListener =
      std::function<void(size_t shard, size_t node, const engine::Block& rows)>;
  void set_commit_listener(CommitListener listener) { commit_listener_ = std::move(listener); }

  // Called when rows of an INSERT reach their shards: for a sync insert when it is acknowledged
  // (every shard written), for an async one as each shard's block leaves the initiator's queue.
  // `delay` runs from the INSERT's arrival at its initiator. A queue that grows shows as a delay
  // that grows. Empty: none.
  using DeliveryListener = std::function<void(Duration delay, uint64_t rows)>;
  void set_delivery_listener(DeliveryListener listener) {
    delivery_listener_ = std::move(listener);
  }

  // History: rows from before the run, in the table when it begins. preload() writes a block
  // into its shards' first replicas at once, without simulated time or the replication log
  // (block numbers still come from the coordinator, so later inserts do not collide);
  // finish_preload() merges them as the merge selector would, also untimed, links the result
  // into every other replica, and leaves the newest of it in each node's page cache, as days of
  // inserts would. Call both before the simulation starts.
  void preload(const engine::Block& block);
  void finish_preload();
  uint64_t rows_preloaded() const { return rows_preloaded_; }

  // Adds the next joining shards: `next` (the same table, next.shards in (shards(), shards() +
  // joining]) routes every later insert; rows already stored stay where they are, as when an
  // operator adds shards to a ClickHouse cluster's configuration. Throws InputError if `next` is
  // invalid or there are not enough joining shards.
  void grow(ShardingSpec next);
  // The shards serving queries and inserts now.
  size_t shards() const { return active_shards_; }
  // Every shard the cluster has or will have (placement, including joining shards).
  size_t total_shards() const { return replicas_.size(); }
  // Which serving shards a SELECT must visit, given every scheme rows were ever routed by.
  // REQUIRES: `sql` is a valid SELECT on the table.
  std::vector<bool> shards_to_visit(std::string_view sql) const;
  // The active parts of the shard's most up-to-date replica.
  std::vector<engine::PartPtr> active_parts(size_t shard) const;

  void crash_node(size_t node, CrashKind kind);
  // A latent disk error on `node`: on each of its replicas, the `count` visible parts holding
  // the most rows are found damaged. Each is detached (detached/broken_*) and fetched again from
  // a replica that has it or a part covering it, as ReplicatedMergeTree does; until then that
  // replica answers without its rows. Without a peer holding it, the repair waits for one;
  // without replication (plain MergeTree replicas), the rows are lost.
  void break_parts(size_t node, size_t count);
  // The longest a damaged part has waited for its repair (open repairs count up to now), and
  // the rows of damaged parts not repaired (yet, or ever without replication).
  Duration max_part_repair() const;
  uint64_t rows_awaiting_repair() const;
  void restart_node(size_t node);

  size_t node_count() const { return nodes_.size(); }
  Node& node(size_t index) { return *nodes_[index]; }
  size_t node_index(const std::string& name) const;  // throws InputError if unknown
  HostId host(size_t node) const { return hosts_[node]; }
  const engine::TableSchema& schema() const { return schema_; }
  const ShardingScheme& scheme() const { return schemes_.back(); }  // routing inserts now
  const ClusterSpec& spec() const { return spec_; }
  // The data's clock at simulated time `at`, in Unix seconds (see data_seconds_per_s).
  int64_t data_clock_s(Time at) const {
    if (spec_.data_seconds_per_s == 1.0) return spec_.epoch_s + at.ns() / 1'000'000'000;
    return spec_.epoch_s + static_cast<int64_t>(static_cast<long double>(at.ns()) *
                                                spec_.data_seconds_per_s / 1e9L);
  }
  const ClusterCounters& counters() const { return counters_; }
  // Kept merged aggregation states started again from empty because their parts could not be
  // matched (a merge took in rows a state had not seen, a part went away).
  uint64_t kept_state_rebuilds() const;

  // The final state, for reports (every shard, joining ones included): every shard's rows on its
  // most up-to-date replica, and the bytes on disk.
  struct ShardState {
    uint64_t rows = 0;
    uint64_t bytes = 0;
    size_t parts = 0;
  };
  std::vector<ShardState> shard_states() const;
  // Bytes each node has sent and received over the network for the cluster (inserts, fetches,
  // query results), counted when a transfer completes.
  uint64_t bytes_sent(size_t node) const { return bytes_sent_[node]; }
  uint64_t bytes_received(size_t node) const { return bytes_received_[node]; }
  // Rows pending in async queues right now.
  uint64_t queued_rows() const;
  // How long each block pending in an async queue has waited since its INSERT arrived.
  std::vector<Duration> queued_block_ages() const;
  // The largest replica lag seen by the sampler, and the current one.
  Duration max_replica_lag() const { return max_lag_; }
  Duration current_replica_lag() const;
  // One replica's lag: the age of the oldest log entry it has not applied (zero when current).
  Duration replica_lag(size_t shard, size_t replica) const;
  // The work `query` would do on the current data (each shard's most current replica), without
  // running it in simulated time.
  QueryWork work_of(const engine::Query& query);
  // Runs `query` over every shard's most up-to-date replica (those flagged in `shards`, if
  // given) without simulated time: the final answer a report prints.
  engine::QueryResult query_now(const engine::Query& query,
                                const std::vector<bool>* shards = nullptr);

 private:
  struct Replica {
    size_t shard = 0;
    size_t index = 0;
    size_t node = 0;
    std::unique_ptr<ReplicaStore> store;  // its table, parts and place in the memo caches
    size_t applied = 0;                   // replication log entries applied
  };
  struct PendingBlock {
    engine::Block block;
    uint64_t rows = 0;
    Time arrived;           // when its INSERT reached the initiator
    bool sending = false;   // the sender is shipping it now
    bool orphaned = false;  // its queue was lost while it was being sent
  };
  struct ShardQueue {
    std::deque<PendingBlock> blocks;
    uint64_t rows = 0;
    uint64_t written_bytes = 0;  // the queue file's length so far
    Future enqueued;             // resolved when a block is queued (the sender waits on it)
  };
  bool replicated() const;
  bool replica_up(const Replica& replica) const;
  // With a tracer set, one slice of the node's "cluster" track from `start` to now: a replica's
  // query, insert, fetch or merge that completed. `what` is one of a few fixed names, so the
  // tracer's name table stays small.
  void trace_work(size_t node, std::string_view what, Time start);
  FileId file_id(size_t shard, const std::string& part, const std::string& column);
  // A future resolved at the next change of the shard's log or of a replica's progress; each
  // waiter gets its own.
  Future wait_for_change(size_t shard);
  void signal_shard(size_t shard);

  // Insert path.
  Process run_insert(size_t initiator, engine::Block block, uint64_t batch);
  // Queues the shards' non-empty blocks of an acknowledged async insert (moving them out of
  // *parts) and starts the initiator's senders on its first insert.
  void enqueue(size_t initiator, std::vector<engine::Block>* parts, Time arrived);
  Process run_sender(size_t initiator, size_t shard);
  Future write_shard(size_t initiator, size_t shard, engine::Block block);
  Process run_write_shard(size_t initiator, size_t shard, engine::Block block);
  Process run_replica_write(size_t initiator, Replica* replica, const engine::Block* block);
  // Appends the write's new parts to the shard's replication log.
  void log_new_parts(const Replica& replica, const engine::InsertResult& write);
  Process run_quorum_wait(size_t shard, std::vector<std::string> parts);
  // Writes the part's column files on the node (simulated disk time only).
  Future write_columns(size_t node, size_t shard, const engine::PartPtr& part);

  // Replication.
  Process run_applier(Replica* replica);
  Process run_fetch(Replica* replica, LogEntry entry);
  Process run_apply_merge(Replica* replica, LogEntry entry);
  // Damaged parts (repair.cpp): fetches `part` again until the replica holds it or a part
  // covering it.
  Process run_repair(Replica* replica, std::string part);
  // Reads of the merge sources' column files on the node; with `estimate`, adds their bytes.
  std::vector<Future> read_sources(size_t node, size_t shard,
                                   const std::vector<engine::PartPtr>& parts,
                                   engine::MergeProfile* estimate);
  // `own`: merges for that replica alone (no replication); null: the shard's leader merges.
  Process run_merge_scheduler(size_t shard, Replica* own);
  // `own` if given, else the first replica of the shard that is up and current; or null.
  Replica* merge_leader(size_t shard, Replica* own);
  // Appends the leader's merge of `sources` to the shard's log.
  void log_merge(const Replica& leader, const std::vector<engine::PartPtr>& sources,
                 const MergeOutcome& outcome, int64_t now_s);
  Process run_lag_sampler();
  // A replica that is up (other than `except`) with `part` or a part covering it, and that
  // part; with `to`, only one with a network route to that host. Throws SimFault(kUnreachable)
  // if there is none.
  struct PartSource {
    const Replica* replica;
    engine::PartPtr part;
  };
  PartSource find_source(size_t shard, const std::string& part, const Replica* except,
                         std::optional<HostId> to = std::nullopt) const;
  // Hard-links the source's part into `replica`. Throws SimFault if `replica` is down or the
  // source no longer has the part active.
  void link_from(Replica* replica, const PartSource& source);

  // Query path.
  Process run_query(size_t initiator, const engine::Query* query, QueryAnswer* answer,
                    const std::vector<bool>* shards);
  std::vector<size_t> replica_order(size_t initiator, size_t shard);
  // Where a shard's subquery ran and what it held (query_memory.h).
  struct SubqueryPlace {
    bool remote = false;        // on another node than the initiator
    uint64_t memory_bytes = 0;
  };
  Process run_subquery(size_t initiator, size_t shard, const engine::Query* query,
                       engine::PartResult* out, SubqueryPlace* place);
  // Counts what a query holds on `node` (query_memory.h); throws SimFault(kRefused) past
  // max_memory_usage.
  void account_query_memory(size_t node, uint64_t bytes);
  // `memory_bytes`: what the subquery held (query_memory.h).
  Process run_on_replica(size_t initiator, Replica* replica, const engine::Query* query,
                         engine::PartResult* out, uint64_t* memory_bytes);
  // The replica store's run_query(), its cache statistics added to the counters.
  engine::PartResult execute_on_replica(const Replica& replica, const engine::Query& query,
                                        std::vector<PartRead>* reads);
  Future read_columns(size_t node, size_t shard, const engine::PartPtr& part,
                      const engine::WorkProfile& profile);
  const Replica& most_current(size_t shard) const;

  // Crashes.
  // Drops the node's async queues (counted as lost), but for a block being sent right now.
  void lose_queues(size_t node);

  // Construction.
  // Fills in the default placement, checks it, and appends the joining shards' placement.
  void make_nodes();
  void place_shards();
  // Checks each shard's placement and creates its replicas (their stores) and load balancer.
  void make_replicas();

  Simulation& sim_;
  Network& network_;
  ClusterSpec spec_;
  CostModel cost_;
  engine::TableSchema schema_;
  std::deque<ShardingScheme> schemes_;  // every scheme inserts were routed by, the current last
  size_t active_shards_ = 0;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<HostId> hosts_;
  std::vector<bool> process_down_;  // crashed but disk and page cache kept (process restart)
  std::unique_ptr<Coordinator> coordinator_;
  // Shared by every replica's store (the memory budget is the cluster's); outlives them.
  std::unique_ptr<StoreCaches> caches_;
  std::vector<std::vector<std::unique_ptr<Replica>>> replicas_;  // [shard][replica]
  std::vector<LoadBalancer> balancers_;                          // per shard
  std::vector<std::vector<ShardQueue>> queues_;                  // [initiator][shard]
  std::vector<bool> senders_started_;                            // per initiator
  std::vector<std::vector<Future>> waiters_;                     // per shard
  std::map<std::string, FileId> file_ids_;
  std::vector<uint64_t> bytes_sent_;      // per node
  std::vector<uint64_t> bytes_received_;  // per node
  CommitListener commit_listener_;
  DeliveryListener delivery_listener_;
  uint64_t rows_preloaded_ = 0;
  uint64_t preload_batches_ = 0;
  ClusterCounters counters_;
  uint64_t next_batch_ = 0;
  Duration max_lag_;
  // Damaged parts waiting for their repair: when each was found, and its rows.
  struct OpenRepair {
    Time since;
    uint64_t rows = 0;
  };
  std::map<std::pair<const Replica*, std::string>, OpenRepair> open_repairs_;
  Duration max_repair_;
  bool started_ = false;
};

}  // namespace shardlab::sim::cluster
