// Counter-based random numbers. A draw is a pure function of (key, counter), so row i can be
// generated without generating rows 0..i-1: generation is parallel, shardable and reproducible
// outside shardlab. All arithmetic is modulo 2^64.
//
//   mix64(z)    = SplitMix64's finaliser (Stafford's "Mix13"):
//                   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
//                   z = (z ^ (z >> 27)) * 0x94D049BB133111EB
//                   return z ^ (z >> 31)
//   stream_key(seed, stream) = mix64(seed + (stream + 1) * kGamma)
//   draw(key, counter)       = mix64(key + (counter + 1) * kGamma)
//   kGamma = 0x9E3779B97F4A7C15 (2^64 / golden ratio, odd)
//
// So draw(stream_key(seed, s), c) is output number c (counting from 0) of a SplitMix64 generator
// whose state starts at stream_key(seed, s), and stream_key itself is output number s of a
// SplitMix64 seeded with `seed`. SplitMix64 passes BigCrush; two streams can only produce the
// same mixer input if their keys differ by a multiple of kGamma that is smaller than the counter
// range, which for random 64-bit keys and counters below 2^40 has probability about 2^-23.
#pragma once

#include <cstdint>

namespace shardlab::base {

inline constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ULL;

constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

constexpr uint64_t stream_key(uint64_t seed, uint64_t stream) {
  return mix64(seed + (stream + 1) * kGamma);
}

constexpr uint64_t draw(uint64_t key, uint64_t counter) {
  return mix64(key + (counter + 1) * kGamma);
}

}  // namespace shardlab::base
