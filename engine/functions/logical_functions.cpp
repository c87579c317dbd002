// and, or, not: any number is true when not zero; results are UInt8 0 or 1.
#include <algorithm>
#include <cstdint>

#include "engine/functions/function_args.h"
#include "engine/functions/function_registry.h"

namespace shardlab::engine {
namespace {

PodVector<uint8_t> to_mask(const Value& v) {
  const Column& col = v.column();
  const size_t rows = col.rows;
  PodVector<uint8_t> mask(rows);
  uint8_t* __restrict dst = mask.data();
  visit_fixed(col.type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* __restrict src = col.values<T>();
    for (size_t row = 0; row < rows; ++row) dst[row] = src[row] != 0;
  });
  return mask;
}

Value eval_not(const ExprNode& /*node*/, Arguments& args, size_t /*rows*/) {
  Value arg = args.value(0);
  PodVector<uint8_t> m = to_mask(arg);
  Column out(TypeId::kUInt8);
  out.resize_fixed(m.size());
  for (size_t row = 0; row < m.size(); ++row) out.values<uint8_t>()[row] = !m[row];
  return owned_value(std::move(out), arg.is_const);
}

Value eval_and_or(const ExprNode& node, Arguments& args, size_t rows) {
  const bool is_and = node.fn == Fn::kAnd;
  Column out(TypeId::kUInt8);
  out.resize_fixed(rows);
  uint8_t* dst = out.values<uint8_t>();
  std::fill(dst, dst + rows, is_and ? 1 : 0);
  bool all_const = true;
  for (size_t idx = 0; idx < node.args.size(); ++idx) {
    Value v = args.value(idx);
    PodVector<uint8_t> m = to_mask(v);
    all_const = all_const && v.is_const;
    const uint8_t* __restrict src = m.data();
    uint8_t* __restrict out_bytes = dst;
    if (v.is_const) {
      const uint8_t c = src[0];
      if (is_and) {
        for (size_t row = 0; row < rows; ++row) out_bytes[row] &= c;
      } else {
        for (size_t row = 0; row < rows; ++row) out_bytes[row] |= c;
      }
    } else if (is_and) {
      for (size_t row = 0; row < rows; ++row) out_bytes[row] &= src[row];
    } else {
      for (size_t row = 0; row < rows; ++row) out_bytes[row] |= src[row];
    }
  }
  if (all_const) out.resize_fixed(1);
  return owned_value(std::move(out), all_const);
}

DataType logical_type(const TypeContext& context, std::vector<ExprNodePtr>& args) {
  for (auto& arg : args) context.expect_number(arg);
  return TypeId::kUInt8;
}

constexpr Function kLogical[] = {
    {"and", Fn::kAnd, 2, kAnyArgs, logical_type, eval_and_or},
    {"or", Fn::kOr, 2, kAnyArgs, logical_type, eval_and_or},
    {"not", Fn::kNot, 1, 1, logical_type, eval_not},
};

}  // namespace

std::span<const Function> logical_functions() { return kLogical; }

}  // namespace shardlab::engine
