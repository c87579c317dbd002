// Every tunable of the user_behavior row generator, with its default and the reason for it.
// validate() is the single place that decides what is acceptable.
#pragma once

#include <cstdint>

#include "shardlab/engine/date_time.h"

namespace shardlab::workloads {

// Relative weights of the actions, in kActionNames order; normalised by their sum.
// Defaults: a typical e-commerce funnel, where most events are clicks and a few percent buys.
struct ActionMix {
  double click = 0.85;
  double fav = 0.06;
  double cart = 0.06;
  double buy = 0.03;
};

struct GeneratorConfig {
  // Every random draw derives from the seed: the same config gives the same rows everywhere.
  uint64_t seed = 1;

  // First second of the data set (UTC, seconds since the epoch) and its length in whole days.
  // 7 days: the case study's query window ("the last 7 days"), starting 2024-05-01 00:00:00 UTC.
  int64_t start = dt::days_from_civil(2024, 5, 1) * dt::kSecondsPerDay;
  int days = 7;

  // Rows in the data set; 0 means full scale, rows_per_day * days. A smaller data set keeps the
  // curve's shape, so tests and laptops can run the same workload scaled down.
  uint64_t total_rows = 0;

  // user_id is the Zipf rank in 1..users (rank 1 = the most active user). Activity per user is
  // heavy-tailed but flatter than item popularity, hence the exponent below 1.
  uint64_t users = 10'000'000;
  double user_zipf_exponent = 0.9;

  // item_id is the Zipf rank in 1..items (rank 1 = the most popular item). A few hit items take
  // a large share of events, hence the exponent above 1.
  uint64_t items = 1'000'000;
  double item_zipf_exponent = 1.1;

  ActionMix action_mix;

  // Share of users who are women. The case study's user base had twice as many women as men.
  double female_ratio = 2.0 / 3.0;

  // The full-scale load of the case study: 1e9 rows a day and 1e5 rows/s at the daily peak. Their
  // ratio fixes the diurnal curve's peak-to-mean ratio: 1e5 / (1e9 / 86400) = 8.64.
  uint64_t rows_per_day = 1'000'000'000;
  double peak_rows_per_s = 1e5;

  // The curve follows local time; the case study's users are in China (UTC+8).
  double utc_offset_hours = 8;
};

// Limits enforced by validate(), each with its reason.
// The per-second event-time table costs 8 bytes a second: 253 MB for a year.
inline constexpr int kMaxDays = 366;
// Keeps the event-time arithmetic exact in 128-bit integers.
inline constexpr uint64_t kMaxGeneratedRows = uint64_t{1} << 40;
// Ids stay exact in the Zipf tables' doubles (2^53) with room to spare.
inline constexpr uint64_t kMaxIds = uint64_t{1} << 40;
// ZipfSampler::kMaxExponent; beyond ~2 the far tail falls below ~2^-60 and is not drawn at all.
inline constexpr double kMaxZipfExponent = 4.0;

// Throws InputError naming the first offending field, its value and what was expected.
void validate(const GeneratorConfig& config);

// total_rows with 0 resolved to rows_per_day * days. REQUIRES: validate(config) passed.
uint64_t resolved_total_rows(const GeneratorConfig& config);

// peak_rows_per_s / (rows_per_day / 86400); within 1e-9 of 1 it is exactly 1 (a flat curve).
double peak_to_mean(const GeneratorConfig& config);

}  // namespace shardlab::workloads
