// Utilisation of one resource over simulated time, as a piecewise-constant level integrated into
// fixed-width buckets: the mean utilisation (0..1) of each bucket, for plots and reports. Memory
// is one double per bucket, whatever the number of changes.
#pragma once

#include <string>
#include <vector>

#include "sim/core/time.h"

namespace shardlab::sim {

class UtilizationSeries {
 public:
  // REQUIRES: capacity > 0, bucket > 0.
  UtilizationSeries(std::string node, std::string resource, double capacity,
                    Duration bucket = Duration::seconds(1));

  // The level (in capacity units) changed at `now` (non-decreasing across calls).
  void set_level(Time now, double in_use);
  void set_capacity(Time now, double capacity);

  const std::string& node() const { return node_; }
  const std::string& resource() const { return resource_; }
  Duration bucket() const { return bucket_; }
  double level() const { return level_; }
  // Mean utilisation of each bucket from time 0 up to `end` (the last one may be partial).
  // REQUIRES: end is not before the last change.
  std::vector<double> buckets(Time end) const;
  // Mean utilisation over [0, end]. REQUIRES: as for buckets().
  double mean(Time end) const;

 private:
  void accumulate(Time until);

  std::string node_;
  std::string resource_;
  double capacity_;
  Duration bucket_;
  double level_ = 0;
  Time last_;
  std::vector<double> busy_;  // capacity-normalised busy seconds per bucket
};

}  // namespace shardlab::sim
