// equals, notEquals, less, lessOrEquals, greater, greaterOrEquals, in, notIn. Numbers compare
// by value across types (mixed signedness through 128 bits); LowCardinality strings compare
// through their sorted dictionary, never row by row.
#include <cstdint>
#include <limits>
#include <string_view>
#include <unordered_set>

#include "engine/functions/function_args.h"
#include "engine/functions/function_registry.h"

namespace shardlab::engine {
namespace {

using Kind = ExprNode::Kind;

// The comparison with its operands swapped.
Fn flip(Fn fn) {
  switch (fn) {
    case Fn::kLess:
      return Fn::kGreater;
    case Fn::kLessOrEquals:
      return Fn::kGreaterOrEquals;
    case Fn::kGreater:
      return Fn::kLess;
    case Fn::kGreaterOrEquals:
      return Fn::kLessOrEquals;
    default:
      return fn;
  }
}

enum class Domain { kU64, kI64, kI128, kF64 };

Domain compare_domain(DataType a, DataType b) {
  if (a.is_float() || b.is_float()) return Domain::kF64;
  const bool sa = a.is_signed(), sb = b.is_signed();
  if (sa && sb) return Domain::kI64;
  if (sa || sb) return Domain::kI128;
  return Domain::kU64;
}

template <typename T>
bool compare_values(Fn fn, T x, T y) {
  switch (fn) {
    case Fn::kEquals:
      return x == y;
    case Fn::kNotEquals:
      return x != y;
    case Fn::kLess:
      return x < y;
    case Fn::kLessOrEquals:
      return x <= y;
    case Fn::kGreater:
      return x > y;
    default:
      return x >= y;
  }
}

template <typename T>
void compare_loop(Fn fn, const NumArg<T>& a, const NumArg<T>& b, size_t rows, uint8_t* out) {
  switch (fn) {
    case Fn::kEquals:
      return apply_binary(a, b, rows, out, [](T x, T y) -> uint8_t { return x == y; });
    case Fn::kNotEquals:
      return apply_binary(a, b, rows, out, [](T x, T y) -> uint8_t { return x != y; });
    case Fn::kLess:
      return apply_binary(a, b, rows, out, [](T x, T y) -> uint8_t { return x < y; });
    case Fn::kLessOrEquals:
      return apply_binary(a, b, rows, out, [](T x, T y) -> uint8_t { return x <= y; });
    case Fn::kGreater:
      return apply_binary(a, b, rows, out, [](T x, T y) -> uint8_t { return x > y; });
    default:
      return apply_binary(a, b, rows, out, [](T x, T y) -> uint8_t { return x >= y; });
  }
}

// Column-versus-constant comparison in the column's own type when the constant fits it, so
// a UInt32 column is not widened to 64 bits first.
bool compare_native(Fn fn, const Value& column_side, const Value& const_side, size_t rows,
                    uint8_t* out) {
  const Column& col = column_side.column();
  const Column& cst = const_side.column();
  if (!col.type.is_integer() && !col.type.is_time()) return false;
  if (!cst.type.is_integer() && !cst.type.is_time()) return false;
  __int128 value = 0;
  visit_fixed(cst.type, [&](auto tag) { value = cst.values<typename decltype(tag)::type>()[0]; });
  bool done = false;
  visit_fixed(col.type, [&](auto tag) {
    using S = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<S>) {
      if (value < std::numeric_limits<S>::min() || value > std::numeric_limits<S>::max()) return;
      NumArg<S> a;
      a.ptr = col.values<S>();
      NumArg<S> b;
      b.is_const = true;
      b.storage.push_back(static_cast<S>(value));
      b.ptr = b.storage.data();
      compare_loop<S>(fn, a, b, rows, out);
      done = true;
    }
  });
  return done;
}

// LowCardinality against a constant string: the predicate is decided once per dictionary
// entry, then each row is a table lookup on its code.
Value compare_low_cardinality(Fn fn, const Value& lc, std::string_view constant) {
  const Column& col = lc.column();
  const Dictionary& dict = *col.dict;
  // The dictionary is sorted, so every comparison but != holds on a contiguous range of
  // codes [lo, hi): one vectorizable unsigned compare per row.
  const auto size = static_cast<uint32_t>(dict.size());
  const uint32_t at = dict.lower_bound(constant);
  const uint32_t past = at + (at < size && dict.value(at) == constant ? 1 : 0);
  uint32_t lo = 0, hi = size;
  bool negate = false;
  switch (fn) {
    case Fn::kEquals:
      lo = at, hi = past;
      break;
    case Fn::kNotEquals:
      lo = at, hi = past, negate = true;
      break;
    case Fn::kLess:
      hi = at;
      break;
    case Fn::kLessOrEquals:
      hi = past;
      break;
    case Fn::kGreater:
      lo = past;
      break;
    default:
      lo = at;
      break;
  }
  // Locals only in the loop: a store through uint8_t* may alias anything, and a loop bound
  // read from memory would have to be reloaded each iteration, defeating vectorization.
  const size_t rows = col.rows;
  Column out(TypeId::kUInt8);
  out.resize_fixed(rows);
  const uint32_t* codes = col.values<uint32_t>();
  uint8_t* dst = out.values<uint8_t>();
  const uint32_t span = hi - lo;
  const uint8_t flip = negate ? 1 : 0;
  for (size_t row = 0; row < rows; ++row)
    dst[row] = static_cast<uint8_t>(codes[row] - lo < span) ^ flip;
  return owned_value(std::move(out), lc.is_const);
}

Value compare_strings(Fn fn, const Value& a, const Value& b, size_t rows) {
  const Column& ca = a.column();
  const Column& cb = b.column();
  if (ca.type.id == TypeId::kLowCardinality && b.is_const && !a.is_const)
    return compare_low_cardinality(fn, a, cb.string_at(0));
  if (cb.type.id == TypeId::kLowCardinality && a.is_const && !b.is_const)
    return compare_low_cardinality(flip(fn), b, ca.string_at(0));
  const size_t n = result_rows(a, b, rows);
  Column out(TypeId::kUInt8);
  out.resize_fixed(n);
  for (size_t row = 0; row < n; ++row)
    out.values<uint8_t>()[row] =
        compare_values(fn, ca.string_at(a.is_const ? 0 : row), cb.string_at(b.is_const ? 0 : row));
  return owned_value(std::move(out), a.is_const && b.is_const);
}

// Mixed signedness: widened so that e.g. -1 < 18446744073709551615 holds.
NumArg<__int128> widen(const Value& v) {
  NumArg<__int128> arg;
  const Column& c = v.column();
  arg.is_const = v.is_const;
  arg.storage.resize(c.rows);
  visit_fixed(c.type, [&](auto tag) {
    using S = typename decltype(tag)::type;
    for (size_t row = 0; row < c.rows; ++row)
      arg.storage[row] = static_cast<__int128>(c.values<S>()[row]);
  });
  arg.ptr = arg.storage.data();
  return arg;
}

Value eval_comparison(const ExprNode& node, Arguments& args, size_t rows) {
  Value a = args.value(0);
  Value b = args.value(1);
  Fn fn = node.fn;
  const Column& ca = a.column();
  const Column& cb = b.column();
  if (ca.type.is_string_like()) return compare_strings(fn, a, b, rows);
  const size_t n = result_rows(a, b, rows);
  Column out(TypeId::kUInt8);
  out.resize_fixed(n);
  uint8_t* dst = out.values<uint8_t>();
  if (!a.is_const && b.is_const && compare_native(fn, a, b, rows, dst))
    return owned_value(std::move(out), false);
  if (a.is_const && !b.is_const && compare_native(flip(fn), b, a, rows, dst))
    return owned_value(std::move(out), false);
  switch (compare_domain(ca.type, cb.type)) {
    case Domain::kF64:
      compare_loop<double>(fn, num_arg<double>(a), num_arg<double>(b), n, dst);
      break;
    case Domain::kI64:
      compare_loop<int64_t>(fn, num_arg<int64_t>(a), num_arg<int64_t>(b), n, dst);
      break;
    case Domain::kU64:
      compare_loop<uint64_t>(fn, num_arg<uint64_t>(a), num_arg<uint64_t>(b), n, dst);
      break;
    case Domain::kI128:
      compare_loop<__int128>(fn, widen(a), widen(b), n, dst);
      break;
  }
  return owned_value(std::move(out), a.is_const && b.is_const);
}

// x IN (strings): decided once per dictionary entry for LowCardinality columns.
void in_strings(const ExprNode& node, const Column& col, bool negate, uint8_t* dst) {
  std::unordered_set<std::string_view> set;
  for (size_t idx = 1; idx < node.args.size(); ++idx)
    set.insert(node.args[idx]->constant.string_at(0));
  if (col.type.id == TypeId::kLowCardinality) {
    std::vector<uint8_t> table(col.dict->size());
    for (uint32_t code = 0; code < table.size(); ++code)
      table[code] = (set.count(col.dict->value(code)) != 0) != negate;
    const uint32_t* codes = col.values<uint32_t>();
    for (size_t row = 0; row < col.rows; ++row) dst[row] = table[codes[row]];
  } else {
    for (size_t row = 0; row < col.rows; ++row)
      dst[row] = (set.count(col.string_at(row)) != 0) != negate;
  }
}

Value eval_in(const ExprNode& node, Arguments& args, size_t /*rows*/) {
  Value a = args.value(0);
  const Column& col = a.column();
  const bool negate = node.fn == Fn::kNotIn;
  Column out(TypeId::kUInt8);
  out.resize_fixed(col.rows);
  uint8_t* dst = out.values<uint8_t>();
  if (col.type.is_string_like()) {
    in_strings(node, col, negate, dst);
    return owned_value(std::move(out), a.is_const);
  }
  std::fill(dst, dst + col.rows, 0);
  for (size_t idx = 1; idx < node.args.size(); ++idx) {
    const Value b = args.value(idx);
    Column eq(TypeId::kUInt8);
    eq.resize_fixed(col.rows);
    switch (compare_domain(col.type, b.column().type)) {
      case Domain::kF64:
        compare_loop<double>(Fn::kEquals, num_arg<double>(a), num_arg<double>(b), col.rows,
                             eq.values<uint8_t>());
        break;
      case Domain::kU64:
        compare_loop<uint64_t>(Fn::kEquals, num_arg<uint64_t>(a), num_arg<uint64_t>(b), col.rows,
                               eq.values<uint8_t>());
        break;
      default:
        compare_loop<int64_t>(Fn::kEquals, num_arg<int64_t>(a), num_arg<int64_t>(b), col.rows,
                              eq.values<uint8_t>());
        break;
    }
    for (size_t row = 0; row < col.rows; ++row) dst[row] |= eq.values<uint8_t>()[row];
  }
  if (negate)
    for (size_t row = 0; row < col.rows; ++row) dst[row] = !dst[row];
  return owned_value(std::move(out), a.is_const);
}

DataType comparison_type(const TypeContext& context, std::vector<ExprNodePtr>& args) {
  for (auto& arg : args)
    if (arg->interval) context.fail(arg->pos, "an INTERVAL cannot be compared");
  context.coerce_for_comparison(args[0], args[1]);
  return TypeId::kUInt8;
}

// The list must be constants of the tested value's type, or literals that convert to it.
DataType in_type(const TypeContext& context, std::vector<ExprNodePtr>& args) {
  for (size_t idx = 1; idx < args.size(); ++idx) {
    if (args[idx]->kind != Kind::kConst || args[idx]->interval)
      context.fail(args[idx]->pos, "expected a constant in the IN list");
    ExprNodePtr lhs = args[0];
    context.coerce_for_comparison(lhs, args[idx]);
    if (lhs != args[0])
      context.fail(args[idx]->pos, "the IN list must have the type of the tested value");
  }
  return TypeId::kUInt8;
}

constexpr Function kComparison[] = {
    {"equals", Fn::kEquals, 2, 2, comparison_type, eval_comparison},
    {"notEquals", Fn::kNotEquals, 2, 2, comparison_type, eval_comparison},
    {"less", Fn::kLess, 2, 2, comparison_type, eval_comparison},
    {"lessOrEquals", Fn::kLessOrEquals, 2, 2, comparison_type, eval_comparison},
    {"greater", Fn::kGreater, 2, 2, comparison_type, eval_comparison},
    {"greaterOrEquals", Fn::kGreaterOrEquals, 2, 2, comparison_type, eval_comparison},
    {"in", Fn::kIn, 2, kAnyArgs, in_type, eval_in},
    {"notIn", Fn::kNotIn, 2, kAnyArgs, in_type, eval_in},
};

}  // namespace

std::span<const Function> comparison_functions() { return kComparison; }

}  // namespace shardlab::engine
