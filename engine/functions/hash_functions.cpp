// cityHash64 and intHash64, bit-identical to ClickHouse 18.16 (city_hash.h says how).
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "engine/functions/city_hash.h"
#include "engine/functions/function_args.h"
#include "engine/functions/function_registry.h"

namespace shardlab::engine {
namespace {

void hash_column(const Column& col, uint64_t* out) {
  if (col.type.id == TypeId::kLowCardinality) {
    std::vector<uint64_t> table(col.dict->size());
    for (uint32_t code = 0; code < table.size(); ++code)
      table[code] = city_hash64(col.dict->value(code));
    const uint32_t* codes = col.values<uint32_t>();
    for (size_t row = 0; row < col.rows; ++row) out[row] = table[codes[row]];
  } else if (col.type.id == TypeId::kString) {
    for (size_t row = 0; row < col.rows; ++row) out[row] = city_hash64(col.string_at(row));
  } else if (col.type.is_float()) {
    const double* src = col.values<double>();
    for (size_t row = 0; row < col.rows; ++row) out[row] = city_hash64_of_float(src[row]);
  } else {
    visit_fixed(col.type, [&](auto tag) {
      using S = typename decltype(tag)::type;
      if constexpr (std::is_integral_v<S>) {
        const S* src = col.values<S>();
        for (size_t row = 0; row < col.rows; ++row) out[row] = city_hash64_of_int(src[row]);
      }
    });
  }
}

// Hashes one argument at a time into the result, so that a call with many arguments holds one
// argument column at a time. The result stays one row while every argument so far is constant.
Value eval_city_hash64(const ExprNode& node, Arguments& args, size_t rows) {
  Column out(TypeId::kUInt64);
  bool all_const = true;
  PodVector<uint64_t> hashes;
  for (size_t idx = 0; idx < node.args.size(); ++idx) {
    const Value arg = args.value(idx);
    const Column& col = arg.column();
    hashes.resize(col.rows);
    hash_column(col, hashes.data());
    if (idx == 0) {
      out.resize_fixed(col.rows);
      std::copy(hashes.data(), hashes.data() + col.rows, out.values<uint64_t>());
      all_const = arg.is_const;
      continue;
    }
    if (all_const && !arg.is_const) {
      out = broadcast(out, rows);
      all_const = false;
    }
    uint64_t* dst = out.values<uint64_t>();
    for (size_t row = 0; row < out.rows; ++row)
      dst[row] = combine_hashes(dst[row], hashes[arg.is_const ? 0 : row]);
  }
  return owned_value(std::move(out), all_const);
}

Value eval_int_hash64(const ExprNode& /*node*/, Arguments& args, size_t /*rows*/) {
  Value a = args.value(0);
  const Column& col = a.column();
  Column out(TypeId::kUInt64);
  out.resize_fixed(col.rows);
  visit_fixed(col.type, [&](auto tag) {
    using S = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<S>) {
      // intHash64 converts its argument to UInt64 by value: negative integers sign-extend.
      using Wide = std::conditional_t<std::is_signed_v<S>, int64_t, uint64_t>;
      const S* src = col.values<S>();
      for (size_t row = 0; row < col.rows; ++row)
        out.values<uint64_t>()[row] =
            int_hash64(static_cast<uint64_t>(static_cast<Wide>(src[row])));
    }
  });
  return owned_value(std::move(out), a.is_const);
}

DataType city_hash64_type(const TypeContext& context, std::vector<ExprNodePtr>& args) {
  for (auto& arg : args)
    if (arg->interval) context.fail(arg->pos, "cannot hash an INTERVAL");
  return TypeId::kUInt64;
}

DataType int_hash64_type(const TypeContext& context, std::vector<ExprNodePtr>& args) {
  if (!args[0]->type.is_integer() && !args[0]->type.is_time())
    context.fail(args[0]->pos, fmt::format("function intHash64 expects an integer, got {}",
                                           args[0]->type.name()));
  return TypeId::kUInt64;
}

constexpr Function kHash[] = {
    {"cityHash64", Fn::kCityHash64, 1, kAnyArgs, city_hash64_type, eval_city_hash64},
    {"intHash64", Fn::kIntHash64, 1, 1, int_hash64_type, eval_int_hash64},
};

}  // namespace

std::span<const Function> hash_functions() { return kHash; }

}  // namespace shardlab::engine
