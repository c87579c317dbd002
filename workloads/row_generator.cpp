#include "workloads/row_generator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/errors.h"
#include "base/counter_rng.h"

// The hashing loops get one copy per instruction set, picked once by the dynamic loader (GCC's
// function multi-versioning): the project builds for baseline x86-64, which has no 64-bit vector
// multiply, and AVX-512 makes draw_many() about five times faster than scalar code.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define SHARDLAB_VECTOR_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SHARDLAB_VECTOR_CLONES
#endif

namespace shardlab::workloads {
using base::draw;
using base::kGamma;
using base::stream_key;

namespace {

__extension__ using Uint128 = unsigned __int128;

GeneratorConfig validated(GeneratorConfig config) {
  validate(config);
  return config;
}

int64_t utc_offset_seconds(const GeneratorConfig& config) {
  return std::llround(config.utc_offset_hours * 3600.0);
}

// Eight lanes of mix64(): GCC vector extensions lower to AVX-512 (vpmullq), AVX2 or SSE2 code
// depending on the clone, with the same integer results.
using U64x8 = uint64_t __attribute__((vector_size(64)));
constexpr size_t kLanes = 8;

// In place: passing vectors by value would depend on the clone's ABI (GCC's -Wpsabi).
inline void mix64_lanes(U64x8& z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z = z ^ (z >> 31);
}

// draw(key, first_counter + j) for j in [0, count) into out[j]; bit-identical to draw().
SHARDLAB_VECTOR_CLONES
void draw_many(uint64_t key, uint64_t first_counter, size_t count, uint64_t* out) {
  const U64x8 lane = {1, 2, 3, 4, 5, 6, 7, 8};
  U64x8 state = (first_counter + lane) * kGamma + key;  // key + (counter + 1) γ per lane
  const U64x8 step = U64x8{} + kLanes * kGamma;
  size_t idx = 0;
  for (; idx + kLanes <= count; idx += kLanes) {
    U64x8 value = state;
    mix64_lanes(value);
    std::memcpy(out + idx, &value, sizeof value);
    state += step;
  }
  for (; idx < count; ++idx) out[idx] = draw(key, first_counter + idx);
}

// draw(key, counters[j]) into out[j].
SHARDLAB_VECTOR_CLONES
void draw_at(uint64_t key, const uint64_t* counters, size_t count, uint64_t* out) {
  size_t idx = 0;
  for (; idx + kLanes <= count; idx += kLanes) {
    U64x8 counter;
    std::memcpy(&counter, counters + idx, sizeof counter);
    U64x8 value = (counter + 1) * kGamma + key;
    mix64_lanes(value);
    std::memcpy(out + idx, &value, sizeof value);
  }
  for (; idx < count; ++idx) out[idx] = draw(key, counters[idx]);
}

constexpr size_t kChunkRows = 512;  // five scratch arrays of it stay in L1
constexpr uint64_t kActionMask = (uint64_t{1} << 24) - 1;
constexpr uint64_t kHighHalf = 0xFFFFFFFF00000000ULL;

}  // namespace

RowGenerator::RowGenerator(GeneratorConfig config)
    : config_(validated(config)),
      total_rows_(resolved_total_rows(config_)),
      end_(config_.start + int64_t{config_.days} * dt::kSecondsPerDay),
      curve_(peak_to_mean(config_), utc_offset_seconds(config_)),
      users_(config_.users, config_.user_zipf_exponent),
      items_(config_.items, config_.item_zipf_exponent),
      provinces_(kProvincePopulationMillions) {
  for (uint64_t stream = 0; stream < 5; ++stream) keys_[stream] = stream_key(config_.seed, stream);

  const ActionMix& mix = config_.action_mix;
  const double mix_weights[3] = {mix.click, mix.fav, mix.cart};
  const double mix_sum = mix.click + mix.fav + mix.cart + mix.buy;
  double cumulative = 0;
  for (int action = 0; action < 3; ++action) {
    cumulative += mix_weights[action];
    action_thresholds_[action] =
        static_cast<uint32_t>(std::llround(std::min(cumulative / mix_sum, 1.0) * 0x1.0p24));
  }
  female_threshold_ = static_cast<uint64_t>(std::llround(config_.female_ratio * 0x1.0p32));

  // first_row(s) = #{j : (2j + 1) W < 2 R cum(s)} = ceil((2 R cum(s) - W) / (2 W)) when positive,
  // in exact integers: R <= 2^40 and cum(s) <= W < 2^51, so 2 R cum(s) < 2^92.
  const auto seconds = static_cast<size_t>(end_ - config_.start);
  const Uint128 total_weight = Uint128{curve_.day_weight()} * static_cast<uint64_t>(config_.days);
  const Uint128 twice_rows = Uint128{2} * total_rows_;
  first_row_.resize(seconds + 1);
  Uint128 cumulative_weight = 0;
  for (size_t second = 0; second <= seconds; ++second) {
    const Uint128 scaled = twice_rows * cumulative_weight;
    first_row_[second] =
        scaled <= total_weight
            ? 0
            : static_cast<uint64_t>((scaled - total_weight + 2 * total_weight - 1) /
                                    (2 * total_weight));
    if (second < seconds) {
      cumulative_weight += curve_.second_weight(config_.start + static_cast<int64_t>(second));
    }
  }
  SHARDLAB_ASSERT(cumulative_weight == total_weight && first_row_.back() == total_rows_,
                  "event-time table does not end at total_rows: {} vs {}", first_row_.back(),
                  total_rows_);
}

void RowGenerator::generate(uint64_t first_row, size_t count, UserBehaviorBlock* out) const {
  SHARDLAB_ASSERT(first_row <= total_rows_ && count <= total_rows_ - first_row,
                  "rows [{}, {}) outside the data set of {} rows", first_row, first_row + count,
                  total_rows_);
  out->resize(count);
  // fill_random_columns() makes several passes over its rows; in chunks, a pass still finds the
  // previous pass's output in L1.
  for (size_t done = 0; done < count; done += kChunkRows) {
    fill_random_columns(first_row, done, std::min(kChunkRows, count - done), out);
  }
  fill_event_times(first_row, count, out->event_time.data());
}

uint64_t RowGenerator::user_attribute_bits(uint64_t user_id) const {
  return draw(keys_[kUserAttributeStream], user_id);
}

uint8_t RowGenerator::province_of(uint64_t user_id) const {
  return static_cast<uint8_t>(provinces_.pick(user_attribute_bits(user_id) & kHighHalf));
}

uint8_t RowGenerator::gender_of(uint64_t user_id) const {
  return (user_attribute_bits(user_id) & 0xFFFFFFFFULL) < female_threshold_ ? kFemale : kMale;
}

void RowGenerator::fill_random_columns(uint64_t block_first_row, size_t offset, size_t count,
                                       UserBehaviorBlock* out) const {
  // Several short passes instead of one long loop body: the hashing runs eight rows at a time
  // (draw_many), and each sampling pass has short independent rows whose table loads the CPU
  // overlaps, touching one sampler's tables at a time. Everything the loops read is copied to
  // locals because the uint8_t stores may alias anything.
  const uint64_t first_row = block_first_row + offset;
  uint64_t user_pick[kChunkRows], user_tail[kChunkRows], item_pick[kChunkRows],
      item_tail[kChunkRows], attributes[kChunkRows];
  draw_many(keys_[kUserPickStream], first_row, count, user_pick);
  draw_many(keys_[kUserTailStream], first_row, count, user_tail);
  draw_many(keys_[kItemPickStream], first_row, count, item_pick);
  draw_many(keys_[kItemTailAndActionStream], first_row, count, item_tail);

  const ZipfSampler::View users = users_.view();
  uint64_t* const user_ids = out->user_id.data() + offset;
  for (size_t row_idx = 0; row_idx < count; ++row_idx) {
    user_ids[row_idx] = users.sample(user_pick[row_idx], user_tail[row_idx]);
  }

  const ZipfSampler::View items = items_.view();
  const uint64_t action0 = action_thresholds_[0];
  const uint64_t action1 = action_thresholds_[1];
  const uint64_t action2 = action_thresholds_[2];
  uint64_t* const item_ids = out->item_id.data() + offset;
  uint8_t* const actions = out->action.data() + offset;
  for (size_t row_idx = 0; row_idx < count; ++row_idx) {
    item_ids[row_idx] = items.sample(item_pick[row_idx], item_tail[row_idx] & ~kActionMask);
    const uint64_t action_bits = item_tail[row_idx] & kActionMask;
    actions[row_idx] = static_cast<uint8_t>((action_bits >= action0) + (action_bits >= action1) +
                                            (action_bits >= action2));
  }

  draw_at(keys_[kUserAttributeStream], user_ids, count, attributes);
  const AliasTable::View provinces = provinces_.view();
  const uint64_t female_threshold = female_threshold_;
  uint8_t* const province_codes = out->province.data() + offset;
  uint8_t* const genders = out->gender.data() + offset;
  for (size_t row_idx = 0; row_idx < count; ++row_idx) {
    province_codes[row_idx] = static_cast<uint8_t>(provinces.pick(attributes[row_idx] & kHighHalf));
    genders[row_idx] = (attributes[row_idx] & 0xFFFFFFFFULL) < female_threshold ? kFemale : kMale;
  }
}

void RowGenerator::fill_event_times(uint64_t first_row, size_t count, uint32_t* out) const {
  const uint64_t end_row = first_row + count;
  // The second of the block's first row: the last s with first_row_[s] <= first_row.
  auto second = static_cast<size_t>(
      std::upper_bound(first_row_.begin(), first_row_.end(), first_row) - first_row_.begin() - 1);
  uint64_t row = first_row;
  while (row < end_row) {
    const uint64_t next = std::min(first_row_[second + 1], end_row);
    std::fill(out + (row - first_row), out + (next - first_row),
              static_cast<uint32_t>(config_.start + static_cast<int64_t>(second)));
    row = next;
    ++second;
  }
}

uint32_t RowGenerator::event_time_of(uint64_t row) const {
  SHARDLAB_ASSERT(row < total_rows_, "row {} outside the data set of {} rows", row, total_rows_);
  uint32_t time;
  fill_event_times(row, 1, &time);
  return time;
}

uint64_t RowGenerator::first_row_at(int64_t t) const {
  if (t <= config_.start) return 0;
  if (t >= end_) return total_rows_;
  return first_row_[static_cast<size_t>(t - config_.start)];
}

double RowGenerator::rate_at(int64_t t) const {
  return static_cast<double>(config_.rows_per_day) * curve_.relative_rate(t) / dt::kSecondsPerDay;
}

}  // namespace shardlab::workloads
