// Bit packing of small byte values: `count` bytes that are all below 2^bits (bits = 1, 2 or 4)
// stored in 8 / bits lanes of one byte each. Value i sits in byte i % stride, lane i / stride,
// where stride = ceil(count * bits / 8): each lane is a contiguous run of values, so packing
// and unpacking are plain loops over bytes that the compiler vectorizes, with no bit carried
// across bytes.
//
// LowCardinality codes are the reason: the codes of a 4-value dictionary take 2 bits, not 8,
// and a block of them decodes with a shift and a mask per byte instead of an LZ4 pass over
// four times the bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shardlab::engine {

// The smallest supported width (1, 2 or 4) that holds every byte of `data`, or 0 if some byte
// needs more than 4 bits.
unsigned packed_bits_for(const uint8_t* data, size_t count);

// Bytes that `count` values take packed at `bits` per value.
inline size_t packed_bytes(size_t count, unsigned bits) { return (count * bits + 7) / 8; }

// REQUIRES: every value < 2^bits; `packed` has packed_bytes(count, bits) bytes.
void pack_bits(const uint8_t* values, size_t count, unsigned bits, uint8_t* packed);
// REQUIRES: `values` has `count` bytes.
void unpack_bits(const uint8_t* packed, size_t count, unsigned bits, uint8_t* values);

}  // namespace shardlab::engine
