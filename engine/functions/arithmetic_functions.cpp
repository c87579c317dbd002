// plus, minus, multiply, divide, modulo, negate; and a Date or DateTime plus or minus an
// INTERVAL. Integers wrap on overflow and divide gives Float64, as in ClickHouse.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "shardlab/engine/date_time.h"
#include "base/errors.h"
#include "engine/functions/function_args.h"
#include "engine/functions/function_registry.h"

namespace shardlab::engine {
namespace {

DataType integer_result(DataType a, DataType b) {
  return a.is_signed() || b.is_signed() ? TypeId::kInt64 : TypeId::kUInt64;
}

// plus and minus: numbers, a time plus or minus an integer, or a time and an INTERVAL (the
// INTERVAL goes second; a Date moved by part of a day becomes a DateTime).
template <Fn kFn>
DataType additive_type(const TypeContext& context, std::vector<ExprNodePtr>& args) {
  const Expr& e = context.call();
  if (kFn == Fn::kPlus && args[0]->interval) std::swap(args[0], args[1]);
  if (args[1]->interval) {
    if (args[0]->interval || !args[0]->type.is_time())
      context.fail(e.pos, fmt::format("{} of an INTERVAL needs a Date or DateTime, got {}", e.name,
                                      args[0]->interval ? "an interval" : args[0]->type.name()));
    const Interval& iv = *args[1]->interval;
    if (args[0]->type.id == TypeId::kDate && !iv.is_calendar() && iv.seconds() % 86400 != 0)
      args[0] = TypeContext::wrap(Fn::kToDateTime, TypeId::kDateTime, args[0]);
    return args[0]->type;
  }
  if (args[0]->interval)
    context.fail(e.pos, "an INTERVAL can only be added to or subtracted from a date");
  context.expect_number(args[0]);
  context.expect_number(args[1]);
  const DataType a = args[0]->type, b = args[1]->type;
  if (a.is_time() && b.is_integer()) return a;
  if (kFn == Fn::kPlus && b.is_time() && a.is_integer()) return b;
  if (a.is_float() || b.is_float()) return TypeId::kFloat64;
  if (kFn == Fn::kMinus) return TypeId::kInt64;
  return integer_result(a, b);
}

template <Fn kFn>
DataType multiplicative_type(const TypeContext& context, std::vector<ExprNodePtr>& args) {
  context.expect_number(args[0]);
  context.expect_number(args[1]);
  const DataType a = args[0]->type, b = args[1]->type;
  if (kFn == Fn::kDivide || a.is_float() || b.is_float()) return TypeId::kFloat64;
  return integer_result(a, b);
}

DataType negate_type(const TypeContext& context, std::vector<ExprNodePtr>& args) {
  context.expect_number(args[0]);
  return args[0]->type.is_float() ? TypeId::kFloat64 : TypeId::kInt64;
}

Value eval_interval_arith(const ExprNode& node, Arguments& args, size_t /*rows*/) {
  Value a = args.value(0);
  const Interval iv = *node.args[1]->interval;
  const int64_t sign = node.fn == Fn::kMinus ? -1 : 1;
  NumArg<int64_t> t = num_arg<int64_t>(a);
  const size_t n = a.column().rows;
  Column out(node.type);
  out.resize_fixed(n);
  visit_fixed(node.type, [&](auto tag) {
    using R = typename decltype(tag)::type;
    R* dst = out.values<R>();
    const bool is_date = node.type.id == TypeId::kDate;
    // Calendar arithmetic shifts a whole day at once; columns are mostly sorted by time (TTL and
    // partition expressions run over parts in key order), so the last day's shift is reused.
    int64_t last_day = INT64_MIN;
    int64_t last_shift_days = 0;
    for (size_t row = 0; row < n; ++row) {
      int64_t v = t.ptr[row];
      if (iv.is_calendar()) {
        const int64_t days = is_date ? v : dt::day_of(v);
        if (days != last_day) {
          last_day = days;
          // A date before 1970 clamps to 1970-01-01 (the time of day stays), as ClickHouse's
          // date table has no earlier day.
          const int64_t moved =
              std::max<int64_t>(0, dt::add_months_to_days(days, sign * iv.months()));
          last_shift_days = moved - days;
        }
        v += is_date ? last_shift_days : last_shift_days * dt::kSecondsPerDay;
      } else {
        v += sign * (is_date ? iv.seconds() / dt::kSecondsPerDay : iv.seconds());
      }
      dst[row] = static_cast<R>(v);
    }
  });
  return owned_value(std::move(out), a.is_const);
}

// The operand as an unsigned integer (wrapping arithmetic) or unchanged for floats.
template <typename T>
auto wrap(T v) {
  if constexpr (std::is_integral_v<T>) {
    return static_cast<std::make_unsigned_t<T>>(v);
  } else {
    return v;
  }
}

template <typename T>
T checked_modulo(T x, T y) {
  if (y == 0) throw RuntimeError("Division by zero in modulo (%)");
  if constexpr (std::is_signed_v<T>) {
    if (y == -1) return 0;
  }
  return x % y;
}

// One binary operator over operands converted to T, into a result column of type R.
template <Fn kFn, typename T, typename R>
void binary_loop(const NumArg<T>& x, const NumArg<T>& y, size_t n, R* dst) {
  // Integers wrap on overflow as in ClickHouse: compute on the unsigned representation.
  if constexpr (kFn == Fn::kPlus) {
    apply_binary(x, y, n, dst, [](T p, T q) { return static_cast<R>(wrap<T>(p) + wrap<T>(q)); });
  } else if constexpr (kFn == Fn::kMinus) {
    apply_binary(x, y, n, dst, [](T p, T q) { return static_cast<R>(wrap<T>(p) - wrap<T>(q)); });
  } else if constexpr (kFn == Fn::kMultiply) {
    apply_binary(x, y, n, dst, [](T p, T q) { return static_cast<R>(wrap<T>(p) * wrap<T>(q)); });
  } else if constexpr (kFn == Fn::kDivide) {
    apply_binary(x, y, n, dst, [](T p, T q) {
      return static_cast<R>(static_cast<double>(p) / static_cast<double>(q));
    });
  } else if constexpr (std::is_floating_point_v<T>) {
    apply_binary(x, y, n, dst, [](T p, T q) { return static_cast<R>(std::fmod(p, q)); });
  } else {
    apply_binary(x, y, n, dst, [](T p, T q) { return static_cast<R>(checked_modulo(p, q)); });
  }
}

template <Fn kFn>
Value eval_binary(const ExprNode& node, Arguments& args, size_t rows) {
  if constexpr (kFn == Fn::kPlus || kFn == Fn::kMinus) {
    if (node.args[1]->interval) return eval_interval_arith(node, args, rows);
  }
  Value a = args.value(0);
  Value b = args.value(1);
  const size_t n = result_rows(a, b, rows);
  Column out(node.type);
  out.resize_fixed(n);
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    NumArg<T> x = num_arg<T>(a), y = num_arg<T>(b);
    visit_fixed(node.type, [&](auto rtag) {
      using R = typename decltype(rtag)::type;
      binary_loop<kFn, T, R>(x, y, n, out.values<R>());
    });
  };
  const DataType ta = a.column().type, tb = b.column().type;
  if (ta.is_float() || tb.is_float()) {
    run(std::type_identity<double>{});
  } else if (ta.is_signed() || tb.is_signed() || (kFn == Fn::kMinus && !node.type.is_time())) {
    // Wrapping arithmetic on the unsigned representation keeps Int64 overflow defined.
    run(std::type_identity<int64_t>{});
  } else {
    run(std::type_identity<uint64_t>{});
  }
  return owned_value(std::move(out), a.is_const && b.is_const);
}

Value eval_negate(const ExprNode& node, Arguments& args, size_t /*rows*/) {
  Value a = args.value(0);
  const size_t n = a.column().rows;
  Column out(node.type);
  out.resize_fixed(n);
  if (node.type.is_float()) {
    NumArg<double> x = num_arg<double>(a);
    for (size_t row = 0; row < n; ++row) out.values<double>()[row] = -x.ptr[row];
  } else {
    NumArg<int64_t> x = num_arg<int64_t>(a);
    for (size_t row = 0; row < n; ++row)
      out.values<int64_t>()[row] = static_cast<int64_t>(0ULL - static_cast<uint64_t>(x.ptr[row]));
  }
  return owned_value(std::move(out), a.is_const);
}

constexpr Function kArithmetic[] = {
    {"plus", Fn::kPlus, 2, 2, additive_type<Fn::kPlus>, eval_binary<Fn::kPlus>},
    {"minus", Fn::kMinus, 2, 2, additive_type<Fn::kMinus>, eval_binary<Fn::kMinus>},
    {"multiply", Fn::kMultiply, 2, 2, multiplicative_type<Fn::kMultiply>,
     eval_binary<Fn::kMultiply>},
    {"divide", Fn::kDivide, 2, 2, multiplicative_type<Fn::kDivide>, eval_binary<Fn::kDivide>},
    {"modulo", Fn::kModulo, 2, 2, multiplicative_type<Fn::kModulo>, eval_binary<Fn::kModulo>},
    {"negate", Fn::kNegate, 1, 1, negate_type, eval_negate},
};

}  // namespace

std::span<const Function> arithmetic_functions() { return kArithmetic; }

}  // namespace shardlab::engine
