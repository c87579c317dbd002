#include "shardlab/engine/expression.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <unordered_set>

#include "shardlab/engine/date_time.h"
#include "base/errors.h"
#include "engine/functions/city_hash.h"
#include "shardlab/engine/parser.h"

namespace shardlab::engine {
namespace {

using Kind = ExprNode::Kind;

struct FunctionName {
  const char* name;
  Fn fn;
};

constexpr FunctionName kFunctions[] = {
    {"plus", Fn::kPlus},
    {"minus", Fn::kMinus},
    {"multiply", Fn::kMultiply},
    {"divide", Fn::kDivide},
    {"modulo", Fn::kModulo},
    {"negate", Fn::kNegate},
    {"equals", Fn::kEquals},
    {"notEquals", Fn::kNotEquals},
    {"less", Fn::kLess},
    {"lessOrEquals", Fn::kLessOrEquals},
    {"greater", Fn::kGreater},
    {"greaterOrEquals", Fn::kGreaterOrEquals},
    {"and", Fn::kAnd},
    {"or", Fn::kOr},
    {"not", Fn::kNot},
    {"in", Fn::kIn},
    {"notIn", Fn::kNotIn},
    {"toDate", Fn::kToDate},
    {"toDateTime", Fn::kToDateTime},
    {"toYYYYMMDD", Fn::kToYYYYMMDD},
    {"toYYYYMM", Fn::kToYYYYMM},
    {"toStartOfHour", Fn::kToStartOfHour},
    {"toStartOfDay", Fn::kToStartOfDay},
    {"cityHash64", Fn::kCityHash64},
    {"intHash64", Fn::kIntHash64},
};

constexpr const char* kAggregates[] = {"count", "sum", "avg", "min", "max", "uniqExact"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

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

Column one_row_string(std::string_view s) {
  Column c(TypeId::kString);
  c.push_string(s);
  return c;
}

template <typename T>
Column one_row(DataType type, T value) {
  Column c(type);
  c.resize_fixed(1);
  visit_fixed(type, [&](auto tag) {
    using S = typename decltype(tag)::type;
    c.values<S>()[0] = static_cast<S>(value);
  });
  return c;
}

ExprNodePtr make_const(Column column, size_t pos, std::string text) {
  auto node = std::make_shared<ExprNode>();
  node->kind = Kind::kConst;
  node->type = column.type;
  node->constant = std::move(column);
  node->pos = pos;
  node->text = std::move(text);
  return node;
}

// ---------------------------------------------------------------------------------------------
// Numeric access with conversion.

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

size_t result_rows(const Value& a, const Value& b, size_t rows) {
  return a.is_const && b.is_const ? 1 : rows;
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

// ---------------------------------------------------------------------------------------------
// Analysis.

class Analyzer {
 public:
  Analyzer(const std::vector<ColumnInfo>& inputs, std::string_view sql,
           const SubtreeResolver& resolver)
      : inputs_(inputs), sql_(sql), resolver_(resolver) {}

  ExprNodePtr analyze(const Expr& e);

 private:
  [[noreturn]] void fail(size_t pos, const std::string& message) const {
    throw InputError(format_sql_error(sql_, pos, message));
  }
  ExprNodePtr call(const Expr& e, Fn fn, std::vector<ExprNodePtr> args);
  ExprNodePtr convert_constant(const ExprNodePtr& constant, DataType target, const Expr& e);
  ExprNodePtr wrap(Fn fn, DataType type, ExprNodePtr arg);
  DataType check_call(const Expr& e, Fn fn, std::vector<ExprNodePtr>& args);
  void check_arity(const Expr& e, size_t min, size_t max, size_t got) const;
  void coerce_for_comparison(const Expr& e, ExprNodePtr& a, ExprNodePtr& b);

  const std::vector<ColumnInfo>& inputs_;
  std::string_view sql_;
  const SubtreeResolver& resolver_;
};

void Analyzer::check_arity(const Expr& e, size_t min, size_t max, size_t got) const {
  if (got < min || got > max) {
    std::string expected = min == max        ? std::to_string(min)
                           : max == SIZE_MAX ? "at least " + std::to_string(min)
                                             : fmt::format("{} to {}", min, max);
    fail(e.pos, fmt::format("function {} expects {} argument(s), got {}", e.name, expected, got));
  }
}

ExprNodePtr Analyzer::wrap(Fn fn, DataType type, ExprNodePtr arg) {
  auto node = std::make_shared<ExprNode>();
  node->kind = Kind::kCall;
  node->fn = fn;
  node->type = type;
  node->pos = arg->pos;
  node->text = arg->text;
  node->args.push_back(std::move(arg));
  return node;
}

// Turns a constant into `target`: strings parse as dates, times or numbers as ClickHouse does
// when a literal meets a typed column.
ExprNodePtr Analyzer::convert_constant(const ExprNodePtr& constant, DataType target,
                                       const Expr& e) {
  const Column& c = constant->constant;
  if (c.type == target) return constant;
  if (c.type.id == TypeId::kString && target.is_time()) {
    const std::string_view text = c.string_at(0);
    if (target.id == TypeId::kDate) {
      if (auto days = dt::parse_date(text))
        return make_const(one_row(target, *days), constant->pos, constant->text);
    } else if (auto secs = dt::parse_date_time(text)) {
      return make_const(one_row(target, *secs), constant->pos, constant->text);
    }
    fail(constant->pos,
         fmt::format("cannot parse '{}' as {}: expected {}", text, target.name(),
                     target.id == TypeId::kDate ? "'YYYY-MM-DD'" : "'YYYY-MM-DD hh:mm:ss'"));
  }
  if (c.type.id == TypeId::kString && target.is_numeric()) {
    const std::string text(c.string_at(0));
    char* end = nullptr;
    if (target.is_float()) {
      const double v = std::strtod(text.c_str(), &end);
      if (!text.empty() && *end == '\0')
        return make_const(one_row(TypeId::kFloat64, v), constant->pos, constant->text);
    } else if (target.is_signed()) {
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (!text.empty() && *end == '\0')
        return make_const(one_row(TypeId::kInt64, v), constant->pos, constant->text);
    } else {
      const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
      if (!text.empty() && *end == '\0' && text[0] != '-')
        return make_const(one_row(TypeId::kUInt64, v), constant->pos, constant->text);
    }
    fail(constant->pos, fmt::format("cannot parse '{}' as {}", text, target.name()));
  }
  (void)e;
  return constant;
}

void Analyzer::coerce_for_comparison(const Expr& e, ExprNodePtr& a, ExprNodePtr& b) {
  const DataType ta = a->type, tb = b->type;
  if (ta.is_string_like() && tb.is_string_like()) return;
  if (ta.is_string_like() && b->kind != Kind::kConst && a->kind == Kind::kConst) {
    a = convert_constant(a, tb, e);
  } else if (tb.is_string_like() && b->kind == Kind::kConst) {
    b = convert_constant(b, ta, e);
  } else if (ta.is_string_like() && a->kind == Kind::kConst) {
    a = convert_constant(a, tb, e);
  }
  if (a->type.is_string_like() || b->type.is_string_like())
    fail(e.pos, fmt::format("cannot compare {} with {}", a->type.name(), b->type.name()));
  if (a->type.id == TypeId::kDate && b->type.id == TypeId::kDateTime)
    a = wrap(Fn::kToDateTime, TypeId::kDateTime, a);
  if (b->type.id == TypeId::kDate && a->type.id == TypeId::kDateTime)
    b = wrap(Fn::kToDateTime, TypeId::kDateTime, b);
}

DataType Analyzer::check_call(const Expr& e, Fn fn, std::vector<ExprNodePtr>& args) {
  auto numeric = [&](const ExprNodePtr& arg) {
    if (!arg->type.is_numeric() || arg->interval)
      fail(arg->pos, fmt::format("function {} expects a number, got {} '{}'", e.name,
                                 arg->interval ? "an interval" : arg->type.name(), arg->text));
  };
  auto integer_result = [](DataType a, DataType b) -> DataType {
    return a.is_signed() || b.is_signed() ? TypeId::kInt64 : TypeId::kUInt64;
  };
  switch (fn) {
    case Fn::kPlus:
    case Fn::kMinus: {
      check_arity(e, 2, 2, args.size());
      if (fn == Fn::kPlus && args[0]->interval) std::swap(args[0], args[1]);
      if (args[1]->interval) {
        if (args[0]->interval || !args[0]->type.is_time())
          fail(e.pos, fmt::format("{} of an INTERVAL needs a Date or DateTime, got {}", e.name,
                                  args[0]->interval ? "an interval" : args[0]->type.name()));
        const Interval& iv = *args[1]->interval;
        if (args[0]->type.id == TypeId::kDate && !iv.is_calendar() && iv.seconds() % 86400 != 0)
          args[0] = wrap(Fn::kToDateTime, TypeId::kDateTime, args[0]);
        return args[0]->type;
      }
      if (args[0]->interval)
        fail(e.pos, "an INTERVAL can only be added to or subtracted from a date");
      numeric(args[0]);
      numeric(args[1]);
      const DataType a = args[0]->type, b = args[1]->type;
      if (a.is_time() && b.is_integer()) return a;
      if (fn == Fn::kPlus && b.is_time() && a.is_integer()) return b;
      if (a.is_float() || b.is_float()) return TypeId::kFloat64;
      if (fn == Fn::kMinus) return TypeId::kInt64;
      return integer_result(a, b);
    }
    case Fn::kMultiply:
    case Fn::kDivide:
    case Fn::kModulo: {
      check_arity(e, 2, 2, args.size());
      numeric(args[0]);
      numeric(args[1]);
      const DataType a = args[0]->type, b = args[1]->type;
      if (fn == Fn::kDivide || a.is_float() || b.is_float()) return TypeId::kFloat64;
      return integer_result(a, b);
    }
    case Fn::kNegate:
      check_arity(e, 1, 1, args.size());
      numeric(args[0]);
      return args[0]->type.is_float() ? TypeId::kFloat64 : TypeId::kInt64;
    case Fn::kEquals:
    case Fn::kNotEquals:
    case Fn::kLess:
    case Fn::kLessOrEquals:
    case Fn::kGreater:
    case Fn::kGreaterOrEquals:
      check_arity(e, 2, 2, args.size());
      for (auto& arg : args)
        if (arg->interval) fail(arg->pos, "an INTERVAL cannot be compared");
      coerce_for_comparison(e, args[0], args[1]);
      return TypeId::kUInt8;
    case Fn::kAnd:
    case Fn::kOr:
      check_arity(e, 2, SIZE_MAX, args.size());
      for (auto& arg : args) numeric(arg);
      return TypeId::kUInt8;
    case Fn::kNot:
      check_arity(e, 1, 1, args.size());
      numeric(args[0]);
      return TypeId::kUInt8;
    case Fn::kIn:
    case Fn::kNotIn:
      check_arity(e, 2, SIZE_MAX, args.size());
      for (size_t idx = 1; idx < args.size(); ++idx) {
        if (args[idx]->kind != Kind::kConst || args[idx]->interval)
          fail(args[idx]->pos, "expected a constant in the IN list");
        ExprNodePtr lhs = args[0];
        coerce_for_comparison(e, lhs, args[idx]);
        if (lhs != args[0])
          fail(args[idx]->pos, "the IN list must have the type of the tested value");
      }
      return TypeId::kUInt8;
    case Fn::kToDate:
    case Fn::kToDateTime: {
      check_arity(e, 1, 1, args.size());
      const DataType target = fn == Fn::kToDate ? TypeId::kDate : TypeId::kDateTime;
      if (args[0]->kind == Kind::kConst && args[0]->type.id == TypeId::kString) {
        args[0] = convert_constant(args[0], target, e);
      } else if (!args[0]->type.is_time() && !args[0]->type.is_integer()) {
        fail(args[0]->pos, fmt::format("function {} expects a Date, DateTime, integer or string "
                                       "literal, got {}",
                                       e.name, args[0]->type.name()));
      }
      return target;
    }
    case Fn::kToYYYYMMDD:
    case Fn::kToYYYYMM:
    case Fn::kToStartOfHour:
    case Fn::kToStartOfDay:
      check_arity(e, 1, 1, args.size());
      if (!args[0]->type.is_time())
        fail(args[0]->pos, fmt::format("function {} expects a Date or DateTime, got {}", e.name,
                                       args[0]->type.name()));
      return fn == Fn::kToYYYYMMDD || fn == Fn::kToYYYYMM ? TypeId::kUInt32 : TypeId::kDateTime;
    case Fn::kCityHash64:
      check_arity(e, 1, SIZE_MAX, args.size());
      for (auto& arg : args)
        if (arg->interval) fail(arg->pos, "cannot hash an INTERVAL");
      return TypeId::kUInt64;
    case Fn::kIntHash64:
      check_arity(e, 1, 1, args.size());
      if (!args[0]->type.is_integer() && !args[0]->type.is_time())
        fail(args[0]->pos,
             fmt::format("function intHash64 expects an integer, got {}", args[0]->type.name()));
      return TypeId::kUInt64;
  }
  return TypeId::kUInt64;
}

ExprNodePtr Analyzer::call(const Expr& e, Fn fn, std::vector<ExprNodePtr> args) {
  auto node = std::make_shared<ExprNode>();
  node->kind = Kind::kCall;
  node->fn = fn;
  node->pos = e.pos;
  node->text = e.to_string();
  node->type = check_call(e, fn, args);
  node->args = std::move(args);
  const bool all_const = std::all_of(node->args.begin(), node->args.end(),
                                     [](const ExprNodePtr& a) { return a->kind == Kind::kConst; });
  if (all_const) {
    Value v = evaluate(*node, {}, 1);
    return make_const(v.column(), e.pos, node->text);
  }
  return node;
}

ExprNodePtr Analyzer::analyze(const Expr& e) {
  if (resolver_) {
    if (auto idx = resolver_(e)) {
      auto node = std::make_shared<ExprNode>();
      node->kind = Kind::kInput;
      node->input = *idx;
      node->type = inputs_[*idx].type;
      node->pos = e.pos;
      node->text = e.to_string();
      return node;
    }
  }
  switch (e.kind) {
    case ExprKind::kLiteral: {
      const Literal& lit = e.literal;
      switch (lit.kind) {
        case Literal::Kind::kUInt:
          return make_const(one_row(TypeId::kUInt64, lit.u), e.pos, e.to_string());
        case Literal::Kind::kInt:
          return make_const(one_row(TypeId::kInt64, lit.i), e.pos, e.to_string());
        case Literal::Kind::kFloat:
          return make_const(one_row(TypeId::kFloat64, lit.f), e.pos, e.to_string());
        case Literal::Kind::kString:
          return make_const(one_row_string(lit.s), e.pos, e.to_string());
      }
      break;
    }
    case ExprKind::kInterval: {
      auto node = std::make_shared<ExprNode>();
      node->kind = Kind::kConst;
      node->type = TypeId::kInt64;
      node->constant = one_row(TypeId::kInt64, e.interval.count);
      node->interval = e.interval;
      node->pos = e.pos;
      node->text = e.to_string();
      return node;
    }
    case ExprKind::kStar:
      fail(e.pos, "'*' is only allowed alone in the SELECT list or as count(*)");
    case ExprKind::kColumn: {
      for (size_t idx = 0; idx < inputs_.size(); ++idx) {
        if (inputs_[idx].name == e.name) {
          auto node = std::make_shared<ExprNode>();
          node->kind = Kind::kInput;
          node->input = idx;
          node->type = inputs_[idx].type;
          node->pos = e.pos;
          node->text = e.name;
          return node;
        }
      }
      std::string known;
      for (const auto& in : inputs_) known += (known.empty() ? "" : ", ") + in.name;
      fail(e.pos, fmt::format("unknown column '{}'; expected one of: {}", e.name, known));
    }
    case ExprKind::kFunction: {
      if (is_aggregate_function(e.name))
        fail(e.pos, fmt::format("aggregate function {} is not allowed here", e.to_string()));
      const FunctionName* found = nullptr;
      for (const auto& f : kFunctions)
        if (e.name == f.name) found = &f;
      if (found == nullptr)
        for (const auto& f : kFunctions)
          if (iequals(e.name, f.name)) found = &f;
      if (found == nullptr)
        fail(e.pos, fmt::format("unknown function '{}'; supported: toDate, toDateTime, toYYYYMMDD, "
                                "toYYYYMM, toStartOfHour, toStartOfDay, cityHash64, intHash64 and "
                                "the aggregates count, sum, avg, min, max, uniqExact",
                                e.name));
      if (e.distinct) fail(e.pos, "DISTINCT is only allowed in count(DISTINCT x)");
      std::vector<ExprNodePtr> args;
      for (const auto& arg : e.args) args.push_back(analyze(*arg));
      return call(e, found->fn, std::move(args));
    }
  }
  fail(e.pos, "unsupported expression");
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

Value borrowed(const Column* column) {
  Value v;
  v.borrowed = column;
  return v;
}

Value owned(Column column, bool is_const) {
  Value v;
  v.owned = std::move(column);
  v.is_const = is_const;
  return v;
}

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

Value eval_logical(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows) {
  if (node.fn == Fn::kNot) {
    Value arg = evaluate(*node.args[0], inputs, rows);
    PodVector<uint8_t> m = to_mask(arg);
    Column out(TypeId::kUInt8);
    out.resize_fixed(m.size());
    for (size_t row = 0; row < m.size(); ++row) out.values<uint8_t>()[row] = !m[row];
    return owned(std::move(out), arg.is_const);
  }
  const bool is_and = node.fn == Fn::kAnd;
  Column out(TypeId::kUInt8);
  out.resize_fixed(rows);
  uint8_t* dst = out.values<uint8_t>();
  std::fill(dst, dst + rows, is_and ? 1 : 0);
  bool all_const = true;
  for (const auto& arg : node.args) {
    Value v = evaluate(*arg, inputs, rows);
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
  return owned(std::move(out), all_const);
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
  return owned(std::move(out), lc.is_const);
}

Value eval_comparison(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows) {
  Value a = evaluate(*node.args[0], inputs, rows);
  Value b = evaluate(*node.args[1], inputs, rows);
  Fn fn = node.fn;
  const Column& ca = a.column();
  const Column& cb = b.column();
  if (ca.type.is_string_like()) {
    if (ca.type.id == TypeId::kLowCardinality && b.is_const && !a.is_const)
      return compare_low_cardinality(fn, a, cb.string_at(0));
    if (cb.type.id == TypeId::kLowCardinality && a.is_const && !b.is_const)
      return compare_low_cardinality(flip(fn), b, ca.string_at(0));
    const size_t n = result_rows(a, b, rows);
    Column out(TypeId::kUInt8);
    out.resize_fixed(n);
    for (size_t row = 0; row < n; ++row)
      out.values<uint8_t>()[row] = compare_values(fn, ca.string_at(a.is_const ? 0 : row),
                                                  cb.string_at(b.is_const ? 0 : row));
    return owned(std::move(out), a.is_const && b.is_const);
  }
  const size_t n = result_rows(a, b, rows);
  Column out(TypeId::kUInt8);
  out.resize_fixed(n);
  uint8_t* dst = out.values<uint8_t>();
  if (!a.is_const && b.is_const && compare_native(fn, a, b, rows, dst))
    return owned(std::move(out), false);
  if (a.is_const && !b.is_const && compare_native(flip(fn), b, a, rows, dst))
    return owned(std::move(out), false);
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
    case Domain::kI128: {
      // Mixed signedness: widen so that e.g. -1 < 18446744073709551615 holds.
      auto widen = [](const Value& v) {
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
      };
      compare_loop<__int128>(fn, widen(a), widen(b), n, dst);
      break;
    }
  }
  return owned(std::move(out), a.is_const && b.is_const);
}

Value eval_in(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows) {
  Value a = evaluate(*node.args[0], inputs, rows);
  const Column& col = a.column();
  const bool negate = node.fn == Fn::kNotIn;
  Column out(TypeId::kUInt8);
  out.resize_fixed(col.rows);
  uint8_t* dst = out.values<uint8_t>();
  if (col.type.is_string_like()) {
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
    return owned(std::move(out), a.is_const);
  }
  std::fill(dst, dst + col.rows, 0);
  for (size_t idx = 1; idx < node.args.size(); ++idx) {
    const Value b = evaluate(*node.args[idx], inputs, rows);
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
  return owned(std::move(out), a.is_const);
}

int64_t time_as_seconds(DataType type, int64_t v) {
  return type.id == TypeId::kDate ? v * dt::kSecondsPerDay : v;
}

Value eval_interval_arith(const ExprNode& node, const std::vector<const Column*>& inputs,
                          size_t rows) {
  Value a = evaluate(*node.args[0], inputs, rows);
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
          const int64_t moved = std::max<int64_t>(0, dt::add_months_to_days(days, sign * iv.months()));
          last_shift_days = moved - days;
        }
        v += is_date ? last_shift_days : last_shift_days * dt::kSecondsPerDay;
      } else {
        v += sign * (is_date ? iv.seconds() / dt::kSecondsPerDay : iv.seconds());
      }
      dst[row] = static_cast<R>(v);
    }
  });
  return owned(std::move(out), a.is_const);
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

Value eval_arithmetic(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows) {
  if (node.args.size() == 2 && node.args[1]->interval)
    return eval_interval_arith(node, inputs, rows);
  if (node.fn == Fn::kNegate) {
    Value a = evaluate(*node.args[0], inputs, rows);
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
    return owned(std::move(out), a.is_const);
  }
  Value a = evaluate(*node.args[0], inputs, rows);
  Value b = evaluate(*node.args[1], inputs, rows);
  const size_t n = result_rows(a, b, rows);
  Column out(node.type);
  out.resize_fixed(n);
  const Fn fn = node.fn;
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    NumArg<T> x = num_arg<T>(a), y = num_arg<T>(b);
    visit_fixed(node.type, [&](auto rtag) {
      using R = typename decltype(rtag)::type;
      R* dst = out.values<R>();
      switch (fn) {
        // Integers wrap on overflow as in ClickHouse: compute on the unsigned representation.
        case Fn::kPlus:
          apply_binary(x, y, n, dst,
                       [](T p, T q) { return static_cast<R>(wrap<T>(p) + wrap<T>(q)); });
          break;
        case Fn::kMinus:
          apply_binary(x, y, n, dst,
                       [](T p, T q) { return static_cast<R>(wrap<T>(p) - wrap<T>(q)); });
          break;
        case Fn::kMultiply:
          apply_binary(x, y, n, dst,
                       [](T p, T q) { return static_cast<R>(wrap<T>(p) * wrap<T>(q)); });
          break;
        case Fn::kDivide:
          apply_binary(x, y, n, dst, [](T p, T q) {
            return static_cast<R>(static_cast<double>(p) / static_cast<double>(q));
          });
          break;
        default:
          if constexpr (std::is_floating_point_v<T>) {
            apply_binary(x, y, n, dst, [](T p, T q) { return static_cast<R>(std::fmod(p, q)); });
          } else {
            apply_binary(x, y, n, dst,
                         [](T p, T q) { return static_cast<R>(checked_modulo(p, q)); });
          }
      }
    });
  };
  const DataType ta = a.column().type, tb = b.column().type;
  if (ta.is_float() || tb.is_float()) {
    run(std::type_identity<double>{});
  } else if (ta.is_signed() || tb.is_signed() || (fn == Fn::kMinus && !node.type.is_time())) {
    // Wrapping arithmetic on the unsigned representation keeps Int64 overflow defined.
    run(std::type_identity<int64_t>{});
  } else {
    run(std::type_identity<uint64_t>{});
  }
  return owned(std::move(out), a.is_const && b.is_const);
}

// Per-row calendar functions; consecutive rows usually share a day, so the last day's answer
// is cached.
template <typename F>
Value eval_calendar(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows,
                    F by_seconds) {
  Value a = evaluate(*node.args[0], inputs, rows);
  const Column& col = a.column();
  const DataType in_type = col.type;
  Column out(node.type);
  out.resize_fixed(col.rows);
  visit_fixed(node.type, [&](auto rtag) {
    using R = typename decltype(rtag)::type;
    R* dst = out.values<R>();
    visit_fixed(in_type, [&](auto tag) {
      using S = typename decltype(tag)::type;
      const S* src = col.values<S>();
      for (size_t row = 0; row < col.rows; ++row)
        dst[row] =
            static_cast<R>(by_seconds(time_as_seconds(in_type, static_cast<int64_t>(src[row]))));
    });
  });
  return owned(std::move(out), a.is_const);
}

struct DayCache {
  int64_t day = INT64_MIN;
  dt::Civil civil{};
  const dt::Civil& get(int64_t d) {
    if (d != day) {
      day = d;
      civil = dt::civil_from_days(d);
    }
    return civil;
  }
};

Value eval_time_function(const ExprNode& node, const std::vector<const Column*>& inputs,
                         size_t rows) {
  switch (node.fn) {
    case Fn::kToDate:
      return eval_calendar(node, inputs, rows, [](int64_t s) { return dt::day_of(s); });
    case Fn::kToDateTime:
      return eval_calendar(node, inputs, rows, [](int64_t s) { return s; });
    case Fn::kToStartOfHour:
      return eval_calendar(node, inputs, rows,
                           [](int64_t s) { return s - (s - dt::floor_div(s, 3600) * 3600); });
    case Fn::kToStartOfDay:
      return eval_calendar(node, inputs, rows,
                           [](int64_t s) { return dt::day_of(s) * dt::kSecondsPerDay; });
    case Fn::kToYYYYMMDD: {
      DayCache cache;
      return eval_calendar(node, inputs, rows, [&](int64_t s) {
        const dt::Civil& c = cache.get(dt::day_of(s));
        return static_cast<int64_t>(c.year) * 10000 + c.month * 100 + c.day;
      });
    }
    default: {
      DayCache cache;
      return eval_calendar(node, inputs, rows, [&](int64_t s) {
        const dt::Civil& c = cache.get(dt::day_of(s));
        return static_cast<int64_t>(c.year) * 100 + c.month;
      });
    }
  }
}

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

Value eval_hash(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows) {
  if (node.fn == Fn::kIntHash64) {
    Value a = evaluate(*node.args[0], inputs, rows);
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
    return owned(std::move(out), a.is_const);
  }
  std::vector<Value> args;
  bool all_const = true;
  for (const auto& arg : node.args) {
    args.push_back(evaluate(*arg, inputs, rows));
    all_const = all_const && args.back().is_const;
  }
  const size_t n = all_const ? 1 : rows;
  Column out(TypeId::kUInt64);
  out.resize_fixed(n);
  uint64_t* dst = out.values<uint64_t>();
  PodVector<uint64_t> hashes;
  for (size_t idx = 0; idx < args.size(); ++idx) {
    const Column& col = args[idx].column();
    hashes.resize(col.rows);
    hash_column(col, hashes.data());
    for (size_t row = 0; row < n; ++row) {
      const uint64_t h = hashes[args[idx].is_const ? 0 : row];
      dst[row] = idx == 0 ? h : combine_hashes(dst[row], h);
    }
  }
  return owned(std::move(out), all_const);
}

}  // namespace

