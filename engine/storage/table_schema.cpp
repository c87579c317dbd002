#include "shardlab/engine/table_schema.h"

#include <algorithm>
#include <functional>

#include "base/errors.h"
#include "shardlab/engine/expression.h"
#include "shardlab/engine/parser.h"

namespace shardlab::engine {

const char* const kDefaultUserBehaviorDdl = R"(CREATE TABLE user_behavior (
    user_id    UInt64,
    item_id    UInt64,
    action     LowCardinality(String),
    event_time DateTime,
    province   LowCardinality(String),
    gender     LowCardinality(String)
) ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (event_time, user_id)
)";

namespace {

// An explicit stack, not recursion: a chain such as a + b + c + ... is as deep as it is long.
void collect_columns(const Expr& root, std::vector<std::string>* out) {
  std::vector<const Expr*> stack{&root};
  while (!stack.empty()) {
    const Expr& e = *stack.back();
    stack.pop_back();
    if (e.kind == ExprKind::kColumn) out->push_back(e.name);
    for (auto arg = e.args.rbegin(); arg != e.args.rend(); ++arg) stack.push_back(arg->get());
  }
}

uint64_t setting_uint(std::string_view ddl, const Setting& s) {
  if (s.value.kind != Literal::Kind::kUInt)
    throw InputError(format_sql_error(
        ddl, s.pos, fmt::format("setting {} expects a non-negative integer", s.name)));
  return s.value.u;
}

void check_unique_columns(std::string_view ddl, const std::vector<ColumnDef>& columns) {
  for (size_t idx = 0; idx < columns.size(); ++idx)
    for (size_t other = 0; other < idx; ++other)
      if (columns[idx].name == columns[other].name)
        throw InputError(format_sql_error(ddl, columns[idx].pos,
                                          fmt::format("duplicate column '{}'", columns[idx].name)));
}

// Sets schema->key_columns from ORDER BY, which may name only columns of the schema.
void resolve_sorting_key(std::string_view ddl, const std::vector<ExprPtr>& order_by,
                         TableSchema* schema) {
  for (const ExprPtr& key : order_by) {
    if (key->kind != ExprKind::kColumn)
      throw InputError(format_sql_error(ddl, key->pos,
                                        "expected a column name in ORDER BY (expressions in the "
                                        "sorting key are not supported)"));
    const int idx = schema->column_index(key->name);
    if (idx < 0)
      throw InputError(format_sql_error(ddl, key->pos,
                                        fmt::format("unknown column '{}' in ORDER BY", key->name)));
    schema->key_columns.push_back(static_cast<size_t>(idx));
  }
}

// Sets schema->partition_by and the minmax columns it reads, after checking that the
// expression is valid over `inputs` and of an integer or date type.
void resolve_partition_key(std::string_view ddl, const ExprPtr& partition_by,
                           const std::vector<ColumnInfo>& inputs, TableSchema* schema) {
  // Analysing the expression checks its columns, functions and argument types.
  ExprNodePtr node = analyze_expression(*partition_by, inputs, ddl);
  if (node->type.is_float() || node->type.is_string_like())
    throw InputError(format_sql_error(
        ddl, partition_by->pos,
        "expected an integer or date partition expression, got " + node->type.name()));
  schema->partition_by = partition_by;
  std::vector<std::string> names;
  collect_columns(*partition_by, &names);
  for (const auto& name : names) {
    const auto idx = static_cast<size_t>(schema->column_index(name));
    if (std::find(schema->minmax_columns.begin(), schema->minmax_columns.end(), idx) ==
        schema->minmax_columns.end())
      schema->minmax_columns.push_back(idx);
  }
}

// Applies the SETTINGS clause over the defaults in *st, then checks the result's ranges.
void apply_settings(std::string_view ddl, const std::vector<Setting>& settings, TableSettings* st) {
  const std::pair<const char*, uint64_t*> kUintSettings[] = {
      {"index_granularity", &st->index_granularity},
      {"min_compress_block_size", &st->min_compress_block_size},
      {"max_compress_block_size", &st->max_compress_block_size},
      {"parts_to_delay_insert", &st->parts_to_delay_insert},
      {"parts_to_throw_insert", &st->parts_to_throw_insert},
      {"max_delay_to_insert", &st->max_delay_to_insert_s},
      {"max_parts_to_merge_at_once", &st->max_parts_to_merge_at_once},
      {"max_bytes_to_merge_at_max_space_in_pool", &st->max_bytes_to_merge},
      {"max_suspicious_broken_parts", &st->max_suspicious_broken_parts},
  };
  for (const Setting& s : settings) {
    bool known = false;
    for (const auto& [name, target] : kUintSettings) {
      if (s.name == name) {
        *target = setting_uint(ddl, s);
        known = true;
      }
    }
    if (!known)
      throw InputError(format_sql_error(
          ddl, s.pos,
          fmt::format("unknown setting '{}'; expected one of index_granularity, "
                      "min_compress_block_size, max_compress_block_size, parts_to_delay_insert, "
                      "parts_to_throw_insert, max_delay_to_insert, max_parts_to_merge_at_once, "
                      "max_bytes_to_merge_at_max_space_in_pool, max_suspicious_broken_parts",
                      s.name)));
  }
  if (st->index_granularity == 0 || st->index_granularity > (1u << 20))
    throw InputError("index_granularity must be between 1 and 1048576");
  if (st->parts_to_delay_insert > st->parts_to_throw_insert)
    throw InputError("parts_to_delay_insert must not exceed parts_to_throw_insert");
  if (st->max_parts_to_merge_at_once < 2)
    throw InputError("max_parts_to_merge_at_once must be >= 2");
}

}  // namespace

int TableSchema::column_index(std::string_view column) const {
  for (size_t idx = 0; idx < columns.size(); ++idx)
    if (columns[idx].name == column) return static_cast<int>(idx);
  return -1;
}

TableSchema TableSchema::from_ddl(std::string_view ddl) {
  CreateTable create = parse_create_table(ddl);
  TableSchema schema;
  schema.name = create.name;
  schema.columns = create.columns;
  schema.ddl = std::string(ddl);
  check_unique_columns(ddl, schema.columns);
  resolve_sorting_key(ddl, create.order_by, &schema);

  std::vector<ColumnInfo> inputs;
  for (const auto& col : schema.columns) inputs.push_back({col.name, col.type});
  if (create.partition_by) resolve_partition_key(ddl, create.partition_by, inputs, &schema);
  if (create.ttl) {
    ExprNodePtr node = analyze_expression(*create.ttl, inputs, ddl);
    if (!node->type.is_time())
      throw InputError(format_sql_error(ddl, create.ttl->pos,
                                        "expected a Date or DateTime TTL expression such as "
                                        "event_time + INTERVAL 1 YEAR, got " +
                                            node->type.name()));
    schema.ttl = create.ttl;
  }
  apply_settings(ddl, create.settings, &schema.settings);
  return schema;
}

}  // namespace shardlab::engine
