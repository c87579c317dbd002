#include "workloads/diurnal_curve.h"

#include <algorithm>
#include <cmath>

#include "shardlab/engine/date_time.h"
#include "base/errors.h"

namespace shardlab::workloads {
namespace {

// log of b(m) / max b for every minute of the local day.
std::array<double, DiurnalCurve::kMinutesPerDay> log_base_shape() {
  const auto& hourly = DiurnalCurve::kBaseHourlyProfile;
  const double peak = *std::max_element(hourly.begin(), hourly.end());
  std::array<double, DiurnalCurve::kMinutesPerDay> log_shape{};
  for (int minute = 0; minute < DiurnalCurve::kMinutesPerDay; ++minute) {
    const int hour = minute / 60;
    const double within = (minute % 60) / 60.0;
    const double value = hourly[hour] + within * (hourly[(hour + 1) % 24] - hourly[hour]);
    log_shape[minute] = std::log(value / peak);
  }
  return log_shape;
}

// 1 / mean(b^k): the peak-to-mean ratio of the shape b^k (max b = 1).
double peak_to_mean_at(const std::array<double, DiurnalCurve::kMinutesPerDay>& log_shape,
                       double k) {
  double sum = 0;
  for (double log_value : log_shape) sum += std::exp(k * log_value);
  return DiurnalCurve::kMinutesPerDay / sum;
}

}  // namespace

DiurnalCurve::DiurnalCurve(double peak_to_mean, int64_t utc_offset_seconds)
    : utc_offset_seconds_(utc_offset_seconds) {
  SHARDLAB_ASSERT(peak_to_mean >= 1.0 && peak_to_mean <= kMaxPeakToMean,
                  "peak-to-mean ratio {} outside [1, {}]", peak_to_mean, kMaxPeakToMean);
  SHARDLAB_ASSERT(std::abs(utc_offset_seconds) <= dt::kSecondsPerDay, "UTC offset {} s",
                  utc_offset_seconds);
  const auto log_shape = log_base_shape();

  // The ratio is strictly increasing in k: bracket the target, then bisect to full precision.
  double lo = 0;
  double hi = 1;
  while (peak_to_mean_at(log_shape, hi) < peak_to_mean) {
    lo = hi;
    hi *= 2;
  }
  for (int iteration = 0; iteration < 200 && hi - lo > 1e-15 * hi; ++iteration) {
    const double mid = 0.5 * (lo + hi);
    (peak_to_mean_at(log_shape, mid) < peak_to_mean ? lo : hi) = mid;
  }
  exponent_ = peak_to_mean <= 1.0 ? 0.0 : 0.5 * (lo + hi);

  const double mean_ratio = peak_to_mean_at(log_shape, exponent_);  // 1 / mean(b^k)
  uint64_t minute_sum = 0;
  for (int minute = 0; minute < kMinutesPerDay; ++minute) {
    const double shape = std::exp(exponent_ * log_shape[minute]) * mean_ratio;  // mean 1
    minute_weight_[minute] = static_cast<uint64_t>(std::llround(shape * kWeightUnitsPerMean));
    minute_sum += minute_weight_[minute];
    max_minute_weight_ = std::max(max_minute_weight_, minute_weight_[minute]);
  }
  day_weight_ = 60 * minute_sum;
}

double DiurnalCurve::realised_peak_to_mean() const {
  return static_cast<double>(max_minute_weight_) * 86400.0 / static_cast<double>(day_weight_);
}

int DiurnalCurve::local_minute_of(int64_t t) const {
  const int64_t local = t + utc_offset_seconds_;
  const int64_t second_of_day = local - dt::day_of(local) * dt::kSecondsPerDay;
  return static_cast<int>(second_of_day / 60);
}

}  // namespace shardlab::workloads
