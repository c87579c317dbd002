// The Distributed table's settings, with ClickHouse 18.16's defaults (../shared REFERENCE.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/core/time.h"

namespace shardlab::sim::cluster {

enum class InsertMode : uint8_t {
  kAsync,  // the default: acknowledged once queued on the initiator, shipped by a sender
  kSync,   // insert_distributed_sync = 1: acknowledged once the shards have written it
};

enum class LoadBalancing : uint8_t {
  kRandom,           // a random replica among those with the fewest errors (the default)
  kNearestHostname,  // the fewest errors, then the host name closest to the initiator's
  kInOrder,          // the fewest errors, then configuration order
  kFirstOrRandom,    // the first replica, or a random other one if it has more errors
  kRoundRobin,       // the fewest errors, then rotating
};

const char* insert_mode_name(InsertMode mode);
const char* load_balancing_name(LoadBalancing policy);
std::optional<InsertMode> parse_insert_mode(std::string_view text);
std::optional<LoadBalancing> parse_load_balancing(std::string_view text);

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
};

}  // namespace shardlab::sim::cluster
