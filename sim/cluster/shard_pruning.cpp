#include "sim/cluster/shard_pruning.h"

#include <cstring>
#include <limits>
#include <type_traits>
#include <optional>
#include <string>

#include "shardlab/engine/date_time.h"
#include "base/errors.h"
#include "shardlab/engine/parser.h"

namespace shardlab::sim::cluster {

namespace {

using engine::Expr;
using engine::ExprKind;
using engine::Literal;

bool is_monotonic_function(const std::string& name) {
  return name == "toDate" || name == "toDateTime" || name == "toYYYYMMDD" || name == "toYYYYMM" ||
         name == "toStartOfHour" || name == "toStartOfDay";
}

// The column a range key is a monotonic chain over, or empty.
std::string monotonic_column(const Expr& key) {
  if (key.kind == ExprKind::kColumn) return key.name;
  if (key.kind == ExprKind::kFunction && key.args.size() == 1 && is_monotonic_function(key.name)) {
    return monotonic_column(*key.args[0]);
  }
  return {};
}

void split_conjuncts(const engine::ExprPtr& e, std::vector<const Expr*>* out) {
  if (!e) return;
  if (e->kind == ExprKind::kFunction && e->name == "and") {
    for (const auto& arg : e->args) split_conjuncts(arg, out);
  } else {
    out->push_back(e.get());
  }
}

// A one-row fixed-width column holding `value`. Assigned from a byte range rather than pushed:
// GCC 12 reports a false stringop-overflow for the first growth of an empty column.
template <typename T>
engine::Column one_value(engine::DataType type, T value) {
  engine::Column column(type);
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  column.data.assign(bytes, bytes + sizeof(T));
  column.rows = 1;
  return column;
}

// A one-row column of `type` holding `literal`, or nullopt if it does not convert.
std::optional<engine::Column> literal_column(engine::DataType type, const Literal& literal) {
  using engine::TypeId;
  engine::Column column(type.id == TypeId::kLowCardinality ? engine::DataType(TypeId::kString)
                                                           : type);
  if (type.is_string_like()) {
    if (literal.kind != Literal::Kind::kString) return std::nullopt;
    column.push_string(literal.s);
    if (type.id == TypeId::kLowCardinality) return engine::string_to_low_cardinality(column);
    return column;
  }
  int64_t value = 0;
  if (literal.kind == Literal::Kind::kString) {
    std::optional<int64_t> parsed;
    if (type.id == TypeId::kDate) parsed = dt::parse_date(literal.s);
    if (type.id == TypeId::kDateTime) parsed = dt::parse_date_time(literal.s);
    if (!parsed) return std::nullopt;
    value = *parsed;
  } else if (literal.kind == Literal::Kind::kUInt) {
    value = static_cast<int64_t>(literal.u);
  } else if (literal.kind == Literal::Kind::kInt) {
    value = literal.i;
  } else {
    return std::nullopt;
  }
  // A literal the column's type cannot hold would wrap; such a bound says nothing usable.
  return engine::visit_fixed(type, [&](auto tag) -> std::optional<engine::Column> {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      if (value < static_cast<int64_t>(std::numeric_limits<T>::min())) return std::nullopt;
      if constexpr (sizeof(T) < sizeof(int64_t)) {
        if (value > static_cast<int64_t>(std::numeric_limits<T>::max())) return std::nullopt;
      }
    }
    return one_value(type, static_cast<T>(value));
  });
}

// A block of the table's columns with one row: `value` in column `target`, defaults elsewhere.
engine::Block probe_row(const engine::TableSchema& schema, size_t target, const engine::Column& value) {
  engine::Block block;
  for (size_t c = 0; c < schema.columns.size(); ++c) {
    block.names.push_back(schema.columns[c].name);
    if (c == target) {
      block.columns.push_back(value);
      continue;
    }
    const engine::DataType type = schema.columns[c].type;
    engine::Column column(type.is_string_like() ? engine::DataType(engine::TypeId::kString) : type);
    if (type.is_string_like()) {
      column.push_string("");
      if (type.id == engine::TypeId::kLowCardinality) {
        column = engine::string_to_low_cardinality(column);
      }
    } else {
      column = engine::visit_fixed(type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return one_value(type, T{});
      });
    }
    block.columns.push_back(std::move(column));
  }
  return block;
}

