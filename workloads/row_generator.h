// The deterministic row generator for user_behavior (see user_behavior.h for the DDL).
//
// Row i is a pure function of (config, i). Nothing is drawn sequentially, so any range of rows
// can be generated on any thread or machine, in any order and in blocks of any size, and the
// result is bit-identical. The exact function, with draw() and stream_key() from counter_rng.h,
// R = total rows and W = the curve's weight summed over the data set:
//
//   key_s    = stream_key(seed, s) for the streams s = 0..4 below
//   a = draw(key_0, i)   b = draw(key_1, i)   c = draw(key_2, i)   d = draw(key_3, i)
//   user_id  = UserZipf.sample(a, b)
//   item_id  = ItemZipf.sample(c, d with its low 24 bits cleared)
//   action   = number of j in 0..2 with (d mod 2^24) >= C_j,
//              C_j = round(2^24 * (w_0 + ... + w_j) / (w_0 + ... + w_3)), w = action_mix weights
//   e        = draw(key_4, user_id)                     per user, not per row
//   province = ProvinceAlias.pick(e with its low 32 bits cleared)   (population weights)
//   gender   = F if (e mod 2^32) < round(female_ratio * 2^32), else M
//   event_time = start + s, the s with first_row(s) <= i < first_row(s + 1), where
//              first_row(s) = #{j >= 0 : (j + 0.5) / R < cum(s) / W} and cum(s) is the integer
//              curve weight of the data set's seconds 0..s-1 (DiurnalCurve::second_weight).
//
// UserZipf / ItemZipf are ZipfSampler(users, user_zipf_exponent) / (items, item_zipf_exponent);
// ProvinceAlias is AliasTable(kProvincePopulationMillions). So user_id 1 is the most active user
// and item_id 1 the most popular item; each user has exactly one province and one gender. In
// words, event_time is the second at which the normalised cumulative curve reaches
// (i + 0.5) / R: non-decreasing in i, inside [start, start + days * 86400), and the number of rows
// in a second differs from R * weight / W by less than one.
//
// Cost: generate() is O(count) plus one binary search; the event-time walk visits each second
// of the block's span once. About 70M rows/s on an idle core with the defaults (bench_generator);
// the hashing runs eight rows at a time with AVX-512 or AVX2 when the CPU has them. Construction
// precomputes first_row for every second of the data set (8 bytes a second: 4.8 MB for 7 days)
// and the Zipf tables (~0.8 MB with the defaults), in about 50 ms.
#pragma once

#include <cstdint>
#include <vector>

#include "base/alias_table.h"
#include "workloads/diurnal_curve.h"
#include "workloads/generator_config.h"
#include "workloads/user_behavior.h"
#include "base/zipf_sampler.h"

namespace shardlab::workloads {

using base::AliasTable;
using base::ZipfSampler;

class RowGenerator {
 public:
  // The random streams of the documented generation function.
  enum Stream : uint64_t {
    kUserPickStream = 0,
    kUserTailStream = 1,
    kItemPickStream = 2,
    kItemTailAndActionStream = 3,
    kUserAttributeStream = 4,
  };

  // Throws InputError (see validate()) for a bad config.
  explicit RowGenerator(GeneratorConfig config);

  const GeneratorConfig& config() const { return config_; }
  uint64_t total_rows() const { return total_rows_; }
  int64_t start() const { return config_.start; }
  int64_t end() const { return end_; }  // exclusive: start + days * 86400

  // Overwrites *out with rows [first_row, first_row + count), resizing its columns.
  // REQUIRES: first_row + count <= total_rows().
  void generate(uint64_t first_row, size_t count, UserBehaviorBlock* out) const;

  // The per-user attributes generate() uses. REQUIRES: 1 <= user_id <= users.
  uint8_t province_of(uint64_t user_id) const;
  uint8_t gender_of(uint64_t user_id) const;

  // event_time of one row. REQUIRES: row < total_rows(). O(log seconds).
  uint32_t event_time_of(uint64_t row) const;

  // The first row whose event_time >= t: 0 for t <= start, total_rows() for t >= end(). Rows
  // [first_row_at(t0), first_row_at(t1)) are exactly those with t0 <= event_time < t1, so a
  // simulator can insert, at simulated time t, the rows whose event time has come.
  uint64_t first_row_at(int64_t t) const;

  // The full-scale event rate at UTC second t, in rows/s: rows_per_day * relative_rate(t) / 86400.
  // Defined for any t (the curve repeats daily); its daily mean is rows_per_day / 86400 and its
  // maximum peak_rows_per_s (to < 1e-7 relative). The data set's own rate is this times
  // total_rows() / (rows_per_day * days).
  double rate_at(int64_t t) const;

  const DiurnalCurve& curve() const { return curve_; }
  const ZipfSampler& user_sampler() const { return users_; }
  const ZipfSampler& item_sampler() const { return items_; }

 private:
  // Rows [block_first_row + offset, + count) into out's columns at `offset`.
  void fill_random_columns(uint64_t block_first_row, size_t offset, size_t count,
                           UserBehaviorBlock* out) const;
  void fill_event_times(uint64_t first_row, size_t count, uint32_t* out) const;
  uint64_t user_attribute_bits(uint64_t user_id) const;

  GeneratorConfig config_;
  uint64_t total_rows_;
  int64_t end_;
  DiurnalCurve curve_;
  ZipfSampler users_;
  ZipfSampler items_;
  AliasTable provinces_;
  uint64_t keys_[5];
  uint32_t action_thresholds_[3];    // C_0..C_2, in units of 2^-24
  uint64_t female_threshold_;        // in units of 2^-32
  std::vector<uint64_t> first_row_;  // first_row(s) for s = 0..days * 86400
};

}  // namespace shardlab::workloads
