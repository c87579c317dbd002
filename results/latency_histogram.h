// LatencyHistogram: the distribution of a latency (or any non-negative int64 nanosecond
// quantity) in bounded memory, with O(1) recording and exact merging.
//
// Bucket layout (log-linear, as in HdrHistogram). With S = kSubBucketBits = 7:
//   - values 0 .. 2^(S+1)-1 (0 .. 255 ns) each have a bucket of their own: exact;
//   - every octave [2^k, 2^(k+1)) above that, k = 8 .. 62, is cut into 2^S = 128 equal
//     buckets of width 2^(k-S).
// A bucket's width is therefore at most 1/128 of its lower bound, and the whole int64 range
// (0 to 292 years) is covered: 7296 buckets. Counters live in pages of 128 (one per octave),
// allocated the first time a value falls in that octave, so memory follows the span of the
// data: about 1 KiB per octave used (a run whose latencies span 100 us .. 10 s touches 18
// octaves, ~18 KiB), at most 57 KiB. Seven bits is the trade: six would halve memory and double
// the error bound; eight would do the reverse.
//
// Error bound. quantile(q) first finds the bucket holding the exact order statistic (the
// nearest-rank definition below, computed from exact counts), then returns that bucket's
// midpoint, clamped into [min(), max()]. So for every q:
//     |quantile(q) - exact| <= kMaxRelativeError * exact,   kMaxRelativeError = 2^-(S+1) = 1/256
// (about 0.39%). It is exact below 256 ns and at the first and last rank, which return min()
// and max() (q = 0, q = 1, and every q when count() is 1). count, min, max and mean are exact
// (mean from a 128-bit running sum, rounded once on division).
//
// Nearest rank: quantile(q) is the r-th smallest recorded value with r = ceil(q * count),
// at least 1. q * count is computed in double with a relative slack of 1e-12 taken off before
// the ceiling, so decimal q such as 0.07 or 0.999 reach the rank their decimal value names
// instead of one more (0.07 * 100 is 7.000000000000001 in double).
//
// Determinism: everything is integer arithmetic except mean() and the q * count product, both
// correctly rounded IEEE operations; two histograms with the same content answer identically
// whatever the order of record() and merge() calls that built them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace shardlab::results {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr double kMaxRelativeError = 1.0 / (2 << kSubBucketBits);

  // One non-empty bucket: the recorded values v with low_ns <= v <= high_ns, how many, and how
  // many values are <= high_ns in total (for a CDF).
  struct Bucket {
    int64_t low_ns = 0;
    int64_t high_ns = 0;
    uint64_t count = 0;
    uint64_t cumulative = 0;
    bool operator==(const Bucket&) const = default;
  };

  // REQUIRES: value_ns >= 0. A count of 0 records nothing.
  void record(int64_t value_ns, uint64_t count = 1);
  // Afterwards this histogram is exactly what recording both inputs into one would give.
  void merge(const LatencyHistogram& other);
  // Forgets every value but keeps the allocated pages, so a per-interval histogram that is
  // reset at each interval boundary stops allocating once warm.
  void reset();

  uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // REQUIRES: !empty() for min, max, mean and quantile.
  int64_t min() const;
  int64_t max() const;
  double mean() const;
  // REQUIRES: 0 <= q <= 1. See the header comment for the rank rule and the error bound.
  int64_t quantile(double q) const;

  // The non-empty buckets in increasing order of value (for CDF plots and exports).
  std::vector<Bucket> buckets() const;
  // Heap bytes held by counter pages.
  size_t memory_bytes() const;

 private:
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  // Page 0: 0..127; page 1: 128..255; page p >= 2: the octave [2^(p+6), 2^(p+7)).
  static constexpr int kPages = 64 - kSubBucketBits;

  static int bucket_index(uint64_t value);
  static int64_t bucket_low(int index);
  static int64_t bucket_high(int index);

  std::array<std::vector<uint64_t>, kPages> pages_;
  uint64_t count_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  // The exact sum of all values as a 128-bit integer: 2^63 ns times 2^64 records cannot wrap.
  uint64_t sum_low_ = 0;
  uint64_t sum_high_ = 0;
};

}  // namespace shardlab::results