// The shard `value` of column `target` goes to, or nullopt if the scheme places it nowhere.
std::optional<uint32_t> shard_of(const ShardingScheme& scheme, const engine::TableSchema& schema,
                                 size_t target, const engine::Column& value) {
  try {
    return scheme.assign(probe_row(schema, target, value), 0, 0).front();
  } catch (const InputError&) {
    return std::nullopt;  // a list value with no shard: no row can hold it
  }
}

}  // namespace

std::vector<bool> shards_to_visit(const ShardingScheme& scheme, const engine::TableSchema& schema,
                                  std::string_view sql) {
  const size_t shards = scheme.shards();
  std::vector<bool> all(shards, true);
  const ShardingKind kind = scheme.spec().kind;
  if (kind != ShardingKind::kRange && kind != ShardingKind::kList) return all;
  const engine::ExprPtr key = engine::parse_expression(scheme.spec().key);
  const std::string column =
      kind == ShardingKind::kRange ? monotonic_column(*key)
                                   : (key->kind == ExprKind::kColumn ? key->name : std::string());
  const int target = column.empty() ? -1 : schema.column_index(column);
  if (target < 0) return all;
  const engine::DataType type = schema.columns[static_cast<size_t>(target)].type;

  const engine::SelectQuery query = engine::parse_select(sql);
  std::vector<const Expr*> conjuncts;
  split_conjuncts(query.prewhere, &conjuncts);
  split_conjuncts(query.where, &conjuncts);

  std::optional<uint32_t> lowest;   // range: the shard of the tightest lower bound so far
  std::optional<uint32_t> highest;  // and of the tightest upper bound
  std::optional<std::vector<bool>> allowed;  // list (or range equality): the shards of IN values
  auto restrict_to = [&](const std::vector<bool>& mask) {
    if (!allowed) allowed = mask;
    for (size_t s = 0; s < shards; ++s) (*allowed)[s] = (*allowed)[s] && mask[s];
  };
  for (const Expr* c : conjuncts) {
    if (c->kind != ExprKind::kFunction || c->args.empty() || c->args[0]->kind != ExprKind::kColumn ||
        c->args[0]->name != column) {
      continue;
    }
    const std::string& op = c->name;
    if (op == "in") {
      std::vector<bool> mask(shards, false);
      bool usable = true;
      for (size_t a = 1; a < c->args.size() && usable; ++a) {
        if (c->args[a]->kind != ExprKind::kLiteral) {
          usable = false;
          break;
        }
        const auto value = literal_column(type, c->args[a]->literal);
        if (!value) {
          usable = false;
          break;
        }
        if (const auto s = shard_of(scheme, schema, static_cast<size_t>(target), *value)) mask[*s] = true;
      }
      if (usable) restrict_to(mask);
      continue;
    }
    if (c->args.size() != 2 || c->args[1]->kind != ExprKind::kLiteral) continue;
    const auto value = literal_column(type, c->args[1]->literal);
    if (!value) continue;
    const auto s = shard_of(scheme, schema, static_cast<size_t>(target), *value);
    if (op == "equals") {
      std::vector<bool> mask(shards, false);
      if (s) mask[*s] = true;
      restrict_to(mask);
    } else if (kind == ShardingKind::kRange && s) {
      // Strict and non-strict bounds alike: the bound's own shard stays (conservative).
      if (op == "greater" || op == "greaterOrEquals") lowest = std::max(lowest.value_or(0), *s);
      if (op == "less" || op == "lessOrEquals") {
        highest = std::min(highest.value_or(static_cast<uint32_t>(shards - 1)), *s);
      }
    }
  }
  std::vector<bool> visit = allowed.value_or(all);
  for (size_t s = 0; s < shards; ++s) {
    if (lowest && s < *lowest) visit[s] = false;
    if (highest && s > *highest) visit[s] = false;
  }
  return visit;
}

}  // namespace shardlab::sim::cluster
