// Zipf(n, s) over ranks 1..n: P(k) = k^-s / H(n, s), with the generalised harmonic number
// H(n, s) = sum_{j=1..n} j^-s. Rank 1 is the most probable.
//
// Sampling is O(1) per draw, with no division, logarithm or power at draw time:
//
//  * Head and segment choice. One AliasTable (64 random bits, one load) picks either a head rank
//    1..K (K = min(n, kHeadRanks)) or one of the tail segments (K, 2K], (2K, 4K], ...,
//    (2^j K, n]. Head ranks and segment masses come out exact to ~2^-63 (alias_table.h).
//
//  * Rank inside a segment, by inversion. G(x) = sum_{j=K+1..x} j^-s is extended to real
//    x >= K by its Euler-Maclaurin expansion (integral, end-point term and Bernoulli terms through
//    B6), which matches the integer sums to ~1e-15 relative for x >= 1024 and is strictly
//    increasing. For u uniform in [0, 1), floor(x) + 1 with x = G^-1(G(lo) + u (G(hi) - G(lo)))
//    is distributed exactly as Zipf restricted to the segment (lo, hi]. That x is tabulated at
//    kSegmentIntervals + 1 equally spaced u per segment (Newton's method at construction) and
//    interpolated linearly at draw time.
//
// Accuracy of the tail. Linear interpolation moves each rank boundary by at most h^2/8 max|x''|
// (h = 2^-13), and the shift varies smoothly, so a rank's probability is off by about
// (h / 2) |d ln x'(u) / du| = (h / 2) s x'(u) / x relative. Each segment spans one octave of
// ranks, which caps this near 2^-14 s ln(2) 2^|s-1| whatever n is. Measured with realised_pmf()
// (the probability the tables actually assign) against pmf() over n = 5e3..2^48: at most 4.1e-5
// relative for the user default (s = 0.9), 5.3e-5 for items (s = 1.1), 1.3e-4 at s = 2; the tests
// check this. Ranks whose probability is below 2^-64 (only for s > 2 and ranks beyond ~1e6) are
// not represented by the alias table. Separately, sample() reads kSegmentBits + 40 = 53 tail bits,
// which resolve probabilities to 2^-53: at most about r 2^-53 relative for rank r.
//
// Memory: 8 (kSegmentIntervals + 1) bytes per segment, log2(n / K) segments: 0.9 MiB for 1e7
// ranks, 0.6 MiB for 1e6.
#pragma once

#include <cstdint>
#include <vector>

#include "workloads/alias_table.h"

namespace shardlab::workloads {

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

  // The sampler's hot state by value, for inner loops (see AliasTable::View).
  struct View {
    AliasTable::View head;
    const double* points;
    uint32_t head_ranks;

    // A rank in 1..n from two independent 64-bit uniforms. `tail_bits`: the top kSegmentBits
    // bits choose the interval of the segment's table and the next 40 bits the position inside
    // it; lower bits are ignored, so a caller may use them for something else. Branch-free: the
    // head/tail choice is random and would mispredict as a branch.
    uint64_t sample(uint64_t pick, uint64_t tail_bits) const {
      const uint32_t outcome = head.pick(pick);
      const uint64_t tail_mask = 0 - static_cast<uint64_t>(outcome >= head_ranks);
      const uint64_t segment = (outcome - head_ranks) & tail_mask;
      const uint64_t interval = tail_bits >> (64 - kSegmentBits);
      const double within =
          static_cast<double>(static_cast<int64_t>((tail_bits << kSegmentBits) >> 24)) * 0x1.0p-40;
      const double* point = points + segment * (kSegmentIntervals + 1) + interval;
      const double x = point[0] + within * (point[1] - point[0]);
      // x lies in [lo, hi) of its segment (see the constructor), so floor(x) + 1 is in (lo, hi].
      const uint64_t tail_rank = static_cast<uint64_t>(static_cast<int64_t>(x)) + 1;
      const uint64_t head_rank = uint64_t{outcome} + 1;
      return head_rank ^ ((head_rank ^ tail_rank) & tail_mask);
    }
  };

  View view() const {
    return View{head_.view(), points_.data(), static_cast<uint32_t>(head_ranks_)};
  }
  uint64_t sample(uint64_t pick, uint64_t tail_bits) const { return view().sample(pick, tail_bits); }

  // Exact probabilities of the distribution being sampled.
  double pmf(uint64_t rank) const;
  double cdf(uint64_t rank) const;  // P(X <= rank)

  // The probability this sampler actually assigns to `rank`: head table quantisation and tail
  // interpolation included, the 53 tail bits taken as a continuous uniform. For accuracy checks.
  double realised_pmf(uint64_t rank) const;

  // The continuous rank x for segment `segment` and u in [0, 1]: exact (Newton) and as
  // interpolated by sample(). REQUIRES: segment < segment_count().
  double segment_quantile_exact(size_t segment, double u) const;
  double segment_quantile_interpolated(size_t segment, double u) const;

 private:
  struct Segment {
    double low;          // ranks (low, high], integers
    double high;
    double mass;         // G(high) - G(low), unnormalised
    double low_power;    // low^(1 - s)
    double low_terms;    // Euler-Maclaurin end-point terms at low
  };

  double segment_sum(const Segment& segment, double x) const;  // G(x) - G(low)
  double sum_slope(double x) const;                             // G'(x)
  double invert_segment_sum(const Segment& segment, double y, double guess) const;

  uint64_t n_;
  double exponent_;
  uint64_t head_ranks_;     // K
  double head_sum_ = 0;     // H(K, s)
  double normalizer_ = 0;   // H(n, s)
  AliasTable head_;         // outcomes 0..K-1 are ranks 1..K; K + j is tail segment j
  std::vector<Segment> segments_;
  std::vector<double> points_;  // (kSegmentIntervals + 1) points per segment
};

}  // namespace shardlab::workloads
