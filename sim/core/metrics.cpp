#include "sim/core/metrics.h"

#include <algorithm>

#include "base/errors.h"

namespace shardlab::sim {

UtilizationSeries::UtilizationSeries(std::string node, std::string resource, double capacity,
                                     Duration bucket)
    : node_(std::move(node)), resource_(std::move(resource)), capacity_(capacity), bucket_(bucket) {
  SHARDLAB_ASSERT(capacity > 0 && bucket > Duration(), "utilisation needs a positive capacity");
}

void UtilizationSeries::accumulate(Time until) {
  if (until <= last_) return;
  const double fraction = level_ / capacity_;
  int64_t t = last_.ns();
  while (t < until.ns()) {
    const auto index = static_cast<size_t>(t / bucket_.ns());
    const int64_t bucket_end = static_cast<int64_t>(index + 1) * bucket_.ns();
    const int64_t stop = std::min(bucket_end, until.ns());
    if (busy_.size() <= index) busy_.resize(index + 1, 0.0);
    busy_[index] += fraction * static_cast<double>(stop - t) * 1e-9;
    t = stop;
  }
  last_ = until;
}

void UtilizationSeries::set_level(Time now, double in_use) {
  accumulate(now);
  level_ = in_use;
}

void UtilizationSeries::set_capacity(Time now, double capacity) {
  SHARDLAB_ASSERT(capacity > 0, "capacity must be positive");
  accumulate(now);
  capacity_ = capacity;
}

std::vector<double> UtilizationSeries::buckets(Time end) const {
  SHARDLAB_ASSERT(end >= last_, "utilisation asked up to {} ns, before its last change", end.ns());
  UtilizationSeries copy = *this;
  copy.accumulate(end);
  const auto count = static_cast<size_t>((end.ns() + bucket_.ns() - 1) / bucket_.ns());
  std::vector<double> out(count, 0.0);
  for (size_t i = 0; i < count; ++i) {
    const int64_t start = static_cast<int64_t>(i) * bucket_.ns();
    const double width = static_cast<double>(std::min(end.ns() - start, bucket_.ns())) * 1e-9;
    out[i] = i < copy.busy_.size() ? copy.busy_[i] / width : 0.0;
  }
  return out;
}

double UtilizationSeries::mean(Time end) const {
  if (end.ns() <= 0) return 0;
  SHARDLAB_ASSERT(end >= last_, "utilisation asked up to {} ns, before its last change", end.ns());
  UtilizationSeries copy = *this;
  copy.accumulate(end);
  double busy = 0;
  for (double b : copy.busy_) busy += b;
  return busy / end.seconds();
}

}  // namespace shardlab::sim
