#include "engine/functions/type_context.h"

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "shardlab/engine/date_time.h"
#include "base/errors.h"
#include "shardlab/engine/parser.h"

namespace shardlab::engine {

ExprNodePtr make_const_node(Column column, size_t pos, std::string text) {
  auto node = std::make_shared<ExprNode>();
  node->kind = ExprNode::Kind::kConst;
  node->type = column.type;
  node->constant = std::move(column);
  node->pos = pos;
  node->text = std::move(text);
  return node;
}

Column one_row_string(std::string_view s) {
  Column c(TypeId::kString);
  c.push_string(s);
  return c;
}

void TypeContext::fail(size_t pos, const std::string& message) const {
  throw InputError(format_sql_error(sql_, pos, message));
}

void TypeContext::check_arity(size_t min, size_t max, size_t got) const {
  if (got < min || got > max) {
    std::string expected = min == max        ? std::to_string(min)
                           : max == SIZE_MAX ? "at least " + std::to_string(min)
                                             : fmt::format("{} to {}", min, max);
    fail(call_.pos,
         fmt::format("function {} expects {} argument(s), got {}", call_.name, expected, got));
  }
}

void TypeContext::expect_number(const ExprNodePtr& arg) const {
  if (!arg->type.is_numeric() || arg->interval)
    fail(arg->pos, fmt::format("function {} expects a number, got {} '{}'", call_.name,
                               arg->interval ? "an interval" : arg->type.name(), arg->text));
}

ExprNodePtr TypeContext::wrap(Fn fn, DataType type, ExprNodePtr arg) {
  auto node = std::make_shared<ExprNode>();
  node->kind = ExprNode::Kind::kCall;
  node->fn = fn;
  node->type = type;
  node->pos = arg->pos;
  node->text = arg->text;
  node->args.push_back(std::move(arg));
  return node;
}

ExprNodePtr TypeContext::convert_constant(const ExprNodePtr& constant, DataType target) const {
  const Column& c = constant->constant;
  if (c.type == target) return constant;
  if (c.type.id == TypeId::kString && target.is_time()) {
    const std::string_view text = c.string_at(0);
    if (target.id == TypeId::kDate) {
      if (auto days = dt::parse_date(text))
        return make_const_node(one_row(target, *days), constant->pos, constant->text);
    } else if (auto secs = dt::parse_date_time(text)) {
      return make_const_node(one_row(target, *secs), constant->pos, constant->text);
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
        return make_const_node(one_row(TypeId::kFloat64, v), constant->pos, constant->text);
    } else if (target.is_signed()) {
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (!text.empty() && *end == '\0')
        return make_const_node(one_row(TypeId::kInt64, v), constant->pos, constant->text);
    } else {
      const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
      if (!text.empty() && *end == '\0' && text[0] != '-')
        return make_const_node(one_row(TypeId::kUInt64, v), constant->pos, constant->text);
    }
    fail(constant->pos, fmt::format("cannot parse '{}' as {}", text, target.name()));
  }
  return constant;
}

void TypeContext::coerce_for_comparison(ExprNodePtr& a, ExprNodePtr& b) const {
  using Kind = ExprNode::Kind;
  const DataType ta = a->type, tb = b->type;
  if (ta.is_string_like() && tb.is_string_like()) return;
  if (ta.is_string_like() && b->kind != Kind::kConst && a->kind == Kind::kConst) {
    a = convert_constant(a, tb);
  } else if (tb.is_string_like() && b->kind == Kind::kConst) {
    b = convert_constant(b, ta);
  } else if (ta.is_string_like() && a->kind == Kind::kConst) {
    a = convert_constant(a, tb);
  }
  if (a->type.is_string_like() || b->type.is_string_like())
    fail(call_.pos, fmt::format("cannot compare {} with {}", a->type.name(), b->type.name()));
  if (a->type.id == TypeId::kDate && b->type.id == TypeId::kDateTime)
    a = wrap(Fn::kToDateTime, TypeId::kDateTime, a);
  if (b->type.id == TypeId::kDate && a->type.id == TypeId::kDateTime)
    b = wrap(Fn::kToDateTime, TypeId::kDateTime, b);
}

}  // namespace shardlab::engine
