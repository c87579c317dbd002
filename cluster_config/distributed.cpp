#include "cluster_config/distributed.h"

namespace shardlab::cluster_config {

const char* insert_mode_name(InsertMode mode) {
  return mode == InsertMode::kSync ? "sync" : "async";
}

const char* load_balancing_name(LoadBalancing policy) {
  switch (policy) {
    case LoadBalancing::kRandom: return "random";
    case LoadBalancing::kNearestHostname: return "nearest_hostname";
    case LoadBalancing::kInOrder: return "in_order";
    case LoadBalancing::kFirstOrRandom: return "first_or_random";
    case LoadBalancing::kRoundRobin: return "round_robin";
  }
  return "?";
}

std::optional<InsertMode> parse_insert_mode(std::string_view text) {
  for (const InsertMode mode : {InsertMode::kAsync, InsertMode::kSync}) {
    if (text == insert_mode_name(mode)) return mode;
  }
  return std::nullopt;
}

std::optional<LoadBalancing> parse_load_balancing(std::string_view text) {
  for (const LoadBalancing policy :
       {LoadBalancing::kRandom, LoadBalancing::kNearestHostname, LoadBalancing::kInOrder,
        LoadBalancing::kFirstOrRandom, LoadBalancing::kRoundRobin}) {
    if (text == load_balancing_name(policy)) return policy;
  }
  return std::nullopt;
}

}  // namespace shardlab::cluster_config
