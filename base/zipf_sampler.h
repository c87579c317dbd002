// Zipf(n, s) over ranks 1..n: P(k) = k^-s / H(n, s), with the generalised harmonic number
// H(n, s) = sum_{j=1..n} j^-s. Rank 1 is the most probable.
//
// Sampling is O(1) per draw, with no division, logarithm or power at draw time:
//
//  * Head and segment choice. One AliasTable (64 random bits, one load) picks either a head rank
//    1..K (K = min(n, kHeadRanks)) or one of the tail segments (K, 2K], (2K, 4K], ...,
//    (2^j K, n]. Head ranks and segment masses come out exact to ~2^-60 (alias_table.h).
//
//  * Rank inside a segment, by inversion. G(x) = sum_{j=K+1..x} j^-s is extended to real
//    x >= K by its Euler-Maclaurin expansion (integral, end-point term and Bernoulli terms through
//    B6), which matches the integer sums to ~1e-15 relative for x >= 1024 and is strictly
//    increasing. For u uniform in [0, 1), floor(x) + 1 with x = G^-1(G(lo) + u (G(hi) - G(lo)))
//    is distributed exactly as Zipf restricted to the segment (lo, hi]. That x is tabulated at
//    kSegmentIntervals + 1 equally spaced u per segment (Newton's method at construction), as a
//    32-bit fixed-point offset (x - lo) / (hi - lo) * 2^32, and interpolated linearly at draw time
//    in integer arithmetic. Integers keep the draw bit-identical under any compiler flags (no
//    floating-point contraction or rounding mode can change a rank) and halve the table.
//
// Accuracy of the tail. Linear interpolation moves each rank boundary by at most h^2/8 max|x''|
// (h = 2^-13), and the shift varies smoothly, so a rank's probability is off by about
// (h / 2) |d ln x'(u) / du| = (h / 2) s x'(u) / x relative. Each segment spans one octave of
// ranks, which caps this near 2^-14 s ln(2) 2^|s-1| whatever n is. The 32-bit fixed point adds at
// most 2^-32 * 2^13 = 2e-6. Measured with realised_pmf() (the exact probability the tables assign
// to a rank, counted over all bit patterns) against pmf() over n = 5e3..1e10: at most 4.1e-5
// relative for the user default (n = 1e7, s = 0.9), 4.7e-5 for items (1e6, 1.1), 1.2e-4 at s = 2,
// 2.7e-4 at s = 3; for n near 2^40 up to 9e-5 at s <= 1.1, where the 53-bit resolution below
// shows. The tests check the two defaults. Ranks whose probability is below ~2^-60 (only for
// s > 2 and ranks beyond ~1e6) are not represented by the alias table. sample() reads
// kSegmentBits + 40 = 53 tail bits, which resolve probabilities to 2^-53: at most about r 2^-53
// relative for rank r.
//
// Memory: 4 (kSegmentIntervals + 1) bytes per segment, log2(n / K) segments: 0.45 MiB for 1e7
// ranks, 0.3 MiB for 1e6.
#pragma once

#include <cstdint>
#include <vector>

#include "base/alias_table.h"

namespace shardlab::base {

// H(n, s) = sum_{j=1..n} j^-s: the first kHeadRanks terms are summed directly, the rest by
// Euler-Maclaurin. Relative error below 1e-13 for s in [0, 4]. REQUIRES: n >= 1, s >= 0.
double generalized_harmonic(uint64_t n, double s);

class ZipfSampler {
 public:
  static constexpr uint64_t kHeadRanks = 1024;  // a power of two: segments are whole binades
  static constexpr int kSegmentBits = 13;
  static constexpr uint32_t kSegmentIntervals = uint32_t{1} << kSegmentBits;
  static constexpr uint64_t kMaxRanks = uint64_t{1} << 48;  // ranks stay exact in a double
  static constexpr double kMaxExponent = 4.0;

  // REQUIRES: 1 <= n <= kMaxRanks, 0 <= exponent <= kMaxExponent (callers validate user input).
  ZipfSampler(uint64_t n, double exponent);

  uint64_t n() const { return n_; }
  double exponent() const { return exponent_; }
  double normalizer() const { return normalizer_; }  // H(n, s)
  uint64_t head_ranks() const { return head_ranks_; }
  size_t segment_count() const { return segments_.size(); }