bool is_aggregate_function(std::string_view name) {
  for (const char* agg : kAggregates)
    if (iequals(name, agg)) return true;
  return false;
}

ExprNodePtr analyze_expression(const Expr& expr, const std::vector<ColumnInfo>& inputs,
                               std::string_view sql, const SubtreeResolver& resolver) {
  Analyzer analyzer(inputs, sql, resolver);
  ExprNodePtr node = analyzer.analyze(expr);
  if (node->interval)
    throw InputError(
        format_sql_error(sql, expr.pos, "an INTERVAL is only allowed as an operand of + or -"));
  return node;
}

Value evaluate(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows) {
  switch (node.kind) {
    case Kind::kInput:
      return borrowed(inputs[node.input]);
    case Kind::kConst: {
      Value v;
      v.borrowed = &node.constant;
      v.is_const = true;
      return v;
    }
    case Kind::kCall:
      break;
  }
  switch (node.fn) {
    case Fn::kPlus:
    case Fn::kMinus:
    case Fn::kMultiply:
    case Fn::kDivide:
    case Fn::kModulo:
    case Fn::kNegate:
      return eval_arithmetic(node, inputs, rows);
    case Fn::kEquals:
    case Fn::kNotEquals:
    case Fn::kLess:
    case Fn::kLessOrEquals:
    case Fn::kGreater:
    case Fn::kGreaterOrEquals:
      return eval_comparison(node, inputs, rows);
    case Fn::kAnd:
    case Fn::kOr:
    case Fn::kNot:
      return eval_logical(node, inputs, rows);
    case Fn::kIn:
    case Fn::kNotIn:
      return eval_in(node, inputs, rows);
    case Fn::kCityHash64:
    case Fn::kIntHash64:
      return eval_hash(node, inputs, rows);
    default:
      return eval_time_function(node, inputs, rows);
  }
}

