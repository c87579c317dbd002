// Walker's alias method (Vose's construction) for O(1) sampling from a fixed categorical
// distribution with 64 random bits and one 8-byte table load.
//
// The table has 2^k columns (k >= 1; outcomes are padded with zero-weight ones), so pick(bits)
// needs only shifts: column = the top k bits, fraction = the next 48 bits; keep the column if
// fraction < threshold[column], else take alias[column]. No multiplication, division or branch:
// the comparison is a coin flip that a branch predictor would often get wrong.
//
// Accuracy: each column's threshold is rounded to 48 bits, so with uniform bits every outcome's
// probability is within 2^-(49 + k) * (1 + number of columns aliased to it) of the requested one
// (2^-60 for 2048 columns), computed exactly by realised_probability(). Callers with fewer random
// bits put them at the top of `bits`; with b of them the rounding is to b - k bits instead of 48.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace shardlab::base {

class AliasTable {
 public:
  static constexpr size_t kMaxOutcomes = size_t{1} << 16;

  // The table's hot state by value. Loops copy it to a local: stores through uint8_t pointers may
  // alias anything, which would otherwise force a reload of the table pointer every iteration.
  struct View {
    const uint64_t* entries;  // threshold (top 48 bits) | alias (low 16 bits)
    int column_bits;          // k

    uint32_t pick(uint64_t bits) const {
      const auto column = static_cast<uint32_t>(bits >> (64 - column_bits));
      const uint64_t fraction = (bits << column_bits) >> 16;
      const uint64_t entry = entries[column];
      const uint32_t keep = 0u - static_cast<uint32_t>(fraction < (entry >> 16));
      const auto alias = static_cast<uint32_t>(entry & 0xFFFF);
      return alias ^ ((alias ^ column) & keep);
    }
  };

  AliasTable() = default;
  // REQUIRES: 1 <= weights.size() <= kMaxOutcomes; weights finite and >= 0 with a positive sum.
  // Weights are relative; they are normalised by their sum.
  explicit AliasTable(std::span<const double> weights);

  size_t outcomes() const { return outcomes_; }
  View view() const { return View{entries_.data(), column_bits_}; }
  uint32_t pick(uint64_t bits) const { return view().pick(bits); }

  // The exact probability the table assigns to `outcome` when `bits` is uniform. O(columns);
  // for tests and accuracy checks.
  double realised_probability(uint32_t outcome) const;

 private:
  size_t outcomes_ = 0;
  int column_bits_ = 1;
  std::vector<uint64_t> entries_;
};

}  // namespace shardlab::base