  // A segment's ranks (low, low + width] as sample() needs them.
  struct SegmentRange {
    uint64_t low;
    uint64_t width;
  };

  // The sampler's hot state by value, for inner loops (see AliasTable::View).
  struct View {
    AliasTable::View head;
    const uint32_t* points;  // kSegmentIntervals + 1 fixed-point offsets per segment
    const SegmentRange* segments;
    uint32_t head_ranks;

    // A rank in 1..n from two independent 64-bit uniforms. `tail_bits`: the top kSegmentBits
    // bits choose the interval of the segment's table and the next 40 bits the position inside
    // it; lower bits are ignored, so a caller may use them for something else. Branch-free: the
    // head/tail choice is random and would mispredict as a branch.
    uint64_t sample(uint64_t pick, uint64_t tail_bits) const {
      __extension__ using Uint128 = unsigned __int128;
      const uint32_t outcome = head.pick(pick);
      const uint64_t tail_mask = 0 - static_cast<uint64_t>(outcome >= head_ranks);
      const uint64_t segment = (outcome - head_ranks) & tail_mask;
      const uint64_t interval = tail_bits >> (64 - kSegmentBits);
      const uint64_t within = (tail_bits << kSegmentBits) >> 24;  // 40 bits
      const uint32_t* point = points + segment * (kSegmentIntervals + 1) + interval;
      // The interpolated offset with 32 more fractional bits than the table:
      // p0 * 2^32 + floor((p1 - p0) * within / 2^8) < p1 * 2^32 <= 2^64, the product split in two
      // so that each part fits 64 bits. The difference is taken mod 2^32 because a segment's last
      // point, 2^32, is stored as 0. Then scaled to ranks (low, low + width].
      const uint32_t delta = point[1] - point[0];
      const uint64_t offset = (uint64_t{point[0]} << 32) + uint64_t{delta} * (within >> 8) +
                              ((uint64_t{delta} * (within & 0xFF)) >> 8);
      const SegmentRange range = segments[segment];
      const uint64_t tail_rank =
          range.low + static_cast<uint64_t>((Uint128{offset} * range.width) >> 64) + 1;
      const uint64_t head_rank = uint64_t{outcome} + 1;
      return head_rank ^ ((head_rank ^ tail_rank) & tail_mask);
    }
  };

  View view() const {
    return View{head_.view(), points_.data(), ranges_.data(), static_cast<uint32_t>(head_ranks_)};
  }
  uint64_t sample(uint64_t pick, uint64_t tail_bits) const {
    return view().sample(pick, tail_bits);
  }

  // Exact probabilities of the distribution being sampled.
  double pmf(uint64_t rank) const;
  double cdf(uint64_t rank) const;  // P(X <= rank)

  // The probability sample() assigns to `rank` with uniform random bits, counted exactly: head
  // table quantisation, interpolation and fixed point included. O(kSegmentIntervals); for tests.
  double realised_pmf(uint64_t rank) const;

  // The continuous rank x for segment `segment` and u in [0, 1]: exact (Newton) and as
  // interpolated by sample(). REQUIRES: segment < segment_count().
  double segment_quantile_exact(size_t segment, double u) const;
  double segment_quantile_interpolated(size_t segment, double u) const;

 private:
  struct Segment {
    double low;  // ranks (low, high], integers
    double high;
    double mass;       // G(high) - G(low), unnormalised
    double low_power;  // low^(1 - s)
    double low_terms;  // Euler-Maclaurin end-point terms at low
  };

  double segment_sum(const Segment& segment, double x) const;  // G(x) - G(low)
  double sum_slope(double x) const;                            // G'(x)
  double invert_segment_sum(const Segment& segment, double y, double guess) const;

  uint64_t n_;
  double exponent_;
  uint64_t head_ranks_;    // K
  double head_sum_ = 0;    // H(K, s)
  double normalizer_ = 0;  // H(n, s)
  AliasTable head_;        // outcomes 0..K-1 are ranks 1..K; K + j is tail segment j
  std::vector<Segment> segments_;
  std::vector<SegmentRange> ranges_;  // the same segments, at least one entry
  std::vector<uint32_t> points_;      // (kSegmentIntervals + 1) per segment, at least one segment's
};

}  // namespace shardlab::base
