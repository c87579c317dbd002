#include "engine/exec/row_sort.h"

#include <algorithm>
#include <numeric>

#include "engine/types/order_bits.h"

namespace shardlab::engine {
namespace {

// The rows of a sort compared by the ORDER BY keys. An integer or date first key compares as
// order bits (inverted for DESC): most comparisons are decided there, without the per-type
// dispatch. Floats keep the dispatch, where NaN and -0.0 compare as the operators say.
class RowOrder {
 public:
  // `cache_first`: keep the first key's bits of every row (for a sort of all of them).
  RowOrder(const std::vector<const Column*>& keys, const std::vector<bool>& desc, size_t rows,
           bool cache_first)
      : keys_(keys),
        desc_(desc),
        integer_first_(!keys.empty() && (keys[0]->type.is_integer() || keys[0]->type.is_time())),
        flip_(!keys.empty() && desc[0] ? ~uint64_t{0} : 0) {
    if (integer_first_ && cache_first) {
      first_.resize(rows);
      visit_fixed(keys[0]->type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* v = keys[0]->values<T>();
        for (size_t row = 0; row < rows; ++row) first_[row] = order_bits(v[row]) ^ flip_;
      });
    }
  }

  bool integer_first() const { return integer_first_; }
  uint64_t flip() const { return flip_; }

  uint64_t first_bits(uint32_t row) const {
    if (!first_.empty()) return first_[row];
    uint64_t bits = 0;
    visit_fixed(keys_[0]->type, [&](auto tag) {
      bits = order_bits(keys_[0]->values<typename decltype(tag)::type>()[row]) ^ flip_;
    });
    return bits;
  }

  bool less(uint32_t a, uint32_t b) const {
    size_t from = 0;
    if (integer_first_) {
      const uint64_t x = first_bits(a), y = first_bits(b);
      if (x != y) return x < y;
      from = 1;
    }
    for (size_t k = from; k < keys_.size(); ++k) {
      const Column& c = *keys_[k];
      int cmp = 0;
      if (c.type.is_string_like()) {
        const auto x = c.string_at(a), y = c.string_at(b);
        cmp = x < y ? -1 : (y < x ? 1 : 0);
      } else {
        visit_fixed(c.type, [&](auto tag) {
          using T = typename decltype(tag)::type;
          const T x = c.values<T>()[a], y = c.values<T>()[b];
          cmp = x < y ? -1 : (y < x ? 1 : 0);
        });
      }
      if (cmp != 0) return desc_[k] ? cmp > 0 : cmp < 0;
    }
    return a < b;
  }

 private:
  const std::vector<const Column*>& keys_;
  const std::vector<bool>& desc_;
  bool integer_first_;
  uint64_t flip_;
  PodVector<uint64_t> first_;  // the first key's bits per row, when every row gets sorted
};

// A max-heap under `order`: its front is the worst row kept. A row whose first key is worse
// than that row's is rejected on the key alone; `less` settles ties, so the rows kept and
// their order are exactly those of a full sort. REQUIRES: an integer or date first key.
std::vector<uint32_t> top_rows(const RowOrder& order, const Column& first, size_t rows,
                               size_t keep) {
  auto less = [&](uint32_t a, uint32_t b) { return order.less(a, b); };
  std::vector<uint32_t> heap;
  heap.reserve(keep);
  uint64_t worst = 0;
  visit_fixed(first.type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* v = first.values<T>();
    for (size_t at = 0; at < rows; ++at) {
      const auto row = static_cast<uint32_t>(at);
      if (heap.size() == keep) {
        if ((order_bits(v[row]) ^ order.flip()) > worst || !less(row, heap.front())) continue;
        std::pop_heap(heap.begin(), heap.end(), less);
        heap.back() = row;
      } else {
        heap.push_back(row);
      }
      std::push_heap(heap.begin(), heap.end(), less);
      if (heap.size() == keep) worst = order.first_bits(heap.front());
    }
  });
  std::sort_heap(heap.begin(), heap.end(), less);
  return heap;
}

}  // namespace

std::vector<uint32_t> sort_rows(const std::vector<const Column*>& keys,
                                const std::vector<bool>& desc, size_t rows, size_t keep) {
  keep = std::min(keep, rows);
  if (keep == 0) return {};
  const bool integer_first =
      !keys.empty() && (keys[0]->type.is_integer() || keys[0]->type.is_time());
  // A few rows out of many (ORDER BY ... LIMIT over a million groups) are picked in one pass
  // through a bounded heap, without an index or key image of every row.
  const bool top_k = integer_first && keep <= rows / 16;
  const RowOrder row_order(keys, desc, rows, /*cache_first=*/!top_k);
  if (top_k) return top_rows(row_order, *keys[0], rows, keep);
  auto less = [&](uint32_t a, uint32_t b) { return row_order.less(a, b); };
  std::vector<uint32_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  if (keep < rows) {
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                      less);
    order.resize(keep);
  } else {
    std::sort(order.begin(), order.end(), less);
  }
  return order;
}

}  // namespace shardlab::engine
