// One replica's storage, and the cluster model's one seam to the embedded engine.
//
// What it owns. A replica's engine table (its directory and active parts), the names of the parts
// a write has put into that table but whose simulated write has not completed yet (hidden), and
// the replica's keys into the memoisation caches: the copy under which its per-part results are
// memoised (shared by the replicas of a replicated shard, whose parts of the same name hold the
// same rows) and the id of its kept merged aggregation states. The caches themselves
// (StoreCaches) are shared by every store of a cluster, because their memory budget is the
// cluster's (ClusterSpec::memo_capacity_bytes, merged_capacity_bytes) and replicas of a shard
// share entries; nothing but the stores touches them.
//
// Why one seam. The cluster's processes interleave engine work with co_awaits on the simulated
// clock. With every engine call behind this class, the interleaving shows at the call sites:
// each operation here is instantaneous in simulated time (whatever wall time the engine takes)
// and returns what the cost model needs to charge for it afterwards (an InsertResult, a merge's
// MergeProfile, a query's per-part work profiles, the part whose files a fetch copies). Time
// passes only between calls, in the cluster; anything read before a co_await may be stale after
// it (a source merged away, a part fetched over), which is what the small queries below
// (find_active, has_all_active, ...) are for.
//
// Visibility. A part is visible when it is active and not hidden. insert() hides the parts it
// writes until publish() or roll_back(). Queries see visible parts only (run_query,
// visible_parts, find_visible_covering); merges choose among the active parts below the lowest
// hidden block of each partition, so none spans a write in flight; replication deals in active
// parts (has_covering, attach_from).
//
// Crashes. A crash changes nothing in a store, and a restart recovers nothing: insert() returns
// only once its parts are durable, the table stays open across the simulated crash, and a write
// that the crash cuts short rolls its own parts back (roll_back()) on its failure path. A
// replica that was down catches up through the replication log.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shardlab/engine/query.h"
#include "shardlab/engine/table.h"
#include "sim/cluster/merged_aggregate_cache.h"
#include "sim/cluster/part_result_cache.h"

namespace shardlab::sim::cluster {

// The memoisation caches every store of a cluster shares.
struct StoreCaches {
  StoreCaches(uint64_t memo_capacity_bytes, uint64_t merged_capacity_bytes, uint64_t settled_rows)
      : memo(memo_capacity_bytes), merged(merged_capacity_bytes), settled_rows(settled_rows) {}

  PartResultCache memo;
  MergedAggregateCache merged;
  // Parts with at least this many rows are settled and go into kept merged states.
  uint64_t settled_rows;
};

// What a query did with the caches, for the cluster's counters.
struct MemoStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t kept_parts_reused = 0;  // settled parts found already merged into a kept state
};

// A visible part a query read, and the work the query did in it (its column reads).
struct PartRead {
  engine::PartPtr part;
  engine::WorkProfile profile;
};

// A merge a store ran: its profile, and the merged part (null when every row expired).
struct MergeOutcome {
  engine::MergeProfile profile;
  engine::PartPtr merged;
};

class ReplicaStore {
 public:
  // Creates the replica's table in `dir` (throws InputError for bad DDL, RuntimeError if a table
  // is there already). `memo_copy` keys its per-part results in caches->memo, `kept_id` its
  // states in caches->merged. REQUIRES: `caches` outlives the store.
  ReplicaStore(const std::filesystem::path& dir, std::string_view ddl, StoreCaches* caches,
               size_t memo_copy, size_t kept_id);
  ~ReplicaStore();
  ReplicaStore(const ReplicaStore&) = delete;
  ReplicaStore& operator=(const ReplicaStore&) = delete;

  // ---- Inserts

  // MergeTree's backpressure for the next insert: the delay, in milliseconds, for the fullest
  // partition (0 below parts_to_delay_insert).
  uint64_t insert_delay_ms() const;
  // How many parts an insert of `block` writes: the block numbers to reserve for it.
  uint64_t partitions_of(const engine::Block& block) const;
  // Writes `block` into the table, numbered from `first_block` if given (the replication log's
  // numbers) or by the table's own counter. The new parts are hidden until publish() or
  // roll_back(). Throws SimFault(kRefused) if the engine refuses it (too many parts, I/O).
  engine::InsertResult insert(const engine::Block& block, std::optional<uint64_t> first_block);
  // The write's simulated time completed: its parts become visible.
  void publish(const engine::InsertResult& write);
  // The write failed: its parts are dropped, as the server discards a half-written part.
  void roll_back(const engine::InsertResult& write);