Column broadcast(const Column& one_row, size_t rows) {
  if (one_row.type.is_fixed()) {
    Column out(one_row.type);
    out.dict = one_row.dict;
    const size_t w = one_row.type.width();
    out.resize_fixed(rows);
    for (size_t row = 0; row < rows; ++row)
      std::memcpy(out.data.data() + row * w, one_row.data.data(), w);
    return out;
  }
  Column out(one_row.type);
  for (size_t row = 0; row < rows; ++row) out.push_string(one_row.string_at(0));
  return out;
}

Column evaluate_column(const ExprNode& node, const std::vector<const Column*>& inputs,
                       size_t rows) {
  Value v = evaluate(node, inputs, rows);
  if (v.is_const) return broadcast(v.column(), rows);
  if (v.borrowed != nullptr) return *v.borrowed;
  return std::move(v.owned);
}

void evaluate_filter(const ExprNode& node, const std::vector<const Column*>& inputs, size_t rows,
                     uint8_t* mask) {
  Value v = evaluate(node, inputs, rows);
  const Column& col = v.column();
  if (v.is_const) {
    bool truth = false;
    visit_fixed(col.type,
                [&](auto tag) { truth = col.values<typename decltype(tag)::type>()[0] != 0; });
    if (!truth) std::fill(mask, mask + rows, 0);
    return;
  }
  if (col.type.id == TypeId::kUInt8) {
    const uint8_t* src = col.values<uint8_t>();
    for (size_t row = 0; row < rows; ++row) mask[row] &= src[row] != 0;
    return;
  }
  visit_fixed(col.type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = col.values<T>();
    for (size_t row = 0; row < rows; ++row) mask[row] &= src[row] != 0;
  });
}

}  // namespace shardlab::engine
