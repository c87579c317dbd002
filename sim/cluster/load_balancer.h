// Which replica of a shard a distributed query (or an internal_replication insert) talks to, and
// in which order it fails over, following ClickHouse's connection pool:
//
//  * every replica has an error count that halves every `error_half_life` of simulated time;
//  * replicas are ranked by (errors, policy rank): the fewest errors first, ties by the policy —
//      random            a fresh random order per choice
//      nearest_hostname  the number of positions at which the host name differs from the
//                        initiator's (shorter names padded), then configuration order
//      in_order          configuration order
//      first_or_random   the first replica; the others in random order
//      round_robin       rotating through the replicas, one step per choice
//  * with prefer_localhost_replica, a replica on the initiator's own node comes first.
//
// The caller tries replicas in the returned order, recording an error for each that fails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/cluster/settings.h"
#include "sim/core/random.h"
#include "sim/core/time.h"

namespace shardlab::sim::cluster {

class LoadBalancer {
 public:
  // `hosts[i]`: the host name of replica i, in configuration order.
  LoadBalancer(std::vector<std::string> hosts, LoadBalancing policy, Duration error_half_life,
               RandomStream rng);

  // Replica indices in the order to try them.
  std::vector<size_t> order(Time now, const std::string& initiator_host, bool prefer_local);

  void record_error(size_t replica, Time now);
  double errors(size_t replica, Time now) const;

 private:
  double decayed(size_t replica, Time now) const;

  std::vector<std::string> hosts_;
  LoadBalancing policy_;
  Duration half_life_;
  RandomStream rng_;
  std::vector<double> errors_;      // as of errors_at_
  std::vector<Time> errors_at_;
  uint64_t round_robin_ = 0;
};

// Positions at which two host names differ (the shorter padded): ClickHouse's
// nearest_hostname distance.
size_t hostname_distance(const std::string& a, const std::string& b);

}  // namespace shardlab::sim::cluster
