// Named random streams. Every component draws from its own stream, whose key is derived from
// (scenario seed, component name) alone: adding a component, or drawing more from one, never
// changes another component's numbers. A stream is SplitMix64 over a counter (the same
// counter-based generator as the row generator, base/counter_rng.h), so it is 16 bytes and
// copying it forks an independent-looking but reproducible sequence.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/alias_table.h"
#include "base/counter_rng.h"
#include "base/zipf_sampler.h"

namespace shardlab::sim {

class RandomStream {
 public:
  RandomStream() = default;
  // The stream called `name` under `seed`.
  RandomStream(uint64_t seed, std::string_view name);
  static RandomStream from_key(uint64_t key) {
    RandomStream s;
    s.key_ = key;
    return s;
  }

  uint64_t next_u64() { return base::draw(key_, counter_++); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe under a logarithm.
  double uniform01_open_low() { return static_cast<double>((next_u64() >> 11) + 1) * 0x1.0p-53; }
  double uniform(double low, double high) { return low + (high - low) * uniform01(); }
  // Uniform integer in [0, n). REQUIRES: n > 0. Lemire's multiply-shift (bias < n / 2^64).
  uint64_t below(uint64_t n) {
    __extension__ using Uint128 = unsigned __int128;
    return static_cast<uint64_t>((Uint128{next_u64()} * n) >> 64);
  }
  double exponential(double mean) { return -mean * std::log(uniform01_open_low()); }
  double normal();  // standard normal (Box-Muller, one value per two draws)
  double lognormal(double mu, double sigma) { return std::exp(mu + sigma * normal()); }

  // A sub-stream, e.g. one per node of a component: ("disk", 3) differs from ("disk", 4).
  RandomStream child(uint64_t index) const { return from_key(base::stream_key(key_, index)); }

  uint64_t key() const { return key_; }

 private:
  uint64_t key_ = 0;
  uint64_t counter_ = 0;
};

// Zipf(n, s) over ranks 1..n (rank 1 the most likely), exact to the tables of
// base::ZipfSampler.
class ZipfDistribution {
 public:
  ZipfDistribution(uint64_t n, double exponent) : sampler_(n, exponent) {}
  uint64_t operator()(RandomStream& rng) const {
    const uint64_t pick = rng.next_u64();
    return sampler_.sample(pick, rng.next_u64());
  }

 private:
  base::ZipfSampler sampler_;
};

// An empirical distribution: either a discrete one over given values with weights, or, with
// `interpolate`, the piecewise-linear CDF through sorted sample points (each point equally
// likely to start a segment), the usual way to replay measured service times.
class EmpiricalDistribution {
 public:
  // REQUIRES: values and weights of equal, non-zero size; weights >= 0 with a positive sum.
  EmpiricalDistribution(std::vector<double> values, std::span<const double> weights);
  // Continuous: REQUIRES at least two samples (sorted here).
  static EmpiricalDistribution interpolated(std::vector<double> samples);

  double operator()(RandomStream& rng) const;

 private:
  EmpiricalDistribution() = default;
  std::vector<double> values_;
  base::AliasTable table_;
  bool interpolate_ = false;
};

}  // namespace shardlab::sim
