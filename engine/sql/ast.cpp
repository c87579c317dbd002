#include "shardlab/engine/ast.h"

#include <fmt/format.h>

namespace shardlab::engine {

std::string Literal::to_string() const {
  switch (kind) {
    case Kind::kUInt:
      return std::to_string(u);
    case Kind::kInt:
      return std::to_string(i);
    case Kind::kFloat:
      return fmt::format("{}", f);
    case Kind::kString: {
      std::string out = "'";
      for (char c : s) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
      }
      return out + "'";
    }
  }
  return "?";
}

int64_t Interval::seconds() const {
  switch (unit) {
    case IntervalUnit::kSecond:
      return count;
    case IntervalUnit::kMinute:
      return count * 60;
    case IntervalUnit::kHour:
      return count * 3600;
    case IntervalUnit::kDay:
      return count * 86400;
    case IntervalUnit::kWeek:
      return count * 7 * 86400;
    default:
      return 0;
  }
}

int64_t Interval::months() const { return unit == IntervalUnit::kYear ? count * 12 : count; }

std::string Interval::to_string() const {
  static const char* kNames[] = {"SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "YEAR"};
  return fmt::format("INTERVAL {} {}", count, kNames[static_cast<int>(unit)]);
}

std::string Expr::to_string() const {
  switch (kind) {
    case ExprKind::kLiteral:
      return literal.to_string();
    case ExprKind::kColumn:
      return name;
    case ExprKind::kStar:
      return "*";
    case ExprKind::kInterval:
      return interval.to_string();
    case ExprKind::kFunction: {
      std::string out = name + "(";
      if (distinct) out += "DISTINCT ";
      for (size_t idx = 0; idx < args.size(); ++idx) {
        if (idx > 0) out += ", ";
        out += args[idx]->to_string();
      }
      return out + ")";
    }
  }
  return "?";
}

}  // namespace shardlab::engine
