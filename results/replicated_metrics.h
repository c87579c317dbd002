// ReplicatedMetrics: scalar metrics collected once per replication (one run per seed), reported
// as mean and confidence interval across replications, e.g.
//   metrics.add("query.top10.p99_s", 0.0123);   // after each replication
//   summary["replicated"] = metrics.to_json();  // {"query.top10.p99_s": {"mean", ...}, ...}
// Metrics keep the order in which they were first added, and values the order in which they
// arrived, so the output is deterministic when the replications are processed in seed order.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "results/confidence_interval.h"
#include "results/summary_writer.h"

namespace shardlab::results {

class ReplicatedMetrics {
 public:
  // REQUIRES: 0 < level < 1.
  explicit ReplicatedMetrics(double level = kDefaultConfidenceLevel);

  // Appends one replication's value of `metric`. REQUIRES: value finite.
  void add(std::string_view metric, double value);

  // Names in first-added order.
  std::vector<std::string> names() const;
  // The values of `metric` in the order added; empty if never added.
  const std::vector<double>& values(std::string_view metric) const;
  // REQUIRES: `metric` has at least one value.
  ConfidenceInterval interval(std::string_view metric) const;
  // {name: interval_json(interval(name)), ...} in first-added order.
  Json to_json() const;

 private:
  // The position of `metric` in metrics_, or metrics_.size() if it was never added.
  size_t index_of(std::string_view metric) const;

  double level_;
  std::vector<std::pair<std::string, std::vector<double>>> metrics_;
};

}  // namespace shardlab::results
