#include "engine/functions/city_hash.h"

#include <bit>
#include <cstring>
#include <utility>

// CityHash64 as released in CityHash v1.0.2 (Geoff Pike and Jyrki Alakuijala, Google, MIT
// licence). The structure follows the published algorithm: separate mixers for 0-16, 17-32
// and 33-64 bytes, and for longer inputs a 64-byte-block loop over 56 bytes of state that
// first absorbs the final 64 bytes. Every constant, rotation and operand order below is
// load-bearing: the result must match ClickHouse 18.16 bit for bit.

namespace shardlab::engine {
namespace {

// Primes between 2^63 and 2^64 chosen by CityHash.
constexpr uint64_t kPrime0 = 0xC3A5C85C97CB3127ULL;
constexpr uint64_t kPrime1 = 0xB492B66FBE98F273ULL;
constexpr uint64_t kPrime2 = 0x9AE16A3B2F90404FULL;
constexpr uint64_t kPrime3 = 0xC949D7C7509E6557ULL;

// CityHash reads words little-endian whatever the host order is.
inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

inline uint64_t load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

// std::rotr is well defined for a zero shift, which CityHash's own helper special-cases.
inline uint64_t rotate_right(uint64_t v, int shift) { return std::rotr(v, shift); }

inline uint64_t shift_mix(uint64_t v) { return v ^ (v >> 47); }

struct WordPair {
  uint64_t first;
  uint64_t second;
};

uint64_t hash_len_0_to_16(const char* s, size_t len) {
  if (len > 8) {
    const uint64_t head = load64(s);
    const uint64_t tail = load64(s + len - 8);
    // v1.0.2 rotates by the length itself (9..16); v1.0.3 changed this step.
    return hash128_to_64(head, rotate_right(tail + len, static_cast<int>(len))) ^ tail;
  }
  if (len >= 4) {
    const uint64_t head = load32(s);
    return hash128_to_64(len + (head << 3), load32(s + len - 4));
  }
  if (len > 0) {
    const uint32_t first = static_cast<uint8_t>(s[0]);
    const uint32_t middle = static_cast<uint8_t>(s[len >> 1]);
    const uint32_t last = static_cast<uint8_t>(s[len - 1]);
    const uint32_t y = first + (middle << 8);
    const uint32_t z = static_cast<uint32_t>(len) + (last << 2);
    return shift_mix((y * kPrime2) ^ (z * kPrime3)) * kPrime2;
  }
  return kPrime2;
}

uint64_t hash_len_17_to_32(const char* s, size_t len) {
  const uint64_t a = load64(s) * kPrime1;
  const uint64_t b = load64(s + 8);
  const uint64_t c = load64(s + len - 8) * kPrime2;
  const uint64_t d = load64(s + len - 16) * kPrime0;
  return hash128_to_64(rotate_right(a - b, 43) + rotate_right(c, 30) + d,
                       a + rotate_right(b ^ kPrime3, 20) - c + len);
}

uint64_t hash_len_33_to_64(const char* s, size_t len) {
  // Two symmetric passes, one anchored at the front and one at the back of the input.
  uint64_t z = load64(s + 24);
  uint64_t a = load64(s) + (len + load64(s + len - 16)) * kPrime0;
  uint64_t b = rotate_right(a + z, 52);
  uint64_t c = rotate_right(a, 37);
  a += load64(s + 8);
  c += rotate_right(a, 7);
  a += load64(s + 16);
  const uint64_t front_first = a + z;
  const uint64_t front_second = b + rotate_right(a, 31) + c;

  a = load64(s + 16) + load64(s + len - 32);
  z = load64(s + len - 8);
  b = rotate_right(a + z, 52);
  c = rotate_right(a, 37);
  a += load64(s + len - 24);
  c += rotate_right(a, 7);
  a += load64(s + len - 16);
  const uint64_t back_first = a + z;
  const uint64_t back_second = b + rotate_right(a, 31) + c;

  const uint64_t r =
      shift_mix((front_first + back_second) * kPrime2 + (back_first + front_second) * kPrime0);
  return shift_mix(r * kPrime0 + front_second) * kPrime2;
}

// Mixes four words with two seeds into 128 bits; cheap, and only used on the long path.
inline WordPair weak_hash_32(uint64_t w, uint64_t x, uint64_t y, uint64_t z, uint64_t a,
                             uint64_t b) {
  a += w;
  b = rotate_right(b + a + z, 21);
  const uint64_t c = a;
  a += x;
  a += y;
  b += rotate_right(a, 44);
  return WordPair{a + z, b + c};
}

inline WordPair weak_hash_32(const char* s, uint64_t a, uint64_t b) {
  return weak_hash_32(load64(s), load64(s + 8), load64(s + 16), load64(s + 24), a, b);
}

}  // namespace

uint64_t city_hash64(const char* s, size_t len) {
  if (len <= 16) return hash_len_0_to_16(s, len);
  if (len <= 32) return hash_len_17_to_32(s, len);
  if (len <= 64) return hash_len_33_to_64(s, len);

  // Seed the state from the last 64 bytes, then walk the input in 64-byte blocks. The final
  // block may overlap the previous one; the tail was already absorbed above.
  uint64_t x = load64(s);
  uint64_t y = load64(s + len - 16) ^ kPrime1;
  uint64_t z = load64(s + len - 56) ^ kPrime0;
  WordPair v = weak_hash_32(s + len - 64, len, y);
  WordPair w = weak_hash_32(s + len - 32, len * kPrime1, kPrime0);
  z += shift_mix(v.second) * kPrime1;
  x = rotate_right(z + x, 39) * kPrime1;
  y = rotate_right(y, 33) * kPrime1;

  size_t remaining = (len - 1) & ~static_cast<size_t>(63);
  do {
    x = rotate_right(x + y + v.first + load64(s + 16), 37) * kPrime1;
    y = rotate_right(y + v.second + load64(s + 48), 42) * kPrime1;
    x ^= w.second;
    y ^= v.first;
    z = rotate_right(z ^ w.first, 33);
    v = weak_hash_32(s, v.second * kPrime1, x + w.first);
    w = weak_hash_32(s + 32, z + w.second, y);
    std::swap(z, x);
    s += 64;
    remaining -= 64;
  } while (remaining != 0);

  return hash128_to_64(hash128_to_64(v.first, w.first) + shift_mix(y) * kPrime1 + z,
                       hash128_to_64(v.second, w.second) + x);
}

}  // namespace shardlab::engine
