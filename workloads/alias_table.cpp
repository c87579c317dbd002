#include "workloads/alias_table.h"

#include <cmath>

#include "engine/common/errors.h"

namespace shardlab::workloads {

AliasTable::AliasTable(std::span<const double> weights) {
  const size_t n = weights.size();
  SHARDLAB_ASSERT(n >= 1 && n < (uint64_t{1} << 32), "alias table needs 1..2^32-1 outcomes, got {}",
                  n);
  long double sum = 0;
  for (double w : weights) {
    SHARDLAB_ASSERT(std::isfinite(w) && w >= 0, "alias table weight must be finite and >= 0");
    sum += w;
  }
  SHARDLAB_ASSERT(sum > 0, "alias table weights must have a positive sum");

  // Vose: every column holds probability 1/n; a light outcome fills part of its own column and
  // lends the rest to a heavy outcome.
  std::vector<long double> scaled(n);
  std::vector<uint32_t> small, large;
  for (size_t idx = 0; idx < n; ++idx) {
    scaled[idx] = static_cast<long double>(weights[idx]) / sum * static_cast<long double>(n);
    (scaled[idx] < 1.0 ? small : large).push_back(static_cast<uint32_t>(idx));
  }
  std::vector<long double> keep(n, 1.0L);
  std::vector<uint32_t> alias(n);
  for (size_t idx = 0; idx < n; ++idx) alias[idx] = static_cast<uint32_t>(idx);
  while (!small.empty() && !large.empty()) {
    const uint32_t light = small.back();
    small.pop_back();
    const uint32_t heavy = large.back();
    keep[light] = scaled[light];
    alias[light] = heavy;
    scaled[heavy] -= 1.0 - scaled[light];
    if (scaled[heavy] < 1.0) {
      large.pop_back();
      small.push_back(heavy);
    }
  }
  // Whatever is left is 1 up to rounding: those columns keep themselves entirely.

  entries_.resize(n);
  for (size_t idx = 0; idx < n; ++idx) {
    const long double threshold = std::round(keep[idx] * 0x1.0p64L);
    if (alias[idx] == idx || threshold >= 0x1.0p64L) {
      entries_[idx] = AliasEntry{UINT64_MAX, static_cast<uint32_t>(idx)};
    } else {
      entries_[idx] = AliasEntry{static_cast<uint64_t>(threshold), alias[idx]};
    }
  }
}

double AliasTable::realised_probability(uint32_t outcome) const {
  __extension__ using Uint128 = unsigned __int128;
  const Uint128 n = entries_.size();
  Uint128 hits = 0;
  for (Uint128 column = 0; column < n; ++column) {
    // Bit patterns landing in this column: [first, last) with first = ceil(column * 2^64 / n).
    const Uint128 first = ((column << 64) + n - 1) / n;
    const Uint128 last = (((column + 1) << 64) + n - 1) / n;
    // Those with fraction < threshold: bits * n < column * 2^64 + threshold.
    Uint128 kept_end = ((column << 64) + entries_[column].threshold + n - 1) / n;
    if (kept_end > last) kept_end = last;
    const Uint128 kept = kept_end - first;
    if (column == outcome) hits += kept;
    if (entries_[column].alias == outcome) hits += (last - first) - kept;
  }
  return static_cast<double>(hits) * 0x1.0p-64;
}

}  // namespace shardlab::workloads
