#include "sim/cluster/load_balancer.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace shardlab::sim::cluster {

size_t hostname_distance(const std::string& a, const std::string& b) {
  const size_t n = std::max(a.size(), b.size());
  size_t differ = 0;
  for (size_t i = 0; i < n; ++i) {
    const char x = i < a.size() ? a[i] : '\0';
    const char y = i < b.size() ? b[i] : '\0';
    differ += x != y;
  }
  return differ;
}

LoadBalancer::LoadBalancer(std::vector<std::string> hosts, LoadBalancing policy,
                           Duration error_half_life, RandomStream rng)
    : hosts_(std::move(hosts)),
      policy_(policy),
      half_life_(error_half_life),
      rng_(rng),
      errors_(hosts_.size(), 0.0),
      errors_at_(hosts_.size()) {}

double LoadBalancer::decayed(size_t replica, Time now) const {
  const double elapsed = (now - errors_at_[replica]).seconds();
  if (errors_[replica] == 0 || half_life_ <= Duration()) return errors_[replica];
  return errors_[replica] * std::exp2(-elapsed / half_life_.seconds());
}

double LoadBalancer::errors(size_t replica, Time now) const { return decayed(replica, now); }

void LoadBalancer::record_error(size_t replica, Time now) {
  errors_[replica] = decayed(replica, now) + 1.0;
  errors_at_[replica] = now;
}

std::vector<size_t> LoadBalancer::order(Time now, const std::string& initiator_host,
                                        bool prefer_local) {
  const size_t n = hosts_.size();
  // Whole errors decide first, as ClickHouse compares integer counts; the policy breaks ties.
  std::vector<uint64_t> error_rank(n);
  for (size_t i = 0; i < n; ++i) error_rank[i] = static_cast<uint64_t>(decayed(i, now));
  std::vector<uint64_t> policy_rank(n);
  switch (policy_) {
    case LoadBalancing::kRandom:
      for (size_t i = 0; i < n; ++i) policy_rank[i] = rng_.next_u64();
      break;
    case LoadBalancing::kNearestHostname:
      for (size_t i = 0; i < n; ++i) {
        policy_rank[i] = hostname_distance(hosts_[i], initiator_host) * n + i;
      }
      break;
    case LoadBalancing::kInOrder:
      std::iota(policy_rank.begin(), policy_rank.end(), 0);
      break;
    case LoadBalancing::kFirstOrRandom:
      for (size_t i = 0; i < n; ++i) policy_rank[i] = i == 0 ? 0 : 1 + (rng_.next_u64() >> 1);
      break;
    case LoadBalancing::kRoundRobin: {
      const uint64_t start = round_robin_++ % std::max<size_t>(n, 1);
      for (size_t i = 0; i < n; ++i) policy_rank[i] = (i + n - start) % n;
      break;
    }
  }
  std::vector<size_t> replicas(n);
  std::iota(replicas.begin(), replicas.end(), 0);
  std::stable_sort(replicas.begin(), replicas.end(), [&](size_t a, size_t b) {
    const bool local_a = prefer_local && hosts_[a] == initiator_host;
    const bool local_b = prefer_local && hosts_[b] == initiator_host;
    if (local_a != local_b) return local_a;
    if (error_rank[a] != error_rank[b]) return error_rank[a] < error_rank[b];
    return policy_rank[a] < policy_rank[b];
  });
  return replicas;
}

}  // namespace shardlab::sim::cluster
