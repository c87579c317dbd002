#include "results/replicated_metrics.h"

#include <cmath>

#include "base/errors.h"

namespace shardlab::results {

ReplicatedMetrics::ReplicatedMetrics(double level) : level_(level) {
  SHARDLAB_ASSERT(level > 0.0 && level < 1.0, "confidence level {} is outside (0, 1)", level);
}

// A linear scan: a summary has tens of metrics, and the scan keeps first-added order for free.
size_t ReplicatedMetrics::index_of(std::string_view metric) const {
  size_t metric_idx = 0;
  while (metric_idx < metrics_.size() && metrics_[metric_idx].first != metric) ++metric_idx;
  return metric_idx;
}

void ReplicatedMetrics::add(std::string_view metric, double value) {
  SHARDLAB_ASSERT(std::isfinite(value), "metric '{}': non-finite value {}", metric, value);
  const size_t metric_idx = index_of(metric);
  if (metric_idx < metrics_.size()) {
    metrics_[metric_idx].second.push_back(value);
  } else {
    metrics_.emplace_back(std::string(metric), std::vector<double>{value});
  }
}

std::vector<std::string> ReplicatedMetrics::names() const {
  std::vector<std::string> out;
  out.reserve(metrics_.size());
  for (const auto& entry : metrics_) out.push_back(entry.first);
  return out;
}

const std::vector<double>& ReplicatedMetrics::values(std::string_view metric) const {
  static const std::vector<double> kNone;
  const size_t metric_idx = index_of(metric);
  return metric_idx < metrics_.size() ? metrics_[metric_idx].second : kNone;
}

ConfidenceInterval ReplicatedMetrics::interval(std::string_view metric) const {
  const size_t metric_idx = index_of(metric);
  SHARDLAB_ASSERT(metric_idx < metrics_.size(), "no replicated metric '{}'", metric);
  return mean_interval(metrics_[metric_idx].second, level_);
}

Json ReplicatedMetrics::to_json() const {
  Json out = Json::object();
  for (const auto& entry : metrics_) {
    out[entry.first] = interval_json(mean_interval(entry.second, level_));
  }
  return out;
}

}  // namespace shardlab::results
