#include "base/zipf_sampler.h"

#include <algorithm>
#include <cmath>

#include "base/errors.h"

namespace shardlab::base {
namespace {

__extension__ using Uint128 = unsigned __int128;

static_assert((ZipfSampler::kHeadRanks & (ZipfSampler::kHeadRanks - 1)) == 0,
              "segments must be whole binades for sample()'s range argument");

// sum_{j=1..n} j^-s by direct summation, smallest terms first, in extended precision.
double direct_harmonic(uint64_t n, double s) {
  long double sum = 0;
  for (uint64_t j = n; j >= 1; --j) sum += std::pow(static_cast<long double>(j), -s);
  return static_cast<double>(sum);
}

// Integral of t^-s over [a, a * e^log_ratio] given a^(1-s); expm1 keeps it accurate as s -> 1.
double power_integral(double a_power, double log_ratio, double s) {
  const double q = 1.0 - s;
  if (q == 0.0) return log_ratio;
  return a_power * std::expm1(q * log_ratio) / q;
}

// The Euler-Maclaurin terms at one end point for f(x) = x^-s:
//   f/2 + B2/2! f' + B4/4! f''' + B6/6! f^(5) = f/2 + f'/12 - f'''/720 + f^(5)/30240.
// The first omitted term (B8) is below 1e-25 relative at x >= 1024 for s <= 4.
double end_point_terms(double x, double s) {
  const double f = std::exp(-s * std::log(x));
  const double inv = 1.0 / x;
  const double d1 = -s * f * inv;
  const double d3 = d1 * (s + 1) * (s + 2) * inv * inv;
  const double d5 = d3 * (s + 3) * (s + 4) * inv * inv;
  return f / 2 + d1 / 12 - d3 / 720 + d5 / 30240;
}

}  // namespace

double generalized_harmonic(uint64_t n, double s) {
  SHARDLAB_ASSERT(n >= 1 && s >= 0, "generalized_harmonic needs n >= 1 and s >= 0");
  const uint64_t head = std::min(n, ZipfSampler::kHeadRanks);
  const double head_sum = direct_harmonic(head, s);
  if (n == head) return head_sum;
  // sum_{j=a+1..n} = integral over [a, n] + E(n) - E(a).
  const auto a = static_cast<double>(head);
  const auto b = static_cast<double>(n);
  const double a_power = std::exp((1.0 - s) * std::log(a));
  return head_sum + power_integral(a_power, std::log(b / a), s) +
         (end_point_terms(b, s) - end_point_terms(a, s));
}

ZipfSampler::ZipfSampler(uint64_t n, double exponent)
    : n_(n), exponent_(exponent), head_ranks_(std::min(n, kHeadRanks)) {
  SHARDLAB_ASSERT(n >= 1 && n <= kMaxRanks, "Zipf rank count {} outside 1..2^48", n);
  SHARDLAB_ASSERT(exponent >= 0 && exponent <= kMaxExponent, "Zipf exponent {} outside [0, {}]",
                  exponent, kMaxExponent);
  const double s = exponent_;
  head_sum_ = direct_harmonic(head_ranks_, s);
  for (uint64_t low = head_ranks_; low < n_; low *= 2) {
    Segment segment;
    segment.low = static_cast<double>(low);
    segment.high = static_cast<double>(std::min(2 * low, n_));
    segment.low_power = std::exp((1.0 - s) * std::log(segment.low));
    segment.low_terms = end_point_terms(segment.low, s);
    segment.mass = 0;
    segment.mass = segment_sum(segment, segment.high);
    segments_.push_back(segment);
  }

  std::vector<double> weights(head_ranks_ + segments_.size());
  for (uint64_t rank = 1; rank <= head_ranks_; ++rank) {
    weights[rank - 1] = std::pow(static_cast<double>(rank), -s);
  }
  double tail_sum = 0;
  for (size_t idx = 0; idx < segments_.size(); ++idx) {
    weights[head_ranks_ + idx] = segments_[idx].mass;
    tail_sum += segments_[idx].mass;
  }
  normalizer_ = head_sum_ + tail_sum;
  head_ = AliasTable(weights);

  // Each segment's points are offsets (x - lo) / (hi - lo) * 2^32, from 0 to 2^32; the last one,
  // 2^32, is stored as 0 and sample() takes differences mod 2^32. Interpolated offsets stay below
  // 2^32, so sample()'s rank lo + floor(offset * (hi - lo) / 2^32) + 1 stays inside (lo, hi].
  // The second-to-last point is far above 0 (the density falls by at most 2^s within an octave),
  // so no difference wraps by mistake. sample() reads segment 0 even for head draws: there is
  // always one segment's worth.
  const size_t stored_segments = std::max<size_t>(segments_.size(), 1);
  ranges_.assign(stored_segments, SegmentRange{n_, 0});
  points_.assign(stored_segments * (kSegmentIntervals + 1), 0);
  constexpr double kFixedPointScale = 0x1.0p32;
  constexpr double kMaxOffset = 0x1.0p32 - 1;
  for (size_t segment_idx = 0; segment_idx < segments_.size(); ++segment_idx) {
    const Segment& segment = segments_[segment_idx];
    const double width = segment.high - segment.low;
    ranges_[segment_idx] =
        SegmentRange{static_cast<uint64_t>(segment.low), static_cast<uint64_t>(width)};
    uint32_t* point = &points_[segment_idx * (kSegmentIntervals + 1)];
    double x = segment.low;
    for (uint32_t point_idx = 1; point_idx < kSegmentIntervals; ++point_idx) {
      const double y = segment.mass * point_idx / kSegmentIntervals;
      // Tangent step from the previous point: Newton then needs one or two iterations.
      const double previous_y = segment.mass * (point_idx - 1) / kSegmentIntervals;
      x = invert_segment_sum(segment, y, x + (y - previous_y) / sum_slope(x));
      const double offset = std::round((x - segment.low) / width * kFixedPointScale);
      point[point_idx] = static_cast<uint32_t>(std::clamp(offset, 0.0, kMaxOffset));
      point[point_idx] = std::max(point[point_idx], point[point_idx - 1]);
    }
    point[kSegmentIntervals] = 0;  // 2^32 mod 2^32
    SHARDLAB_ASSERT(point[kSegmentIntervals - 1] > 0, "Zipf segment {} degenerate", segment_idx);
  }
}

double ZipfSampler::segment_sum(const Segment& segment, double x) const {
  const double log_ratio = std::log(x / segment.low);
  return power_integral(segment.low_power, log_ratio, exponent_) +
         (end_point_terms(x, exponent_) - segment.low_terms);
}

double ZipfSampler::sum_slope(double x) const {
  // d/dx of the integral plus the end-point terms: f + f'/2 + f''/12 - f''''/720 + f^(6)/30240.
  const double s = exponent_;
  const double f = std::exp(-s * std::log(x));
  const double inv = 1.0 / x;
  const double d1 = -s * f * inv;
  const double d2 = -d1 * (s + 1) * inv;
  const double d4 = d2 * (s + 2) * (s + 3) * inv * inv;
  const double d6 = d4 * (s + 4) * (s + 5) * inv * inv;
  return f + d1 / 2 + d2 / 12 - d4 / 720 + d6 / 30240;
}

double ZipfSampler::invert_segment_sum(const Segment& segment, double y, double guess) const {
  double lo = segment.low;
  double hi = segment.high;
  double x = std::clamp(guess, lo, hi);
  for (int iteration = 0; iteration < 60; ++iteration) {
    const double excess = segment_sum(segment, x) - y;
    if (excess > 0) {
      hi = x;
    } else {
      lo = x;
    }
    double next = x - excess / sum_slope(x);
    if (!(next >= lo && next <= hi)) next = 0.5 * (lo + hi);
    if (std::abs(next - x) <= 1e-14 * x || hi - lo <= 1e-14 * x) return next;
    x = next;
  }
  return x;
}

double ZipfSampler::pmf(uint64_t rank) const {
  if (rank < 1 || rank > n_) return 0.0;
  return std::pow(static_cast<double>(rank), -exponent_) / normalizer_;
}

double ZipfSampler::cdf(uint64_t rank) const {
  if (rank < 1) return 0.0;
  if (rank >= n_) return 1.0;
  if (rank <= head_ranks_) return direct_harmonic(rank, exponent_) / normalizer_;
  double sum = head_sum_;
  for (const Segment& segment : segments_) {
    if (static_cast<double>(rank) >= segment.high) {
      sum += segment.mass;
    } else {
      sum += segment_sum(segment, static_cast<double>(rank));
      break;
    }
  }
  return sum / normalizer_;
}

double ZipfSampler::realised_pmf(uint64_t rank) const {
  if (rank < 1 || rank > n_) return 0.0;
  if (rank <= head_ranks_) return head_.realised_probability(static_cast<uint32_t>(rank - 1));
  size_t segment_idx = 0;
  while (rank > ranges_[segment_idx].low + ranges_[segment_idx].width) ++segment_idx;
  const SegmentRange range = ranges_[segment_idx];
  const uint32_t* point = &points_[segment_idx * (kSegmentIntervals + 1)];
  // The share of (interval, 40-bit position) pairs whose rank is <= low + z, i.e. whose offset t
  // satisfies t * width < z * 2^64, i.e. t < bound = ceil(z * 2^64 / width).
  auto share_at_most = [&](uint64_t z) {
    const Uint128 bound = ((Uint128{z} << 64) + range.width - 1) / range.width;
    constexpr uint64_t kPositions = uint64_t{1} << 40;
    Uint128 count = 0;
    for (uint32_t interval = 0; interval < kSegmentIntervals; ++interval) {
      // t = start + floor(delta * position / 2^8) for position in [0, 2^40).
      const Uint128 start = Uint128{point[interval]} << 32;
      const uint32_t delta = point[interval + 1] - point[interval];  // mod 2^32, as in sample()
      if (bound <= start) continue;
      const Uint128 room = bound - start;  // t < bound  <=>  delta * position < room * 2^8
      const Uint128 below = delta == 0 ? kPositions : ((room << 8) + delta - 1) / delta;
      count += below < kPositions ? below : kPositions;
    }
    return static_cast<double>(count) / (static_cast<double>(kPositions) * kSegmentIntervals);
  };
  const uint64_t z = rank - range.low;
  const double segment_probability =
      head_.realised_probability(static_cast<uint32_t>(head_ranks_ + segment_idx));
  return segment_probability * (share_at_most(z) - share_at_most(z - 1));
}

double ZipfSampler::segment_quantile_exact(size_t segment, double u) const {
  const Segment& s = segments_.at(segment);
  if (u <= 0) return s.low;
  if (u >= 1) return s.high;
  const double y = u * s.mass;
  const double guess = s.low + y / sum_slope(s.low);
  return invert_segment_sum(s, y, guess);
}

double ZipfSampler::segment_quantile_interpolated(size_t segment, double u) const {
  SHARDLAB_ASSERT(segment < segments_.size(), "segment {} of {}", segment, segments_.size());
  const double position = std::clamp(u, 0.0, 1.0) * kSegmentIntervals;
  const auto interval = std::min(static_cast<uint32_t>(position), kSegmentIntervals - 1);
  const double within = position - interval;
  const uint32_t* point = &points_[segment * (kSegmentIntervals + 1) + interval];
  const double offset = point[0] + within * static_cast<uint32_t>(point[1] - point[0]);
  return segments_[segment].low + offset * 0x1.0p-32 * static_cast<double>(ranges_[segment].width);
}

}  // namespace shardlab::base
