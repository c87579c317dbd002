#include "sim/cluster/settings.h"

namespace shardlab::sim::cluster {

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
  if (text == "async") return InsertMode::kAsync;
  if (text == "sync") return InsertMode::kSync;
  return std::nullopt;
}

std::optional<LoadBalancing> parse_load_balancing(std::string_view text) {
  for (auto policy : {LoadBalancing::kRandom, LoadBalancing::kNearestHostname,
                      LoadBalancing::kInOrder, LoadBalancing::kFirstOrRandom,
                      LoadBalancing::kRoundRobin}) {
    if (text == load_balancing_name(policy)) return policy;
  }
  return std::nullopt;
}

}  // namespace shardlab::sim::cluster
