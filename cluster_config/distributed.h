// The Distributed engine's choices, as ClickHouse names them. What each does in the simulator is
// in sim/cluster/settings.h; the spellings are those of scenario files and summary.json.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace shardlab::cluster_config {

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

// "async", "sync"; "random", "nearest_hostname", "in_order", "first_or_random", "round_robin".
const char* insert_mode_name(InsertMode mode);
const char* load_balancing_name(LoadBalancing policy);
std::optional<InsertMode> parse_insert_mode(std::string_view text);
std::optional<LoadBalancing> parse_load_balancing(std::string_view text);

}  // namespace shardlab::cluster_config
