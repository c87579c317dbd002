// ORDER BY over columns of rows: the row numbers of the first rows in order, by a full or
// partial sort, or for a few rows out of many, one pass through a bounded heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "shardlab/engine/column.h"

namespace shardlab::engine {

// Sorts rows by the ORDER BY columns `keys` (descending where `desc` says); returns the first
// `keep` row numbers in order. Ties on every key keep row order.
// REQUIRES: keys and desc of equal size; each key column has `rows` rows.
std::vector<uint32_t> sort_rows(const std::vector<const Column*>& keys,
                                const std::vector<bool>& desc, size_t rows, size_t keep);

}  // namespace shardlab::engine
