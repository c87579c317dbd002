// toDate, toDateTime, toYYYYMMDD, toYYYYMM, toStartOfHour, toStartOfDay, on UTC calendar
// days (common/date_time.h). A Date argument counts as its midnight.
#include <fmt/format.h>

#include <cstdint>

#include "shardlab/engine/date_time.h"
#include "engine/functions/function_args.h"
#include "engine/functions/function_registry.h"

namespace shardlab::engine {
namespace {

int64_t time_as_seconds(DataType type, int64_t v) {
  return type.id == TypeId::kDate ? v * dt::kSecondsPerDay : v;
}

// Per-row calendar functions, given the time in seconds.
template <typename F>
Value eval_calendar(const ExprNode& node, Arguments& args, size_t /*rows*/, F by_seconds) {
  Value a = args.value(0);
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
  return owned_value(std::move(out), a.is_const);
}

// Consecutive rows usually share a day, so the last day's civil date is cached.
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

Value eval_to_date(const ExprNode& node, Arguments& args, size_t rows) {
  return eval_calendar(node, args, rows, [](int64_t s) { return dt::day_of(s); });
}

Value eval_to_date_time(const ExprNode& node, Arguments& args, size_t rows) {
  return eval_calendar(node, args, rows, [](int64_t s) { return s; });
}

Value eval_to_start_of_hour(const ExprNode& node, Arguments& args, size_t rows) {
  return eval_calendar(node, args, rows,
                       [](int64_t s) { return s - (s - dt::floor_div(s, 3600) * 3600); });
}

Value eval_to_start_of_day(const ExprNode& node, Arguments& args, size_t rows) {
  return eval_calendar(node, args, rows,
                       [](int64_t s) { return dt::day_of(s) * dt::kSecondsPerDay; });
}

Value eval_to_yyyymmdd(const ExprNode& node, Arguments& args, size_t rows) {
  DayCache cache;
  return eval_calendar(node, args, rows, [&](int64_t s) {
    const dt::Civil& c = cache.get(dt::day_of(s));
    return static_cast<int64_t>(c.year) * 10000 + c.month * 100 + c.day;
  });
}

Value eval_to_yyyymm(const ExprNode& node, Arguments& args, size_t rows) {
  DayCache cache;
  return eval_calendar(node, args, rows, [&](int64_t s) {
    const dt::Civil& c = cache.get(dt::day_of(s));
    return static_cast<int64_t>(c.year) * 100 + c.month;
  });
}

// toDate and toDateTime: a time, an integer (days or seconds), or a string literal.
template <TypeId kTarget>
DataType conversion_type(const TypeContext& context, std::vector<ExprNodePtr>& args) {
  const DataType target = kTarget;
  if (args[0]->kind == ExprNode::Kind::kConst && args[0]->type.id == TypeId::kString) {
    args[0] = context.convert_constant(args[0], target);
  } else if (!args[0]->type.is_time() && !args[0]->type.is_integer()) {
    context.fail(args[0]->pos, fmt::format("function {} expects a Date, DateTime, integer or "
                                           "string literal, got {}",
                                           context.call().name, args[0]->type.name()));
  }
  return target;
}

// The calendar functions of a Date or DateTime, returning kResult.
template <TypeId kResult>
DataType calendar_type(const TypeContext& context, std::vector<ExprNodePtr>& args) {
  if (!args[0]->type.is_time())
    context.fail(args[0]->pos, fmt::format("function {} expects a Date or DateTime, got {}",
                                           context.call().name, args[0]->type.name()));
  return kResult;
}

constexpr Function kDate[] = {
    {"toDate", Fn::kToDate, 1, 1, conversion_type<TypeId::kDate>, eval_to_date},
    {"toDateTime", Fn::kToDateTime, 1, 1, conversion_type<TypeId::kDateTime>, eval_to_date_time},
    {"toYYYYMMDD", Fn::kToYYYYMMDD, 1, 1, calendar_type<TypeId::kUInt32>, eval_to_yyyymmdd},
    {"toYYYYMM", Fn::kToYYYYMM, 1, 1, calendar_type<TypeId::kUInt32>, eval_to_yyyymm},
    {"toStartOfHour", Fn::kToStartOfHour, 1, 1, calendar_type<TypeId::kDateTime>,
     eval_to_start_of_hour},
    {"toStartOfDay", Fn::kToStartOfDay, 1, 1, calendar_type<TypeId::kDateTime>,
     eval_to_start_of_day},
};

}  // namespace

std::span<const Function> date_functions() { return kDate; }

}  // namespace shardlab::engine
