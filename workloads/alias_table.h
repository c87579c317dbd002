// Walker's alias method (Vose's construction) for O(1) sampling from a fixed categorical
// distribution with 64 random bits and one table load.
//
// pick(bits): with the 128-bit product bits * n, column = product >> 64 and
// fraction = product mod 2^64; keep the column if fraction < threshold[column], else take
// alias[column]. No division, and no branch: the comparison is a coin flip that a branch
// predictor would often get wrong.
//
// Accuracy: thresholds are rounded to 64 bits and each column receives floor or ceil of 2^64 / n
// bit patterns, so with uniform bits every outcome's probability is within 2^-63 * (1 + number
// of columns aliased to it) absolute, plus ~1e-17 relative from the extended-precision
// construction, of the requested one. Outcomes rarer than 2^-64 may never be drawn.
// Callers with fewer random bits put them at the top of `bits`: with b bits the same bound holds
// with 2^-(b-1).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace shardlab::workloads {

struct AliasEntry {
  uint64_t threshold;  // keep the column when fraction < threshold
  uint32_t alias;      // else this outcome; equals the column itself when the column is full
};

class AliasTable {
 public:
  // The table's hot state by value. Loops copy it to a local: stores through uint8_t pointers may
  // alias anything, which would otherwise force a reload of the table pointer every iteration.
  struct View {
    const AliasEntry* entries;
    uint64_t size;

    uint32_t pick(uint64_t bits) const {
      __extension__ using Uint128 = unsigned __int128;
      const Uint128 product = static_cast<Uint128>(bits) * size;
      const auto column = static_cast<uint32_t>(product >> 64);
      const AliasEntry& entry = entries[column];
      const uint32_t keep =
          0u - static_cast<uint32_t>(static_cast<uint64_t>(product) < entry.threshold);
      return entry.alias ^ ((entry.alias ^ column) & keep);
    }
  };

  AliasTable() = default;
  // REQUIRES: 1 <= weights.size() < 2^32; weights finite and >= 0 with a positive sum.
  // Weights are relative; they are normalised by their sum.
  explicit AliasTable(std::span<const double> weights);

  size_t size() const { return entries_.size(); }
  View view() const { return View{entries_.data(), entries_.size()}; }
  uint32_t pick(uint64_t bits) const { return view().pick(bits); }

  // The exact probability the table assigns to `outcome` when `bits` is uniform, counted over all
  // 2^64 bit patterns. O(size()); for tests and accuracy checks.
  double realised_probability(uint32_t outcome) const;

 private:
  std::vector<AliasEntry> entries_;
};

}  // namespace shardlab::workloads
