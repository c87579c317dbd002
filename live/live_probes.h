// What `shardlab calibrate --live` measures: the scenario's servers on loopback, idle, timed one
// request at a time (the median of `repeat` runs after a warm-up run), so each time is the
// server's cost of that work plus the request's fixed overheads, without queueing:
//
//  * `SELECT 1` over HTTP: the fixed cost of any request.
//  * Each query template (at the end of the data, most popular parameters) on one server's
//    local table holding `rows` rows: a shard's subquery. The same SQL on the embedded engine
//    over the same rows gives the work profile the cost model charges for it.
//  * The same template through a Distributed table over the scenario's cluster in which that
//    server holds every row: the subquery plus the distributed layer (fan-out to every shard,
//    the initiator's merge).
//  * Sync INSERTs of 100 to 10,000 rows through the Distributed table: the fixed and per-row
//    cost of an insert, replication included.
//  * With replicas, one ZooKeeper round trip from a server: the coordinator's latency.
//
// Timings are wall time measured here; the servers share this machine's cores and disk, as
// they do in a live run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "scenarios/scenario.h"
#include "shardlab/engine/work_profile.h"

namespace shardlab::live {

struct QueryProbe {
  std::string name;
  std::string sql;
  double local_s = 0;           // the median on one server's local table
  double distributed_s = 0;     // the median through the Distributed table
  engine::WorkProfile profile;  // the embedded engine's profile of the same query, same rows
  uint64_t groups = 0;          // groups of the answer (the initiator's merge)
};

struct InsertProbe {
  uint64_t rows = 0;
  uint64_t bytes = 0;  // uncompressed bytes of the block (the engine's count)
  uint64_t parts = 0;  // parts the block writes per shard (the engine's count)
  double seconds = 0;  // the median of sync INSERTs of this size
};

struct LiveProbes {
  uint64_t rows = 0;
  int repeat = 0;
  double select_one_s = 0;
  // One ZooKeeper round trip as a server makes it (a getChildren of a leaf through
  // system.zookeeper, less the same query's cost on system.one); 0 without replicas.
  double zookeeper_round_trip_s = 0;
  std::vector<QueryProbe> queries;
  std::vector<InsertProbe> inserts;
  std::string server_version;
};

struct ProbeOptions {
  std::filesystem::path work_dir;  // the servers' directories go under it
  // An inventory of existing servers (live/inventory.h): probe those, inside the inventory's
  // database, instead of starting the scenario's cluster on loopback.
  std::filesystem::path hosts;
  uint64_t rows = 200'000;
  int repeat = 15;
  std::function<void(const std::string&)> log;
};

// Starts the scenario's cluster on loopback (or reaches the inventory's), measures, and stops
// what it started. The probe's tables stay in the inventory's database for the user to drop. Throws
// InputError for a scenario that cannot be played live (check_playable) and RuntimeError for server
// failures.
LiveProbes measure_live_probes(const scenarios::Scenario& s, const ProbeOptions& options);

}  // namespace shardlab::live
