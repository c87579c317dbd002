// The Distributed table's settings, with ClickHouse 18.16's defaults (../shared REFERENCE.md).
#pragma once

#include <cstdint>

#include "cluster_config/distributed.h"
#include "sim/core/time.h"

namespace shardlab::sim::cluster {

// The Distributed engine's choices are shared with scenarios/ (cluster_config/distributed.h).
using cluster_config::insert_mode_name;
using cluster_config::InsertMode;
using cluster_config::load_balancing_name;
using cluster_config::LoadBalancing;
using cluster_config::parse_insert_mode;
using cluster_config::parse_load_balancing;

struct DistributedSettings {
  InsertMode insert_mode = InsertMode::kAsync;
  bool internal_replication = false;  // true: one replica per shard, replication copies
  uint32_t insert_quorum = 0;         // replicas that must have a block before the ack (0: off)
  Duration insert_quorum_timeout = Duration::seconds(600);
  LoadBalancing load_balancing = LoadBalancing::kRandom;
  Duration async_send_interval = Duration::milliseconds(100);  // 18.16's directory monitor
  Duration connect_timeout = Duration::milliseconds(50);       // connect_timeout_with_failover_ms
  uint32_t connect_tries = 3;                                   // per replica
  Duration error_half_life = Duration::seconds(60);  // current releases; 18.16 used 5 min
  bool skip_unavailable_shards = false;
  Duration max_replica_delay = Duration::seconds(300);
  bool fallback_to_stale_replicas = true;
  bool prefer_localhost_replica = true;
  bool group_by_no_merge = false;  // distributed_group_by_no_merge
  // The cores one subquery may use (max_threads); 0: the node's cores.
  uint32_t max_threads = 0;
  // The memory one query may hold on one server (max_memory_usage; 0: no limit). 10 GB is
  // 18.16's shipped users.xml.
  uint64_t max_memory_usage = 10'000'000'000;
};

// A subquery's read is split over threads, each taking at least this many granules of the parts
// and ranges it reads (ClickHouse's min_marks_for_concurrent_read).
inline constexpr uint64_t kMinGranulesPerThread = 20;

}  // namespace shardlab::sim::cluster