  // ---- Merges

  // The merge the selector chooses among the parts that may merge now, if any.
  std::optional<engine::MergePlan> select_merge() const;
  // True if every one of `parts` is still active here (none merged or fetched over since).
  bool has_all_active(const std::vector<engine::PartPtr>& parts) const;
  // Runs `plan` with TTL evaluated at `now_s`. REQUIRES: has_all_active(plan.parts).
  MergeOutcome merge(const engine::MergePlan& plan, int64_t now_s);
  // The active parts called `names`, in order, or nullopt if one of them is not active.
  std::optional<std::vector<engine::PartPtr>> find_all_active(
      const std::vector<std::string>& names) const;
  // Runs a merge another replica logged: `sources` into `result`, TTL at `merged_at_s`. Merges
  // are deterministic, so the result has the logged name (asserted). Throws
  // SimFault(kUnreachable) if a source is no longer active here.
  MergeOutcome replay_merge(const std::string& result, const std::vector<std::string>& sources,
                            int64_t merged_at_s);
  // Drops the active parts called `names` (a merge whose rows all expired); others are ignored.
  void drop_parts(const std::vector<std::string>& names);

  // ---- Replication

  // True if an active part is `part` or covers it (a merge has absorbed it).
  bool has_covering(const std::string& part) const;
  // The visible part that is `part` or covers it, or null.
  engine::PartPtr find_visible_covering(const std::string& part) const;
  // Hard-links `part`, fetched from `peer`, into this table; active parts it covers retire.
  // Returns false, attaching nothing, if `peer` no longer has `part` active (merged away while
  // the fetch was simulated: its files are gone).
  bool attach_from(const ReplicaStore& peer, const engine::PartPtr& part);
  // `part` was found damaged: it leaves the active parts for detached/broken_<part>, as
  // ReplicatedMergeTree's part check moves it, and the cluster fetches it again from a peer.
  // Returns false, changing nothing, if it is not a visible part here.
  bool detach_broken(const std::string& part);
  // True if `part` counts towards an insert quorum here: covered by an active part, and not
  // hidden itself.
  bool holds(const std::string& part) const;

  // ---- Queries

  // Runs `query` on the visible parts, through the memo caches, and returns the partial result
  // whose profile is that of scanning and merging every part (the caches never change the
  // simulated cost). With `reads`, appends each part and the work done in it. Adds what the
  // caches did to *stats.
  engine::PartResult run_query(const engine::Query& query, std::vector<PartRead>* reads,
                               MemoStats* stats);
  // Active parts sorted by (partition, min_block), without the hidden ones.
  std::vector<engine::PartPtr> visible_parts() const;
  uint64_t visible_rows() const;
  // The active part called `name` (hidden or not), or null.
  engine::PartPtr find_active(const std::string& name) const;

 private:
  // The active parts a merge may take: all but those at or above a write still in flight.
  std::vector<engine::PartPtr> mergeable_parts() const;
  bool hidden(const std::string& part) const;
  // The memoised result of `query` on `part`, run by the engine on a miss.
  const engine::PartResult& memoised(const engine::Query& query, const engine::PartPtr& part,
                                     MemoStats* stats);
  // run_query() for an aggregating query: the kept merged state of the settled parts, brought
  // up to date, with the recent parts merged in; each part's profile into (*profiles)[index].
  void aggregate(const engine::Query& query, const std::vector<engine::PartPtr>& parts,
                 engine::PartResult* partial, std::vector<engine::WorkProfile>* profiles,
                 MemoStats* stats);

  std::unique_ptr<engine::Table> table_;
  std::vector<std::string> hidden_;  // parts written but not yet visible (write in progress)
  StoreCaches* caches_;
  size_t memo_copy_;
  size_t kept_id_;
};

}  // namespace shardlab::sim::cluster
