#include "results/confidence_interval.h"

#include <cmath>
#include <vector>

#include "base/errors.h"
#include "results/student_t.h"

namespace shardlab::results {
namespace {

double mean_of(std::span<const double> values) {
  double sum = 0;
  for (const double value : values) sum += value;
  return sum / static_cast<double>(values.size());
}

}  // namespace

ConfidenceInterval mean_interval(std::span<const double> values, double level) {
  SHARDLAB_ASSERT(!values.empty(), "a confidence interval needs at least one value");
  SHARDLAB_ASSERT(level > 0.0 && level < 1.0, "confidence level {} is outside (0, 1)", level);
  for (const double value : values) {
    SHARDLAB_ASSERT(std::isfinite(value), "a confidence interval over a non-finite value {}",
                    value);
  }
  ConfidenceInterval out;
  out.n = static_cast<int64_t>(values.size());
  out.level = level;
  out.mean = mean_of(values);
  if (out.n == 1) return out;
  // Two passes: the sum of squared deviations from the mean does not cancel catastrophically
  // the way sum(x^2) - n mean^2 does for values with a large common offset.
  double squares = 0;
  for (const double value : values) squares += (value - out.mean) * (value - out.mean);
  out.stddev = std::sqrt(squares / static_cast<double>(out.n - 1));
  const double t = student_t_quantile(0.5 + level / 2, out.n - 1);
  out.half_width = t * out.stddev / std::sqrt(static_cast<double>(out.n));
  return out;
}

BatchMeansInterval batch_means_interval(std::span<const double> observations, int64_t batches,
                                        double level) {
  SHARDLAB_ASSERT(batches >= 2, "batch means need at least 2 batches, got {}", batches);
  SHARDLAB_ASSERT(static_cast<int64_t>(observations.size()) >= batches,
                  "{} observations cannot fill {} batches", observations.size(), batches);
  BatchMeansInterval out;
  out.batch_size = static_cast<int64_t>(observations.size()) / batches;
  out.discarded = static_cast<int64_t>(observations.size()) - out.batch_size * batches;
  std::vector<double> means;
  means.reserve(static_cast<size_t>(batches));
  for (int64_t batch_idx = 0; batch_idx < batches; ++batch_idx) {
    means.push_back(mean_of(
        observations.subspan(static_cast<size_t>(out.discarded + batch_idx * out.batch_size),
                             static_cast<size_t>(out.batch_size))));
  }
  out.interval = mean_interval(means, level);
  double lagged = 0;
  double squares = 0;
  for (size_t batch_idx = 0; batch_idx < means.size(); ++batch_idx) {
    const double deviation = means[batch_idx] - out.interval.mean;
    squares += deviation * deviation;
    if (batch_idx > 0) lagged += deviation * (means[batch_idx - 1] - out.interval.mean);
  }
  out.lag1_autocorrelation = squares > 0 ? lagged / squares : 0.0;
  return out;
}

}  // namespace shardlab::results
