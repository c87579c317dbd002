#include "base/alias_table.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "base/errors.h"

namespace shardlab::base {
namespace {

constexpr long double kThresholdScale = 0x1.0p48L;
constexpr uint64_t kMaxThreshold = (uint64_t{1} << 48) - 1;

}  // namespace

AliasTable::AliasTable(std::span<const double> weights) : outcomes_(weights.size()) {
  SHARDLAB_ASSERT(outcomes_ >= 1 && outcomes_ <= kMaxOutcomes,
                  "alias table needs 1..{} outcomes, got {}", kMaxOutcomes, outcomes_);
  long double sum = 0;
  for (double w : weights) {
    SHARDLAB_ASSERT(std::isfinite(w) && w >= 0, "alias table weight must be finite and >= 0");
    sum += w;
  }
  SHARDLAB_ASSERT(sum > 0, "alias table weights must have a positive sum");
  column_bits_ = std::max(1, static_cast<int>(std::bit_width(outcomes_ - 1)));
  const size_t columns = size_t{1} << column_bits_;

  // Vose: every column holds probability 1/columns; a light outcome fills part of its own column
  // and lends the rest to a heavy one. Padding columns are outcomes of weight 0.
  std::vector<long double> scaled(columns, 0.0L);
  std::vector<uint32_t> small, large;
  for (size_t idx = 0; idx < columns; ++idx) {
    if (idx < outcomes_) {
      scaled[idx] =
          static_cast<long double>(weights[idx]) / sum * static_cast<long double>(columns);
    }
    (scaled[idx] < 1.0L ? small : large).push_back(static_cast<uint32_t>(idx));
  }
  std::vector<long double> keep(columns, 1.0L);
  std::vector<uint32_t> alias(columns);
  for (size_t idx = 0; idx < columns; ++idx) alias[idx] = static_cast<uint32_t>(idx);
  while (!small.empty() && !large.empty()) {
    const uint32_t light = small.back();
    small.pop_back();
    const uint32_t heavy = large.back();
    keep[light] = scaled[light];
    alias[light] = heavy;
    scaled[heavy] -= 1.0L - scaled[light];
    if (scaled[heavy] < 1.0L) {
      large.pop_back();
      small.push_back(heavy);
    }
  }
  // Whatever is left is 1 up to rounding: those columns keep themselves entirely (alias = self).
  // A padding column cannot be among them: its 0 would need a partner of weight ~2 to balance.
  for (size_t idx = outcomes_; idx < columns; ++idx) {
    SHARDLAB_ASSERT(alias[idx] != idx, "alias table padding column {} left unpaired", idx);
  }

  entries_.resize(columns);
  for (size_t idx = 0; idx < columns; ++idx) {
    const long double threshold = std::round(keep[idx] * kThresholdScale);
    const uint64_t quantised = alias[idx] == idx || threshold >= kThresholdScale
                                   ? kMaxThreshold
                                   : static_cast<uint64_t>(threshold);
    entries_[idx] = (quantised << 16) | alias[idx];
  }
}

double AliasTable::realised_probability(uint32_t outcome) const {
  // Column c takes 2^-k of the bit patterns; of those, the share threshold / 2^48 keeps c.
  long double total = 0;
  for (size_t column = 0; column < entries_.size(); ++column) {
    const long double kept = static_cast<long double>(entries_[column] >> 16) / kThresholdScale;
    if (column == outcome) total += kept;
    if ((entries_[column] & 0xFFFF) == outcome) total += 1.0L - kept;
  }
  return static_cast<double>(std::ldexp(total, -column_bits_));
}

}  // namespace shardlab::base
