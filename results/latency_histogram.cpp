#include "results/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "base/errors.h"

namespace shardlab::results {
namespace {

__extension__ using Uint128 = unsigned __int128;

// Takes a relative 1e-12 off q * n before the ceiling: see "Nearest rank" in the header.
constexpr double kRankSlack = 1e-12;

uint64_t nearest_rank(double q, uint64_t n) {
  const double exact = q * static_cast<double>(n);
  const double rank = std::ceil(exact - exact * kRankSlack);
  if (rank <= 1.0) return 1;
  if (rank >= static_cast<double>(n)) return n;
  return static_cast<uint64_t>(rank);
}

}  // namespace

int LatencyHistogram::bucket_index(uint64_t value) {
  if (value < 2 * kSubBuckets) return static_cast<int>(value);
  // The octave's exponent minus S: how many low bits a bucket of this octave ignores.
  const int shift = static_cast<int>(std::bit_width(value)) - 1 - kSubBucketBits;
  return (shift << kSubBucketBits) + static_cast<int>(value >> shift);
}

int64_t LatencyHistogram::bucket_low(int index) {
  const int page = index >> kSubBucketBits;
  if (page <= 1) return index;
  const int shift = page - 1;
  return static_cast<int64_t>(index - (shift << kSubBucketBits)) << shift;
}

int64_t LatencyHistogram::bucket_high(int index) {
  const int page = index >> kSubBucketBits;
  if (page <= 1) return index;
  // Written as low + (width - 1) so that the last bucket ends at INT64_MAX without overflow.
  return bucket_low(index) + ((int64_t{1} << (page - 1)) - 1);
}

void LatencyHistogram::record(int64_t value_ns, uint64_t count) {
  SHARDLAB_ASSERT(value_ns >= 0, "a latency cannot be negative: {} ns", value_ns);
  if (count == 0) return;
  const int index = bucket_index(static_cast<uint64_t>(value_ns));
  std::vector<uint64_t>& page = pages_[static_cast<size_t>(index >> kSubBucketBits)];
  if (page.empty()) page.resize(kSubBuckets, 0);
  page[static_cast<size_t>(index & (kSubBuckets - 1))] += count;

  if (count_ == 0) {
    min_ = value_ns;
    max_ = value_ns;
  } else {
    min_ = std::min(min_, value_ns);
    max_ = std::max(max_, value_ns);
  }
  count_ += count;
  const Uint128 sum =
      ((Uint128{sum_high_} << 64) | sum_low_) + Uint128{static_cast<uint64_t>(value_ns)} * count;
  sum_low_ = static_cast<uint64_t>(sum);
  sum_high_ = static_cast<uint64_t>(sum >> 64);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t page_idx = 0; page_idx < pages_.size(); ++page_idx) {
    const std::vector<uint64_t>& from = other.pages_[page_idx];
    if (from.empty()) continue;
    std::vector<uint64_t>& to = pages_[page_idx];
    if (to.empty()) to.resize(kSubBuckets, 0);
    for (size_t slot = 0; slot < from.size(); ++slot) to[slot] += from[slot];
  }
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  const Uint128 sum =
      ((Uint128{sum_high_} << 64) | sum_low_) + ((Uint128{other.sum_high_} << 64) | other.sum_low_);
  sum_low_ = static_cast<uint64_t>(sum);
  sum_high_ = static_cast<uint64_t>(sum >> 64);
}

void LatencyHistogram::reset() {
  for (std::vector<uint64_t>& page : pages_) std::fill(page.begin(), page.end(), 0);
  count_ = 0;
  min_ = 0;
  max_ = 0;
  sum_low_ = 0;
  sum_high_ = 0;
}

int64_t LatencyHistogram::min() const {
  SHARDLAB_ASSERT(count_ > 0, "min() of an empty histogram");
  return min_;
}

int64_t LatencyHistogram::max() const {
  SHARDLAB_ASSERT(count_ > 0, "max() of an empty histogram");
  return max_;
}

double LatencyHistogram::mean() const {
  SHARDLAB_ASSERT(count_ > 0, "mean() of an empty histogram");
  const Uint128 sum = (Uint128{sum_high_} << 64) | sum_low_;
  return static_cast<double>(sum) / static_cast<double>(count_);
}

int64_t LatencyHistogram::quantile(double q) const {
  SHARDLAB_ASSERT(count_ > 0, "quantile() of an empty histogram");
  SHARDLAB_ASSERT(q >= 0.0 && q <= 1.0, "quantile {} is outside [0, 1]", q);
  const uint64_t rank = nearest_rank(q, count_);
  // The extreme ranks are known exactly; a bucket midpoint would only approximate them.
  if (rank == 1) return min_;
  if (rank == count_) return max_;
  uint64_t seen = 0;
  for (size_t page_idx = 0; page_idx < pages_.size(); ++page_idx) {
    const std::vector<uint64_t>& page = pages_[page_idx];
    for (size_t slot = 0; slot < page.size(); ++slot) {
      seen += page[slot];
      if (seen < rank) continue;
      const int index = static_cast<int>((page_idx << kSubBucketBits) + slot);
      const int64_t low = bucket_low(index);
      const int64_t midpoint = low + (bucket_high(index) - low) / 2;
      return std::clamp(midpoint, min_, max_);
    }
  }
  SHARDLAB_ASSERT(false, "bucket counts sum to {} but count() is {}", seen, count_);
  return max_;
}

std::vector<LatencyHistogram::Bucket> LatencyHistogram::buckets() const {
  std::vector<Bucket> out;
  uint64_t cumulative = 0;
  for (size_t page_idx = 0; page_idx < pages_.size(); ++page_idx) {
    const std::vector<uint64_t>& page = pages_[page_idx];
    for (size_t slot = 0; slot < page.size(); ++slot) {
      if (page[slot] == 0) continue;
      const int index = static_cast<int>((page_idx << kSubBucketBits) + slot);
      cumulative += page[slot];
      out.push_back(Bucket{bucket_low(index), bucket_high(index), page[slot], cumulative});
    }
  }
  return out;
}

size_t LatencyHistogram::memory_bytes() const {
  size_t bytes = 0;
  for (const std::vector<uint64_t>& page : pages_) bytes += page.capacity() * sizeof(uint64_t);
  return bytes;
}

}  // namespace shardlab::results
