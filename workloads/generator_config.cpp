#include "workloads/generator_config.h"

#include <cmath>
#include <string_view>

#include "base/errors.h"
#include "workloads/diurnal_curve.h"

namespace shardlab::workloads {
namespace {

template <typename Value>
[[noreturn]] void reject(std::string_view field, std::string_view expected, Value got) {
  throw InputError(fmt::format("generator config: {} must be {}, got {}", field, expected, got));
}

void check_weight(std::string_view field, double weight) {
  if (!std::isfinite(weight) || weight < 0) reject(field, "finite and >= 0", weight);
}

void check_zipf(std::string_view field, double exponent) {
  if (!(exponent >= 0 && exponent <= kMaxZipfExponent)) {
    reject(field, fmt::format("in [0, {}]", kMaxZipfExponent), exponent);
  }
}

}  // namespace

double peak_to_mean(const GeneratorConfig& config) {
  const double ratio =
      config.peak_rows_per_s * dt::kSecondsPerDay / static_cast<double>(config.rows_per_day);
  // validate() accepts ratios down to 1 - 1e-9 so that a peak typed as the mean rate passes;
  // those and anything as close above 1 mean a flat curve.
  return ratio < 1.0 + 1e-9 ? 1.0 : ratio;
}

uint64_t resolved_total_rows(const GeneratorConfig& config) {
  return config.total_rows != 0 ? config.total_rows
                                : config.rows_per_day * static_cast<uint64_t>(config.days);
}

void validate(const GeneratorConfig& config) {
  if (config.days < 1 || config.days > kMaxDays) {
    reject("days", fmt::format("in 1..{}", kMaxDays), config.days);
  }
  // event_time is a ClickHouse DateTime: UInt32 seconds.
  if (config.start < 0 ||
      config.start > (int64_t{1} << 32) - int64_t{config.days} * dt::kSecondsPerDay) {
    reject("start", "a UTC second such that start + days * 86400 <= 2^32 (2106-02-07)",
           config.start);
  }
  if (config.rows_per_day < 1 || config.rows_per_day > kMaxGeneratedRows) {
    reject("rows_per_day", fmt::format("in 1..{}", kMaxGeneratedRows), config.rows_per_day);
  }
  if (config.total_rows > kMaxGeneratedRows) {
    reject("total_rows", fmt::format("0 (full scale) or in 1..{}", kMaxGeneratedRows),
           config.total_rows);
  }
  if (config.total_rows == 0 &&
      config.rows_per_day > kMaxGeneratedRows / static_cast<uint64_t>(config.days)) {
    reject("rows_per_day * days", fmt::format("<= {} at full scale", kMaxGeneratedRows),
           config.rows_per_day * static_cast<uint64_t>(config.days));
  }
  if (config.users < 1 || config.users > kMaxIds) {
    reject("users", fmt::format("in 1..{}", kMaxIds), config.users);
  }
  if (config.items < 1 || config.items > kMaxIds) {
    reject("items", fmt::format("in 1..{}", kMaxIds), config.items);
  }
  check_zipf("user_zipf_exponent", config.user_zipf_exponent);
  check_zipf("item_zipf_exponent", config.item_zipf_exponent);

  const ActionMix& mix = config.action_mix;
  check_weight("action_mix.click", mix.click);
  check_weight("action_mix.fav", mix.fav);
  check_weight("action_mix.cart", mix.cart);
  check_weight("action_mix.buy", mix.buy);
  const double mix_sum = mix.click + mix.fav + mix.cart + mix.buy;
  if (!(mix_sum > 0) || !std::isfinite(mix_sum)) {
    reject("the sum of action_mix weights", "positive and finite", mix_sum);
  }

  if (!(config.female_ratio >= 0 && config.female_ratio <= 1)) {
    reject("female_ratio", "in [0, 1]", config.female_ratio);
  }

  const double mean_rows_per_s = static_cast<double>(config.rows_per_day) / dt::kSecondsPerDay;
  // A relative slack of 1e-9 accepts a peak typed as rows_per_day / 86400 (a flat curve).
  if (!std::isfinite(config.peak_rows_per_s) ||
      config.peak_rows_per_s < mean_rows_per_s * (1 - 1e-9) ||
      config.peak_rows_per_s > mean_rows_per_s * DiurnalCurve::kMaxPeakToMean) {
    reject("peak_rows_per_s",
           fmt::format("between the mean rate rows_per_day / 86400 = {} and {} times it",
                       mean_rows_per_s, DiurnalCurve::kMaxPeakToMean),
           config.peak_rows_per_s);
  }
  if (!(config.utc_offset_hours >= -12 && config.utc_offset_hours <= 14)) {
    reject("utc_offset_hours", "in [-12, 14]", config.utc_offset_hours);
  }
}

}  // namespace shardlab::workloads
