#include "shardlab/engine/ast.h"

#include <fmt/format.h>

#include <cstdint>
#include <vector>

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

namespace {

// The text of a node without arguments.
std::string leaf_text(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.literal.to_string();
    case ExprKind::kColumn:
      return e.name;
    case ExprKind::kStar:
      return "*";
    case ExprKind::kInterval:
      return e.interval.to_string();
    case ExprKind::kFunction:
      break;
  }
  return "?";
}

// Appends the canonical text of `root` to `out`, stopping once `out` is longer than
// `max_chars`. An explicit stack instead of recursion: a chain of `+` is as deep as it is long.
void append_text(const Expr& root, size_t max_chars, std::string* out) {
  struct Frame {
    const Expr* expr;
    size_t next_arg;
  };
  std::vector<Frame> stack{{&root, 0}};
  while (!stack.empty() && out->size() <= max_chars) {
    Frame& frame = stack.back();
    const Expr& e = *frame.expr;
    if (e.kind != ExprKind::kFunction) {
      *out += leaf_text(e);
      stack.pop_back();
      continue;
    }
    if (frame.next_arg == 0) {
      *out += e.name;
      *out += e.distinct ? "(DISTINCT " : "(";
    }
    if (frame.next_arg == e.args.size()) {
      *out += ')';
      stack.pop_back();
      continue;
    }
    if (frame.next_arg > 0) *out += ", ";
    const Expr* child = e.args[frame.next_arg++].get();
    stack.push_back({child, 0});  // invalidates `frame`
  }
}

}  // namespace

Expr::~Expr() {
  // Children whose last owner is this tree are emptied before they are released, so each
  // release frees one node; shared children are left to their other owners.
  std::vector<ExprPtr> pending = std::move(args);
  while (!pending.empty()) {
    ExprPtr e = std::move(pending.back());
    pending.pop_back();
    if (e.use_count() == 1) {
      for (ExprPtr& arg : e->args) pending.push_back(std::move(arg));
      e->args.clear();
    }
  }
}

std::string Expr::to_string() const {
  std::string out;
  append_text(*this, SIZE_MAX, &out);
  return out;
}

std::string Expr::to_string_up_to(size_t max_chars) const {
  std::string out;
  append_text(*this, max_chars, &out);
  if (out.size() > max_chars) out.resize(max_chars + 1);
  return out;
}

}  // namespace shardlab::engine
