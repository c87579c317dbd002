// How evaluators read their argument columns and hand back results: numeric arguments
// converted to one type for a loop, and binary loops specialised for constant operands.
// Private to the function files and exec/expression.cpp.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "shardlab/engine/expression.h"
#include "shardlab/engine/column.h"

namespace shardlab::engine {

inline Value borrowed_value(const Column* column) {
  Value v;
  v.borrowed = column;
  return v;
}

inline Value owned_value(Column column, bool is_const) {
  Value v;
  v.owned = std::move(column);
  v.is_const = is_const;
  return v;
}

// A numeric argument as T: the column's own values when it holds T, else a converted copy.
template <typename T>
struct NumArg {
  const T* ptr = nullptr;
  bool is_const = false;
  PodVector<T> storage;
};

template <typename T>
NumArg<T> num_arg(const Value& value) {
  const Column& col = value.column();
  NumArg<T> arg;
  arg.is_const = value.is_const;
  visit_fixed(col.type, [&](auto tag) {
    using S = typename decltype(tag)::type;
    const S* src = col.values<S>();
    if constexpr (std::is_same_v<S, T>) {
      arg.ptr = src;
    } else {
      arg.storage.resize(col.rows);
      for (size_t row = 0; row < col.rows; ++row) arg.storage[row] = static_cast<T>(src[row]);
      arg.ptr = arg.storage.data();
    }
  });
  return arg;
}

// The loops read only locals: `out` may alias the NumArg objects (a uint8_t* may alias
// anything), and re-reading a.ptr on every iteration would block vectorization.
template <typename T, typename R, typename F>
void apply_binary(const NumArg<T>& a, const NumArg<T>& b, size_t rows, R* __restrict out, F f) {
  const T* __restrict x = a.ptr;
  const T* __restrict y = b.ptr;
  if (!a.is_const && !b.is_const) {
    for (size_t row = 0; row < rows; ++row) out[row] = f(x[row], y[row]);
  } else if (!a.is_const) {
    const T c = y[0];
    for (size_t row = 0; row < rows; ++row) out[row] = f(x[row], c);
  } else if (!b.is_const) {
    const T c = x[0];
    for (size_t row = 0; row < rows; ++row) out[row] = f(c, y[row]);
  } else {
    out[0] = f(x[0], y[0]);
  }
}

// Rows of a binary function's result: one when both operands are constants.
inline size_t result_rows(const Value& a, const Value& b, size_t rows) {
  return a.is_const && b.is_const ? 1 : rows;
}

}  // namespace shardlab::engine
