#include "sim/core/random.h"

#include <xxhash.h>

#include <algorithm>
#include <numbers>

#include "base/errors.h"

namespace shardlab::sim {

RandomStream::RandomStream(uint64_t seed, std::string_view name)
    : key_(base::stream_key(seed, XXH3_64bits(name.data(), name.size()))) {}

double RandomStream::normal() {
  const double radius = std::sqrt(-2.0 * std::log(uniform01_open_low()));
  return radius * std::cos(2.0 * std::numbers::pi * uniform01());
}

EmpiricalDistribution::EmpiricalDistribution(std::vector<double> values,
                                             std::span<const double> weights)
    : values_(std::move(values)), table_(weights) {
  SHARDLAB_ASSERT(values_.size() == weights.size() && !values_.empty(),
                  "{} values with {} weights", values_.size(), weights.size());
}

EmpiricalDistribution EmpiricalDistribution::interpolated(std::vector<double> samples) {
  SHARDLAB_ASSERT(samples.size() >= 2, "an interpolated distribution needs two samples");
  std::sort(samples.begin(), samples.end());
  EmpiricalDistribution d;
  d.values_ = std::move(samples);
  d.interpolate_ = true;
  return d;
}

double EmpiricalDistribution::operator()(RandomStream& rng) const {
  if (!interpolate_) return values_[table_.pick(rng.next_u64())];
  // Inverse of the piecewise-linear CDF through (k / (m - 1), x_k).
  const double position = rng.uniform01() * static_cast<double>(values_.size() - 1);
  const auto segment = static_cast<size_t>(position);
  const double fraction = position - static_cast<double>(segment);
  return values_[segment] + fraction * (values_[segment + 1] - values_[segment]);
}

}  // namespace shardlab::sim
