// Confidence intervals for a mean: across independent replications (the normal way shardlab
// reports a metric: one value per seed, mean +- t * s / sqrt(n)), and by batch means within one
// long run when replications are too expensive.
//
// Both assume the values are independent and roughly normal; means of many events per
// replication usually are (central limit), single extreme order statistics such as the max of a
// run are not. The interval is two-sided with Student's t quantile at (1 + level) / 2 and n - 1
// degrees of freedom. With one value there is no interval: half_width is empty and the JSON
// writer prints null bounds, rather than a zero-width interval that would look certain.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace shardlab::results {

inline constexpr double kDefaultConfidenceLevel = 0.95;

struct ConfidenceInterval {
  int64_t n = 0;
  double mean = 0;
  // Sample standard deviation (divisor n - 1); 0 when n == 1.
  double stddev = 0;
  double level = kDefaultConfidenceLevel;
  // t * stddev / sqrt(n); empty when n == 1.
  std::optional<double> half_width;

  bool has_interval() const { return half_width.has_value(); }
  // REQUIRES: has_interval().
  double low() const { return mean - *half_width; }
  double high() const { return mean + *half_width; }
};

// The mean of `values` (in the given order, so the result is reproducible bit for bit) and its
// confidence interval. REQUIRES: values non-empty and finite, 0 < level < 1.
ConfidenceInterval mean_interval(std::span<const double> values,
                                 double level = kDefaultConfidenceLevel);

struct BatchMeansInterval {
  ConfidenceInterval interval;  // over the batch means; n is the number of batches
  int64_t batch_size = 0;       // observations per batch
  int64_t discarded = 0;        // leading observations left out so that batches are equal
  // Lag-1 autocorrelation of the batch means. Batch means are meant to be nearly independent;
  // a value well above 0.2 says the batches are too short for the interval to be trusted.
  double lag1_autocorrelation = 0;
};

// Splits `observations` (in time order, warm-up already removed) into `batches` contiguous
// batches of equal size and builds the interval over their means. The remainder of the division
// is dropped from the front, the part of the run closest to the warm-up.
// REQUIRES: batches >= 2, observations.size() >= batches, 0 < level < 1.
BatchMeansInterval batch_means_interval(std::span<const double> observations, int64_t batches,
                                        double level = kDefaultConfidenceLevel);

}  // namespace shardlab::results
