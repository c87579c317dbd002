// The daily shape of the event rate, in local time, with a prescribed peak-to-mean ratio.
//
// Construction:
//  1. kBaseHourlyProfile gives a typical e-commerce day at the top of each local hour: a trough
//     around 04:00, a morning ramp, a daytime plateau and the evening peak at 21:00. It is a
//     qualitative shape, not fitted to any data set.
//  2. It is interpolated linearly to the start of every minute, b(m) for m = 0..1439, and
//     normalised so that max b = 1.
//  3. The rate shape is b(m)^k / mean(b^k). Its peak-to-mean ratio 1 / mean(b^k) rises strictly
//     from 1 at k = 0 towards 1440 as k grows, so bisection finds the k giving the requested
//     ratio (peak_rows_per_s / (rows_per_day / 86400), 8.64 with the defaults). One exponent keeps
//     the curve's shape recognisable while expressing both the daily volume and the peak rate.
//  4. Each minute's shape is stored as an integer weight (units of 2^-24 of the mean), so the
//     cumulative sums used for event times are exact integers. Each second of a minute has that
//     minute's weight. The rounding changes the realised peak-to-mean ratio by < 1e-7 relative.
//
// The curve repeats every day; the weight of a UTC second t is the weight of its local minute,
// local time being t + utc_offset_seconds. Any 86400 consecutive seconds sum to day_weight().
#pragma once

#include <array>
#include <cstdint>

namespace shardlab::workloads {

class DiurnalCurve {
 public:
  static constexpr int kMinutesPerDay = 1440;
  // Above this the day collapses into a handful of minutes around the peak; the limit of the
  // construction is 1440 (everything in the single peak minute).
  static constexpr double kMaxPeakToMean = 1000.0;
  static constexpr double kWeightUnitsPerMean = 0x1.0p24;

  // Relative activity at hh:00 local time, hh = 0..23.
  static constexpr std::array<double, 24> kBaseHourlyProfile = {
      0.55, 0.35, 0.22, 0.15, 0.12, 0.14, 0.22, 0.38,  // 00:00-07:00: night trough at 04:00
      0.55, 0.70, 0.80, 0.82, 0.78, 0.76, 0.80, 0.82,  // 08:00-15:00: ramp, lunch dip, plateau
      0.80, 0.78, 0.80, 0.88, 0.96, 1.00, 0.92, 0.75,  // 16:00-23:00: evening peak at 21:00
  };

  // REQUIRES: 1 <= peak_to_mean <= kMaxPeakToMean; |utc_offset_seconds| <= 86400.
  DiurnalCurve(double peak_to_mean, int64_t utc_offset_seconds);

  double exponent() const { return exponent_; }  // k
  int64_t utc_offset_seconds() const { return utc_offset_seconds_; }
  // The ratio the integer weights realise: max weight / mean weight.
  double realised_peak_to_mean() const;

  uint64_t minute_weight(int local_minute) const { return minute_weight_[local_minute]; }
  int local_minute_of(int64_t t) const;
  uint64_t second_weight(int64_t t) const { return minute_weight_[local_minute_of(t)]; }
  uint64_t day_weight() const { return day_weight_; }
  uint64_t max_minute_weight() const { return max_minute_weight_; }

  // Rate at UTC second t relative to the daily mean: the mean over any day is 1 and the maximum
  // is realised_peak_to_mean().
  double relative_rate(int64_t t) const {
    return static_cast<double>(second_weight(t)) * 86400.0 / static_cast<double>(day_weight_);
  }

 private:
  double exponent_ = 0;
  int64_t utc_offset_seconds_;
  std::array<uint64_t, kMinutesPerDay> minute_weight_{};
  uint64_t day_weight_ = 0;  // 60 * sum of minute weights
  uint64_t max_minute_weight_ = 0;
};

}  // namespace shardlab::workloads
