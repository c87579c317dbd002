// Walker's alias method (Vose's construction) for O(1) sampling from a fixed categorical
// distribution with 32 random bits and one table load.
//
// pick(bits): column = (bits * n) >> 32 and fraction = (bits * n) mod 2^32; keep the column if
// fraction < threshold[column], else take alias[column]. No division and no branch is needed.
//
// Accuracy: the thresholds are rounded to 32 bits and each column receives floor or ceil of
// 2^32 / n bit patterns, so with uniform bits every outcome's probability is exact to within
// 2^-31 * (1 + number of columns aliased to it). For n <= 1025 that is below 1e-9 relative to
// the table's largest probability.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace shardlab::workloads {

class AliasTable {
 public:
  AliasTable() = default;
  // REQUIRES: 1 <= weights.size() < 2^32; weights finite and >= 0 with a positive sum.
  // Weights are relative; they are normalised by their sum.
  explicit AliasTable(std::span<const double> weights);

  size_t size() const { return entries_.size(); }

  uint32_t pick(uint32_t bits) const {
    const uint64_t product = static_cast<uint64_t>(bits) * entries_.size();
    const Entry entry = entries_[product >> 32];
    return static_cast<uint32_t>(product) < entry.threshold ? static_cast<uint32_t>(product >> 32)
                                                            : entry.alias;
  }

  // The exact probability the table assigns to `outcome` when `bits` is uniform, counted over all
  // 2^32 bit patterns. O(size()); for tests and accuracy checks.
  double realised_probability(uint32_t outcome) const;

 private:
  struct Entry {
    uint32_t threshold;  // keep the column when fraction < threshold
    uint32_t alias;      // else this outcome; equals the column itself when the column is full
  };
  std::vector<Entry> entries_;
};

}  // namespace shardlab::workloads
