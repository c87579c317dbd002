#include "engine/codecs/byte_shuffle.h"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace shardlab::engine {
namespace {

template <size_t W>
void shuffle_scalar(const char* src, size_t count, size_t from, char* dst) {
  for (size_t elem = from; elem < count; ++elem)
    for (size_t byte = 0; byte < W; ++byte) dst[byte * count + elem] = src[elem * W + byte];
}

template <size_t W>
void unshuffle_scalar(const char* src, size_t count, size_t from, char* dst) {
  for (size_t elem = from; elem < count; ++elem)
    for (size_t byte = 0; byte < W; ++byte) dst[elem * W + byte] = src[byte * count + elem];
}

#if defined(__SSE2__)
// Unshuffling is on the read path of every query, so it transposes 16 elements at a time
// with SSE2 byte/word/dword interleaves (SSE2 is part of x86-64, no CPU check needed).
__m128i load(const char* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
void store(char* p, __m128i v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v); }

void unshuffle8(const char* src, size_t count, char* dst) {
  size_t elem = 0;
  for (; elem + 16 <= count; elem += 16) {
    __m128i p[8];
    for (int k = 0; k < 8; ++k) p[k] = load(src + k * count + elem);
    __m128i a[8];  // byte pairs: a[2i] elements 0-7, a[2i+1] elements 8-15 of planes 2i, 2i+1
    for (int k = 0; k < 4; ++k) {
      a[2 * k] = _mm_unpacklo_epi8(p[2 * k], p[2 * k + 1]);
      a[2 * k + 1] = _mm_unpackhi_epi8(p[2 * k], p[2 * k + 1]);
    }
    __m128i b[8];  // 4-byte groups: b[0..3] bytes 0-3 of elements 0-3, 4-7, 8-11, 12-15
    for (int half = 0; half < 2; ++half) {
      const __m128i* x = a + half * 4;  // planes 0-3 (half 0) or 4-7 (half 1)
      b[half * 4 + 0] = _mm_unpacklo_epi16(x[0], x[2]);
      b[half * 4 + 1] = _mm_unpackhi_epi16(x[0], x[2]);
      b[half * 4 + 2] = _mm_unpacklo_epi16(x[1], x[3]);
      b[half * 4 + 3] = _mm_unpackhi_epi16(x[1], x[3]);
    }
    char* out = dst + elem * 8;
    for (int quad = 0; quad < 4; ++quad) {
      store(out + quad * 32, _mm_unpacklo_epi32(b[quad], b[4 + quad]));
      store(out + quad * 32 + 16, _mm_unpackhi_epi32(b[quad], b[4 + quad]));
    }
  }
  unshuffle_scalar<8>(src, count, elem, dst);
}

void unshuffle4(const char* src, size_t count, char* dst) {
  size_t elem = 0;
  for (; elem + 16 <= count; elem += 16) {
    const __m128i p0 = load(src + elem), p1 = load(src + count + elem);
    const __m128i p2 = load(src + 2 * count + elem), p3 = load(src + 3 * count + elem);
    const __m128i a0 = _mm_unpacklo_epi8(p0, p1), a1 = _mm_unpackhi_epi8(p0, p1);
    const __m128i a2 = _mm_unpacklo_epi8(p2, p3), a3 = _mm_unpackhi_epi8(p2, p3);
    char* out = dst + elem * 4;
    store(out, _mm_unpacklo_epi16(a0, a2));
    store(out + 16, _mm_unpackhi_epi16(a0, a2));
    store(out + 32, _mm_unpacklo_epi16(a1, a3));
    store(out + 48, _mm_unpackhi_epi16(a1, a3));
  }
  unshuffle_scalar<4>(src, count, elem, dst);
}

void unshuffle2(const char* src, size_t count, char* dst) {
  size_t elem = 0;
  for (; elem + 16 <= count; elem += 16) {
    const __m128i p0 = load(src + elem), p1 = load(src + count + elem);
    store(dst + elem * 2, _mm_unpacklo_epi8(p0, p1));
    store(dst + elem * 2 + 16, _mm_unpackhi_epi8(p0, p1));
  }
  unshuffle_scalar<2>(src, count, elem, dst);
}

// Shuffling is on the write path of every insert and merge. 16 elements of W bytes fill W
// registers; a byte's position in them is 7 (W = 8), 6 or 5 bits, element bits above byte bits.
// One round of byte interleaves between registers i and i + W/2 rotates those bits left by
// one, so four rounds move the four element bits below the byte bits: register k then holds
// byte k of the 16 elements, a 16-byte run of plane k.
template <size_t W>
void shuffle_fixed(const char* src, size_t count, char* dst) {
  size_t elem = 0;
  for (; elem + 16 <= count; elem += 16) {
    __m128i x[W];
    for (size_t k = 0; k < W; ++k) x[k] = load(src + elem * W + k * 16);
    for (int round = 0; round < 4; ++round) {
      __m128i y[W];
      for (size_t i = 0; i < W / 2; ++i) {
        y[2 * i] = _mm_unpacklo_epi8(x[i], x[i + W / 2]);
        y[2 * i + 1] = _mm_unpackhi_epi8(x[i], x[i + W / 2]);
      }
      for (size_t k = 0; k < W; ++k) x[k] = y[k];
    }
    for (size_t k = 0; k < W; ++k) store(dst + k * count + elem, x[k]);
  }
  shuffle_scalar<W>(src, count, elem, dst);
}
#else
template <size_t W>
void shuffle_fixed(const char* src, size_t count, char* dst) {
  shuffle_scalar<W>(src, count, 0, dst);
}
void unshuffle8(const char* src, size_t count, char* dst) {
  unshuffle_scalar<8>(src, count, 0, dst);
}
void unshuffle4(const char* src, size_t count, char* dst) {
  unshuffle_scalar<4>(src, count, 0, dst);
}
void unshuffle2(const char* src, size_t count, char* dst) {
  unshuffle_scalar<2>(src, count, 0, dst);
}
#endif

}  // namespace

void byte_shuffle(const char* src, size_t bytes, size_t width, char* dst) {
  const size_t count = bytes / width;
  switch (width) {
    case 2:
      return shuffle_fixed<2>(src, count, dst);
    case 4:
      return shuffle_fixed<4>(src, count, dst);
    case 8:
      return shuffle_fixed<8>(src, count, dst);
    default:
      std::memcpy(dst, src, bytes);
  }
}

void byte_unshuffle(const char* src, size_t bytes, size_t width, char* dst) {
  const size_t count = bytes / width;
  switch (width) {
    case 2:
      return unshuffle2(src, count, dst);
    case 4:
      return unshuffle4(src, count, dst);
    case 8:
      return unshuffle8(src, count, dst);
    default:
      std::memcpy(dst, src, bytes);
  }
}

}  // namespace shardlab::engine
