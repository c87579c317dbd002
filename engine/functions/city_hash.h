// ClickHouse's cityHash64 and intHash64, bit-identical to ClickHouse 18.16.1.
//
// ClickHouse pins CityHash at v1.0.2; later CityHash releases (v1.0.3 onwards, and the copies
// bundled with most other libraries) hash strings differently, so they cannot stand in here.
//
// How cityHash64(arg1, arg2, ...) is evaluated on 18.16, per row:
//   - a String argument hashes its bytes with city_hash64();
//   - a numeric argument (UInt*/Int*/Float*, and Date/DateTime, which are stored as UInt16
//     days and UInt32 seconds) copies its raw bits into a zeroed 64-bit word and hashes that
//     word with int_hash64(). Signed and narrow values are therefore ZERO-extended:
//     cityHash64(toInt8(-1)) == cityHash64(toUInt8(255)) == int_hash64(0xFF);
//   - the first argument's hash starts the running value; each later argument's hash h is
//     folded in left to right as running = combine_hashes(running, h).
#pragma once

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace shardlab::engine {

// Returns CityHash64 v1.0.2 of data[0, len). This is ClickHouse's cityHash64 of one String.
// REQUIRES: data points at len readable bytes (data may be null when len == 0).
uint64_t city_hash64(const char* data, size_t len);

inline uint64_t city_hash64(std::string_view bytes) {
  return city_hash64(bytes.data(), bytes.size());
}

// Returns ClickHouse's intHash64(x): the MurmurHash3 64-bit finalizer of x ^ kIntHash64Salt.
// Note the SQL function intHash64 converts its argument to UInt64 by value, so for a negative
// narrow argument it sign-extends (intHash64(toInt8(-1)) == int_hash64(~0ULL)), unlike
// cityHash64, which zero-extends (see city_hash64_of_int).
constexpr uint64_t int_hash64(uint64_t x) {
  constexpr uint64_t kIntHash64Salt = 0x4CF2D2BAAE6DA887ULL;
  constexpr uint64_t kFinalizerMul1 = 0xFF51AFD7ED558CCDULL;
  constexpr uint64_t kFinalizerMul2 = 0xC4CEB9FE1A85EC53ULL;
  x ^= kIntHash64Salt;
  x ^= x >> 33;
  x *= kFinalizerMul1;
  x ^= x >> 33;
  x *= kFinalizerMul2;
  x ^= x >> 33;
  return x;
}

// Returns CityHash's Hash128to64 of the 128-bit value whose low 64 bits are `low` and high
// 64 bits are `high`. The function is not symmetric: swapping the halves changes the result.
constexpr uint64_t hash128_to_64(uint64_t low, uint64_t high) {
  constexpr uint64_t kMul = 0x9DDFEA08EB382D69ULL;
  uint64_t a = (low ^ high) * kMul;
  a ^= a >> 47;
  uint64_t b = (high ^ a) * kMul;
  b ^= b >> 47;
  return b * kMul;
}

// Folds the hash of the next argument into the hash of the arguments before it, the way
// ClickHouse's multi-argument cityHash64 does: the running hash is the low half and the new
// hash the high half. cityHash64(a, b, c) == combine_hashes(combine_hashes(ha, hb), hc).
constexpr uint64_t combine_hashes(uint64_t running, uint64_t next) {
  return hash128_to_64(running, next);
}

// Returns ClickHouse's cityHash64 of one integer argument of T's width and signedness, e.g.
// city_hash64_of_int<int8_t>(-1) for cityHash64(toInt8(-1)). The value's bits are
// zero-extended to 64 (never sign-extended) and hashed with int_hash64. For Date pass the day
// number as uint16_t; for DateTime the Unix time as uint32_t.
template <typename T>
requires std::integral<T> &&
    (!std::same_as<T, bool>)&&(sizeof(T) <= sizeof(uint64_t)) constexpr uint64_t
    city_hash64_of_int(T value) {
  return int_hash64(static_cast<uint64_t>(static_cast<std::make_unsigned_t<T>>(value)));
}

// Returns ClickHouse's cityHash64 of one Float32 (float) or Float64 (double) argument: the
// IEEE-754 bits, zero-extended to 64, hashed with int_hash64. So -0.0 and 0.0 differ, and a
// Float32 hashes differently from the same number as a Float64.
template <typename T>
requires std::same_as<T, float> || std::same_as<T, double>
constexpr uint64_t city_hash64_of_float(T value) {
  if constexpr (std::same_as<T, float>) {
    return int_hash64(std::bit_cast<uint32_t>(value));
  } else {
    return int_hash64(std::bit_cast<uint64_t>(value));
  }
}

}  // namespace shardlab::engine
