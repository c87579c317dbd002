// Maps fixed-width values to unsigned integers with the same order, so that sort keys of any
// numeric type compare (and pack into wider keys) as plain unsigned numbers.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace shardlab::engine {

// Signed integers flip their sign bit; floats flip all bits when negative and the sign bit
// otherwise (IEEE-754 total order, NaNs last). Unsigned values are unchanged.
template <typename T>
uint64_t order_bits(T value) {
  if constexpr (std::is_floating_point_v<T>) {
    uint64_t bits;
    std::memcpy(&bits, &value, 8);
    return (bits >> 63) ? ~bits : (bits | (uint64_t{1} << 63));
  } else if constexpr (std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<U>(static_cast<U>(value) ^ (U{1} << (sizeof(T) * 8 - 1)));
  } else {
    return static_cast<uint64_t>(value);
  }
}

// The inverse of order_bits for 8-byte images (as produced for T).
template <typename T>
T from_order_bits(uint64_t bits) {
  if constexpr (std::is_floating_point_v<T>) {
    bits = (bits >> 63) ? (bits & ~(uint64_t{1} << 63)) : ~bits;
    T value;
    std::memcpy(&value, &bits, 8);
    return value;
  } else if constexpr (std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(static_cast<U>(bits) ^ (U{1} << (sizeof(T) * 8 - 1))));
  } else {
    return static_cast<T>(bits);
  }
}

}  // namespace shardlab::engine
