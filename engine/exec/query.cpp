#include "shardlab/engine/query.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <numeric>

#include "base/errors.h"
#include "engine/common/parallel.h"
#include "engine/exec/key_condition.h"
#include "shardlab/engine/parser.h"
#include "engine/storage/column_reader.h"
#include "engine/types/order_bits.h"

namespace shardlab::engine {
namespace {

constexpr size_t kChunkGranules = 8;
// Granules per unit of parallel work: large enough to amortise set-up, small enough to keep
// two cores busy on a single partition.
constexpr size_t kUnitGranules = 64;

void collect_inputs(const ExprNode& node, std::vector<size_t>* out) {
  if (node.kind == ExprNode::Kind::kInput &&
      std::find(out->begin(), out->end(), node.input) == out->end())
    out->push_back(node.input);
  for (const auto& arg : node.args) collect_inputs(*arg, out);
}

void split_conjuncts(const ExprPtr& e, std::vector<ExprPtr>* out) {
  if (e->kind == ExprKind::kFunction && e->name == "and") {
    for (const auto& arg : e->args) split_conjuncts(arg, out);
  } else {
    out->push_back(e);
  }
}

ExprPtr clone_without_alias(const ExprPtr& e) {
  auto copy = std::make_shared<Expr>(*e);
  copy->alias.clear();
  return copy;
}

// Sorts rows by the ORDER BY columns; returns the first `keep` row numbers in order.
std::vector<uint32_t> sort_rows(const std::vector<const Column*>& keys,
                                const std::vector<bool>& desc, size_t rows, size_t keep) {
  keep = std::min(keep, rows);
  if (keep == 0) return {};
  // An integer or date first key compares as order bits (inverted for DESC): most comparisons
  // are decided there, without the per-type dispatch. Floats keep the dispatch, where NaN and
  // -0.0 compare as the operators say.
  const bool integer_first =
      !keys.empty() && (keys[0]->type.is_integer() || keys[0]->type.is_time());
  const uint64_t flip = !keys.empty() && desc[0] ? ~uint64_t{0} : 0;
  // A few rows out of many (ORDER BY ... LIMIT over a million groups) are picked in one pass
  // through a bounded heap, without an index or key image of every row.
  const bool top_k = integer_first && keep <= rows / 16;
  PodVector<uint64_t> first;  // the first key's bits per row, when every row gets sorted
  if (integer_first && !top_k) {
    first.resize(rows);
    visit_fixed(keys[0]->type, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* v = keys[0]->values<T>();
      for (size_t row = 0; row < rows; ++row) first[row] = order_bits(v[row]) ^ flip;
    });
  }
  auto first_bits = [&](uint32_t row) {
    if (!first.empty()) return first[row];
    uint64_t bits = 0;
    visit_fixed(keys[0]->type, [&](auto tag) {
      bits = order_bits(keys[0]->values<typename decltype(tag)::type>()[row]) ^ flip;
    });
    return bits;
  };
  auto less = [&](uint32_t a, uint32_t b) {
    size_t from = 0;
    if (integer_first) {
      const uint64_t x = first_bits(a), y = first_bits(b);
      if (x != y) return x < y;
      from = 1;
    }
    for (size_t k = from; k < keys.size(); ++k) {
      const Column& c = *keys[k];
      int cmp = 0;
      if (c.type.is_string_like()) {
        const auto x = c.string_at(a), y = c.string_at(b);
        cmp = x < y ? -1 : (y < x ? 1 : 0);
      } else {
        visit_fixed(c.type, [&](auto tag) {
          using T = typename decltype(tag)::type;
          const T x = c.values<T>()[a], y = c.values<T>()[b];
          cmp = x < y ? -1 : (y < x ? 1 : 0);
        });
      }
      if (cmp != 0) return desc[k] ? cmp > 0 : cmp < 0;
    }
    return a < b;
  };
  if (top_k) {
    // A max-heap under `less`: its front is the worst row kept. A row whose first key is worse
    // than that row's is rejected on the key alone; `less` settles ties, so the rows kept and
    // their order are exactly those of a full sort.
    std::vector<uint32_t> heap;
    heap.reserve(keep);
    uint64_t worst = 0;
    visit_fixed(keys[0]->type, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* v = keys[0]->values<T>();
      for (size_t at = 0; at < rows; ++at) {
        const auto row = static_cast<uint32_t>(at);
        if (heap.size() == keep) {
          if ((order_bits(v[row]) ^ flip) > worst || !less(row, heap.front())) continue;
          std::pop_heap(heap.begin(), heap.end(), less);
          heap.back() = row;
        } else {
          heap.push_back(row);
        }
        std::push_heap(heap.begin(), heap.end(), less);
        if (heap.size() == keep) worst = first_bits(heap.front());
      }
    });
    std::sort_heap(heap.begin(), heap.end(), less);
    return heap;
  }
  std::vector<uint32_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  if (keep < rows) {
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                      less);
    order.resize(keep);
  } else {
    std::sort(order.begin(), order.end(), less);
  }
  return order;
}

// `column = constant` with an integer or date column and a constant that fits its type:
// returns the column and the constant's little-endian bytes in that type.
std::optional<std::pair<size_t, uint64_t>> equals_on_planes(const ExprNode& node) {
  if (node.kind != ExprNode::Kind::kCall || node.fn != Fn::kEquals) return std::nullopt;
  const ExprNode* col = node.args[0].get();
  const ExprNode* cst = node.args[1].get();
  if (col->kind == ExprNode::Kind::kConst) std::swap(col, cst);
  if (col->kind != ExprNode::Kind::kInput || cst->kind != ExprNode::Kind::kConst || cst->interval)
    return std::nullopt;
  const DataType type = col->type;
  if (!(type.is_integer() || type.is_time()) || !(cst->type.is_integer() || cst->type.is_time()))
    return std::nullopt;
  __int128 value = 0;
  visit_fixed(cst->type,
              [&](auto tag) { value = cst->constant.values<typename decltype(tag)::type>()[0]; });
  std::optional<std::pair<size_t, uint64_t>> result;
  visit_fixed(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      if (value < std::numeric_limits<T>::min() || value > std::numeric_limits<T>::max()) return;
      const T narrowed = static_cast<T>(value);
      uint64_t bytes = 0;
      std::memcpy(&bytes, &narrowed, sizeof(T));
      result = std::make_pair(col->input, bytes);
    }
  });
  return result;
}

}  // namespace

struct Query::Plan {
  const TableSchema* schema = nullptr;
  std::string sql;
  std::vector<ColumnInfo> table_inputs;
  std::vector<ExprNodePtr> conjuncts;
  std::vector<std::vector<size_t>> conjunct_columns;
  // Conjuncts of the form `integer column = constant`, evaluated on the stored byte planes:
  // the column and the constant's bytes in the column's type.
  std::vector<std::optional<std::pair<size_t, uint64_t>>> equals_on_planes;
  // Conjuncts that read one LowCardinality column and nothing else: per part they become a
  // table of accepted dictionary codes, applied to the stored codes.
  std::vector<std::optional<size_t>> on_codes;
  std::vector<size_t> conjunct_order;
  std::unique_ptr<KeyCondition> key_condition;
  bool aggregate = false;
  std::vector<ExprNodePtr> group_keys;
  std::vector<AggregateSpec> aggregates;
  std::vector<ColumnInfo> post_inputs;
  std::vector<ExprNodePtr> select;
  std::vector<std::string> names;
  std::vector<ExprNodePtr> order;
  std::vector<bool> desc;
  ExprNodePtr having;
  std::optional<uint64_t> limit;
  uint64_t offset = 0;
  std::vector<size_t> output_columns;  // table columns the output stage reads
  std::string fingerprint;

  [[noreturn]] void fail(size_t pos, const std::string& message) const {
    throw InputError(format_sql_error(sql, pos, message));
  }
  uint64_t row_budget() const { return limit ? *limit + offset : UINT64_MAX; }
};

Query::Query() : plan_(std::make_unique<Plan>()) {}
Query::~Query() = default;
const std::string& Query::fingerprint() const { return plan_->fingerprint; }
bool Query::is_aggregate() const { return plan_->aggregate; }

std::unique_ptr<Query> Query::prepare(const TableSchema& schema, std::string_view sql) {
  std::unique_ptr<Query> query(new Query());
  Plan& p = *query->plan_;
  p.schema = &schema;
  p.sql = std::string(sql);
  SelectQuery ast = parse_select(p.sql);
  if (ast.table != schema.name)
    p.fail(ast.table_pos, fmt::format("unknown table '{}'; this data directory holds table '{}'",
                                      ast.table, schema.name));
  for (const auto& c : schema.columns) p.table_inputs.push_back({c.name, c.type});

  // SELECT * expands to every column.
  std::vector<ExprPtr> select;
  for (const ExprPtr& item : ast.select) {
    if (item->kind == ExprKind::kStar) {
      for (const auto& c : schema.columns) {
        auto col = std::make_shared<Expr>();
        col->kind = ExprKind::kColumn;
        col->name = c.name;
        col->pos = item->pos;
        select.push_back(col);
      }
    } else {
      select.push_back(item);
    }
  }

  // Aliases may be used anywhere, as in ClickHouse; an alias wins over a column of that name.
  std::map<std::string, ExprPtr> aliases;
  for (const ExprPtr& item : select)
    if (!item->alias.empty()) aliases[item->alias] = item;
  std::function<ExprPtr(const ExprPtr&, int)> substitute = [&](const ExprPtr& e,
                                                               int depth) -> ExprPtr {
    if (depth > 32) p.fail(e->pos, "aliases refer to each other in a cycle");
    if (e->kind == ExprKind::kColumn) {
      auto it = aliases.find(e->name);
      if (it != aliases.end() &&
          !(it->second->kind == ExprKind::kColumn && it->second->name == e->name))
        return substitute(clone_without_alias(it->second), depth + 1);
      return e;
    }
    if (e->args.empty()) return e;
    auto copy = std::make_shared<Expr>(*e);
    for (auto& arg : copy->args) arg = substitute(arg, depth + 1);
    return copy;
  };
  std::vector<ExprPtr> select_exprs;
  for (const ExprPtr& item : select) {
    ExprPtr e = item->kind == ExprKind::kColumn ? item : substitute(clone_without_alias(item), 0);
    p.names.push_back(item->alias.empty() ? item->to_string() : item->alias);
    select_exprs.push_back(e);
  }
  auto sub = [&](const ExprPtr& e) { return e ? substitute(e, 0) : e; };
  ExprPtr where = sub(ast.where), prewhere = sub(ast.prewhere), having = sub(ast.having);
  std::vector<ExprPtr> group_by;
  for (const auto& g : ast.group_by) group_by.push_back(sub(g));
  std::vector<ExprPtr> order_exprs;
  for (const auto& o : ast.order_by) {
    order_exprs.push_back(sub(o.expr));
    p.desc.push_back(o.descending);
  }
  p.limit = ast.limit;
  p.offset = ast.offset;

  // Aggregate calls in the SELECT list, HAVING and ORDER BY.
  std::vector<ExprPtr> aggregate_calls;
  std::function<void(const ExprPtr&, bool)> find_aggregates = [&](const ExprPtr& e, bool inside) {
    if (e->kind == ExprKind::kFunction && is_aggregate_function(e->name)) {
      if (inside)
        p.fail(e->pos, fmt::format("aggregate function {} is inside another aggregate function",
                                   e->to_string()));
      const std::string text = e->to_string();
      if (std::none_of(aggregate_calls.begin(), aggregate_calls.end(),
                       [&](const ExprPtr& a) { return a->to_string() == text; }))
        aggregate_calls.push_back(e);
      for (const auto& arg : e->args) find_aggregates(arg, true);
      return;
    }
    for (const auto& arg : e->args) find_aggregates(arg, inside);
  };
  for (const auto& e : select_exprs) find_aggregates(e, false);
  if (having) find_aggregates(having, false);
  for (const auto& e : order_exprs) find_aggregates(e, false);
  std::function<void(const ExprPtr&, const char*)> forbid = [&](const ExprPtr& e,
                                                                const char* where_text) {
    if (e->kind == ExprKind::kFunction && is_aggregate_function(e->name))
      p.fail(e->pos,
             fmt::format("aggregate function {} is not allowed in {}", e->to_string(), where_text));
    for (const auto& arg : e->args) forbid(arg, where_text);
  };
  if (where) forbid(where, "WHERE");
  if (prewhere) forbid(prewhere, "PREWHERE");
  for (const auto& g : group_by) forbid(g, "GROUP BY");

  p.aggregate = !group_by.empty() || !aggregate_calls.empty();
  if (having && !p.aggregate) p.fail(having->pos, "HAVING needs GROUP BY or an aggregate function");

  // Filter conjuncts, over the table's columns.
  std::vector<ExprPtr> conjunct_exprs;
  if (prewhere) split_conjuncts(prewhere, &conjunct_exprs);
  if (where) split_conjuncts(where, &conjunct_exprs);
  for (const ExprPtr& e : conjunct_exprs) {
    ExprNodePtr node = analyze_expression(*e, p.table_inputs, p.sql);
    if (!node->type.is_numeric() || node->type.is_float())
      p.fail(e->pos,
             fmt::format("expected a condition (a number treated as true/false), got {} '{}'",
                         node->type.name(), e->to_string()));
    p.conjuncts.push_back(node);
    std::vector<size_t> cols;
    collect_inputs(*node, &cols);
    p.conjunct_columns.push_back(cols);
    p.equals_on_planes.push_back(equals_on_planes(*node));
    p.on_codes.push_back(cols.size() == 1 &&
                                 schema.columns[cols[0]].type.id == TypeId::kLowCardinality
                             ? std::optional<size_t>(cols[0])
                             : std::nullopt);
  }
  // Cheapest conjuncts first: the ones reading the narrowest columns discard rows before the
  // wide columns are decompressed.
  auto cost = [&](size_t c) {
    size_t bytes = 0;
    for (size_t col : p.conjunct_columns[c]) {
      const DataType t = schema.columns[col].type;
      bytes += t.id == TypeId::kLowCardinality ? 1 : t.id == TypeId::kString ? 16 : t.width();
    }
    return bytes;
  };
  p.conjunct_order.resize(p.conjuncts.size());
  std::iota(p.conjunct_order.begin(), p.conjunct_order.end(), 0);
  std::stable_sort(p.conjunct_order.begin(), p.conjunct_order.end(),
                   [&](size_t a, size_t b) { return cost(a) < cost(b); });
  p.key_condition = std::make_unique<KeyCondition>(schema, p.conjuncts);

  std::string fp = "table:" + schema.name;
  for (const auto& c : p.conjuncts) fp += "|where:" + c->text;
  if (p.aggregate) {
    for (const ExprPtr& g : group_by) {
      p.group_keys.push_back(analyze_expression(*g, p.table_inputs, p.sql));
      const DataType t = p.group_keys.back()->type;
      p.post_inputs.push_back(
          {g->to_string(), t.id == TypeId::kLowCardinality ? DataType(TypeId::kString) : t});
      collect_inputs(*p.group_keys.back(), &p.output_columns);
      fp += "|key:" + p.group_keys.back()->text;
    }
    for (const ExprPtr& call : aggregate_calls) {
      AggregateSpec spec;
      spec.text = call->to_string();
      std::string name = call->name;
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      const size_t nargs = call->args.size();
      if (name == "count") {
        spec.kind = call->distinct ? AggregateKind::kUniqExact : AggregateKind::kCount;
        if (nargs > 1) p.fail(call->pos, "count expects at most one argument");
        if (call->distinct && nargs != 1)
          p.fail(call->pos, "count(DISTINCT x) expects one argument");
      } else {
        if (call->distinct) p.fail(call->pos, "DISTINCT is only supported in count(DISTINCT x)");
        if (nargs != 1)
          p.fail(call->pos, fmt::format("{} expects one argument, got {}", call->name, nargs));
        spec.kind = name == "sum"   ? AggregateKind::kSum
                    : name == "avg" ? AggregateKind::kAvg
                    : name == "min" ? AggregateKind::kMin
                    : name == "max" ? AggregateKind::kMax
                                    : AggregateKind::kUniqExact;
      }
      DataType arg_type = TypeId::kUInt64;
      if (nargs == 1 && (spec.kind != AggregateKind::kCount)) {
        spec.arg = analyze_expression(*call->args[0], p.table_inputs, p.sql);
        arg_type = spec.arg->type;
        if ((spec.kind == AggregateKind::kSum || spec.kind == AggregateKind::kAvg) &&
            !arg_type.is_numeric())
          p.fail(call->args[0]->pos,
                 fmt::format("{} expects a number, got {}", call->name, arg_type.name()));
        collect_inputs(*spec.arg, &p.output_columns);
      } else if (nargs == 1) {
        // count(x) counts rows: columns are never NULL. Still check x is valid.
        analyze_expression(*call->args[0], p.table_inputs, p.sql);
      }
      spec.result_type = aggregate_result_type(spec.kind, arg_type);
      p.post_inputs.push_back({spec.text, spec.result_type});
      fp += "|agg:" + spec.text;
      p.aggregates.push_back(std::move(spec));
    }
    // After aggregation, expressions may use GROUP BY keys and aggregates only.
    const size_t nkeys = group_by.size();
    SubtreeResolver resolver = [&](const Expr& e) -> std::optional<size_t> {
      const std::string text = e.to_string();
      for (size_t k = 0; k < nkeys; ++k)
        if (p.post_inputs[k].name == text) return k;
      if (e.kind == ExprKind::kFunction && is_aggregate_function(e.name))
        for (size_t a = 0; a < p.aggregates.size(); ++a)
          if (p.aggregates[a].text == text) return nkeys + a;
      if (e.kind == ExprKind::kColumn)
        p.fail(e.pos,
               fmt::format("column '{}' is not under an aggregate function and not in GROUP BY",
                           e.name));
      return std::nullopt;
    };
    for (const auto& e : select_exprs)
      p.select.push_back(analyze_expression(*e, p.post_inputs, p.sql, resolver));
    for (const auto& e : order_exprs)
      p.order.push_back(analyze_expression(*e, p.post_inputs, p.sql, resolver));
    if (having) p.having = analyze_expression(*having, p.post_inputs, p.sql, resolver);
  } else {
    for (const auto& e : select_exprs) {
      p.select.push_back(analyze_expression(*e, p.table_inputs, p.sql));
      collect_inputs(*p.select.back(), &p.output_columns);
    }
    for (const auto& e : order_exprs) {
      p.order.push_back(analyze_expression(*e, p.table_inputs, p.sql));
      collect_inputs(*p.order.back(), &p.output_columns);
    }
  }
  for (const auto& s : p.select) fp += "|select:" + s->text;
  for (size_t k = 0; k < p.order.size(); ++k)
    fp += "|order:" + p.order[k]->text + (p.desc[k] ? " DESC" : "");
  if (p.having) fp += "|having:" + p.having->text;
  if (p.limit) fp += fmt::format("|limit:{},{}", p.offset, *p.limit);
  p.fingerprint = fp;
  return query;
}

PartResult Query::run_part(const PartPtr& part) const {
  PartResult result = run_ranges(part, plan_->key_condition->select(*part));
  result.profile.parts_total = 1;
  result.profile.granules_total = part->granules();
  return result;
}

PartResult Query::empty_result() const {
  PartResult result;
  if (plan_->aggregate) {
    std::vector<DataType> key_types;
    for (const auto& k : plan_->group_keys) key_types.push_back(k->type);
    result.aggregate.emplace(key_types, plan_->aggregates);
  } else {
    result.rows.resize(plan_->select.size() + plan_->order.size());
  }
  return result;
}

namespace {

// Once a partial has read a sample of its rows, it reserves the groups they extrapolate to:
// one rehash instead of one per doubling of the table, each of which moves every group through
// fresh memory. Extrapolating by rows read, not rows aggregated, carries the filter's
// selectivity along. Skewed keys (a few users with most events) make it an overestimate, by
// less than 2x on the generated user ids.
void size_aggregation(PartResult* result) {
  constexpr uint64_t kMinSampleRows = 65536;
  const uint64_t read = result->profile.rows_read;
  const uint64_t expected = result->rows_expected;
  if (expected == 0 || read < std::max(kMinSampleRows, expected / 16)) return;
  result->rows_expected = 0;
  if (expected <= read) return;
  const double scale = static_cast<double>(expected) / static_cast<double>(read);
  result->aggregate->expect_rows(scale);
}

}  // namespace

PartResult Query::run_ranges(const PartPtr& part, const std::vector<GranuleRange>& ranges) const {
  PartResult result = empty_result();
  run_ranges_into(part, ranges, &result);
  return result;
}

void Query::run_ranges_into(const PartPtr& part, const std::vector<GranuleRange>& ranges,
                            PartResult* into, std::vector<ColumnFiles>* files) const {
  const Plan& p = *plan_;
  const TableSchema& schema = *p.schema;
  PartResult& result = *into;
  WorkProfile& profile = result.profile;
  const size_t width = p.select.size() + p.order.size();
  if (ranges.empty()) return;
  profile.parts_selected += 1;
  for (const auto& r : ranges) profile.granules_selected += r.end - r.begin;

  const size_t ncols = schema.columns.size();
  std::vector<ColumnStats> stats(ncols);
  std::vector<std::unique_ptr<ColumnReader>> readers(ncols);
  auto reader = [&](size_t col) -> ColumnReader& {
    if (!readers[col]) {
      ColumnFiles shared;
      if (files != nullptr) {
        files->resize(ncols);
        if (!(*files)[col].bin) (*files)[col] = ColumnFiles::open(*part, col);
        shared = (*files)[col];
      }
      readers[col] = std::make_unique<ColumnReader>(part, col, &stats[col], std::move(shared));
    }
    return *readers[col];
  };
  const uint64_t budget = p.row_budget();
  uint64_t rows_collected = 0;

  // Accepted codes of this part's dictionaries, for the conjuncts on one LowCardinality
  // column: the conjunct evaluated once on every dictionary entry.
  std::vector<std::vector<uint8_t>> accept(p.conjuncts.size());
  for (size_t c = 0; c < p.conjuncts.size(); ++c) {
    if (!p.on_codes[c]) continue;
    const size_t col = *p.on_codes[c];
    Column entries(TypeId::kLowCardinality);
    entries.dict = part->dictionary(col);
    const size_t n = entries.dict->size();
    if (n > 256) continue;
    entries.resize_fixed(n);
    for (uint32_t code = 0; code < n; ++code) entries.values<uint32_t>()[code] = code;
    std::vector<const Column*> entry_inputs(ncols, nullptr);
    entry_inputs[col] = &entries;
    accept[c].assign(256, 1);
    evaluate_filter(*p.conjuncts[c], entry_inputs, n, accept[c].data());
    std::fill(accept[c].begin() + static_cast<std::ptrdiff_t>(n), accept[c].end(), 0);
  }
  std::vector<Column> loaded(ncols);
  std::vector<uint8_t> is_loaded(ncols);
  std::vector<const Column*> inputs(ncols, nullptr);
  PodVector<uint8_t> mask;
  for (const GranuleRange& range : ranges) {
    for (size_t first = range.begin; first < range.end; first += kChunkGranules) {
      if (!p.aggregate && p.order.empty() && rows_collected >= budget) break;
      const size_t count = std::min(kChunkGranules, range.end - first);
      size_t rows = 0;
      for (size_t g = first; g < first + count; ++g) rows += part->granule_rows(g);
      std::fill(is_loaded.begin(), is_loaded.end(), 0);
      auto load = [&](size_t col) {
        if (is_loaded[col]) return;
        loaded[col] = reader(col).read(first, count);
        inputs[col] = &loaded[col];
        is_loaded[col] = 1;
      };
      mask.assign(rows, 1);
      bool filtered = false, empty = false;
      for (size_t c : p.conjunct_order) {
        if (c < 64 && !((range.conjuncts >> c) & 1)) continue;  // the index decided it
        const auto& on_planes = p.equals_on_planes[c];
        if (on_planes && !is_loaded[on_planes->first]) {
          reader(on_planes->first).filter_equals(first, count, on_planes->second, mask.data());
        } else if (!accept[c].empty() && !is_loaded[*p.on_codes[c]] &&
                   reader(*p.on_codes[c])
                       .filter_codes(first, count, accept[c].data(), mask.data())) {
          // Decided on the stored codes.
        } else {
          for (size_t col : p.conjunct_columns[c]) load(col);
          evaluate_filter(*p.conjuncts[c], inputs, rows, mask.data());
        }
        filtered = true;
        if (std::find(mask.begin(), mask.end(), 1) == mask.end()) {
          empty = true;
          break;
        }
      }
      profile.granules_read += count;
      profile.rows_read += rows;
      if (empty) continue;
      const size_t passed = filtered ? count_selected(mask.data(), rows) : rows;
      profile.rows_passed += passed;
      // The needed columns, narrowed to the rows that passed. Columns not read yet are read
      // for those rows only (late materialisation).
      std::vector<Column> narrowed(ncols);
      std::vector<const Column*> out_inputs(ncols, nullptr);
      for (size_t col : p.output_columns) {
        if (passed == rows) {
          load(col);
          out_inputs[col] = &loaded[col];
        } else if (is_loaded[col]) {
          narrowed[col] = filter_column(loaded[col], mask.data(), passed);
          out_inputs[col] = &narrowed[col];
        } else {
          narrowed[col] = reader(col).read_selected(first, count, mask.data());
          out_inputs[col] = &narrowed[col];
        }
      }
      if (p.aggregate) {
        // A key or argument that is a plain column is used in place, not copied.
        std::vector<Column> computed(p.group_keys.size() + p.aggregates.size());
        auto column_of = [&](const ExprNode& node, size_t slot) -> const Column* {
          if (node.kind == ExprNode::Kind::kInput) return out_inputs[node.input];
          computed[slot] = evaluate_column(node, out_inputs, passed);
          return &computed[slot];
        };
        std::vector<const Column*> keys, args(p.aggregates.size(), nullptr);
        for (size_t k = 0; k < p.group_keys.size(); ++k)
          keys.push_back(column_of(*p.group_keys[k], k));
        for (size_t a = 0; a < p.aggregates.size(); ++a)
          if (p.aggregates[a].arg)
            args[a] = column_of(*p.aggregates[a].arg, p.group_keys.size() + a);
        result.aggregate->add(keys, args, passed);
        profile.rows_aggregated += passed;
        size_aggregation(&result);
        continue;
      }
      for (size_t idx = 0; idx < width; ++idx) {
        const ExprNode& node =
            idx < p.select.size() ? *p.select[idx] : *p.order[idx - p.select.size()];
        append_column(&result.rows[idx], evaluate_column(node, out_inputs, passed));
      }
      rows_collected += passed;
      // Keep memory bounded under ORDER BY ... LIMIT: cut back to the best `budget` rows.
      if (!p.order.empty() && budget != UINT64_MAX &&
          rows_collected > std::max<uint64_t>(2 * budget, 65536)) {
        std::vector<const Column*> keys;
        for (size_t k = 0; k < p.order.size(); ++k)
          keys.push_back(&result.rows[p.select.size() + k]);
        const auto keep = sort_rows(keys, p.desc, rows_collected, budget);
        for (auto& c : result.rows) c = gather_column(c, keep.data(), keep.size());
        rows_collected = keep.size();
      }
    }
  }
  for (size_t col = 0; col < ncols; ++col) {
    if (!readers[col]) continue;
    ColumnStats& total = profile.columns[schema.columns[col].name];
    total.compressed_bytes += stats[col].compressed_bytes;
    total.uncompressed_bytes += stats[col].uncompressed_bytes;
  }
}

QueryResult Query::finish(std::vector<PartResult> partials, unsigned threads) const {
  const Plan& p = *plan_;
  QueryResult out;
  out.names = p.names;
  for (const auto& partial : partials) out.profile.add(partial.profile);
  std::vector<Column> table;  // columns the final stage evaluates over
  size_t rows = 0;
  std::vector<Column> final_columns;  // the final stage's computed columns
  std::vector<const Column*> finals;  // SELECT then ORDER BY columns, computed or from `table`
  if (p.aggregate) {
    // The first partial is the base: merging it into an empty aggregator would copy it, and
    // groups keep the same first-seen order either way.
    Aggregator total = partials.empty() ? std::move(*empty_result().aggregate)
                                        : std::move(*partials.front().aggregate);
    std::vector<const Aggregator*> others;
    for (size_t idx = 1; idx < partials.size(); ++idx) others.push_back(&*partials[idx].aggregate);
    table = std::move(total).merge_and_finish(others, threads);
    rows = table.empty() ? 0 : table[0].rows;
    out.profile.groups = rows;  // finish() gives one row per group
    std::vector<const Column*> inputs;
    for (const auto& c : table) inputs.push_back(&c);
    if (p.having) {
      PodVector<uint8_t> mask(rows, 1);
      evaluate_filter(*p.having, inputs, rows, mask.data());
      const size_t kept = count_selected(mask.data(), rows);
      for (auto& c : table) c = filter_column(c, mask.data(), kept);
      rows = kept;
      inputs.clear();
      for (const auto& c : table) inputs.push_back(&c);
    }
    // A plain reference to a key or aggregate is used in place: a million groups would
    // otherwise be copied once per mention before ORDER BY ... LIMIT keeps a few of them.
    final_columns.reserve(p.select.size() + p.order.size());
    auto add_final = [&](const ExprNode& node) {
      if (node.kind == ExprNode::Kind::kInput) {
        finals.push_back(inputs[node.input]);
      } else {
        final_columns.push_back(evaluate_column(node, inputs, rows));
        finals.push_back(&final_columns.back());
      }
    };
    for (const auto& s : p.select) add_final(*s);
    for (const auto& o : p.order) add_final(*o);
  } else {
    final_columns.resize(p.select.size() + p.order.size());
    for (size_t idx = 0; idx < final_columns.size(); ++idx) {
      const ExprNode& node =
          idx < p.select.size() ? *p.select[idx] : *p.order[idx - p.select.size()];
      final_columns[idx] = Column(node.type);
    }
    for (auto& partial : partials)
      for (size_t idx = 0; idx < final_columns.size(); ++idx)
        append_column(&final_columns[idx], partial.rows[idx]);
    rows = final_columns.empty() ? 0 : final_columns[0].rows;
    for (const Column& c : final_columns) finals.push_back(&c);
  }
  // ORDER BY, then OFFSET and LIMIT.
  const uint64_t budget = p.row_budget();
  std::vector<uint32_t> order;
  if (!p.order.empty()) {
    std::vector<const Column*> keys;
    for (size_t k = 0; k < p.order.size(); ++k) keys.push_back(finals[p.select.size() + k]);
    order = sort_rows(keys, p.desc, rows, budget);
  } else {
    order.resize(std::min<uint64_t>(rows, budget));
    std::iota(order.begin(), order.end(), 0);
  }
  const size_t skip = std::min<size_t>(order.size(), p.offset);
  order.erase(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(skip));
  for (size_t idx = 0; idx < p.select.size(); ++idx) {
    out.columns.push_back(gather_column(*finals[idx], order.data(), order.size()));
    out.profile.result_bytes += out.columns.back().byte_size();
  }
  out.profile.result_rows = order.size();
  return out;
}

QueryResult Query::run(const std::vector<PartPtr>& parts, unsigned threads) const {
  // Work units are slices of a part's selected granules, cut the same way whatever the thread
  // count, and partial results merge in a fixed order: answers and profiles do not depend on
  // the number of threads (save the last bits of float sums, see below).
  struct Unit {
    size_t part;
    std::vector<GranuleRange> ranges;
  };
  std::vector<Unit> units;
  std::vector<WorkProfile> part_level(parts.size());
  for (size_t idx = 0; idx < parts.size(); ++idx) {
    part_level[idx].parts_total = 1;
    part_level[idx].granules_total = parts[idx]->granules();
    const std::vector<GranuleRange> ranges = plan_->key_condition->select(*parts[idx]);
    if (ranges.empty()) continue;
    part_level[idx].parts_selected = 1;
    Unit unit{idx, {}};
    size_t granules = 0;
    for (GranuleRange range : ranges) {
      while (range.begin < range.end) {
        const size_t take = std::min(range.end - range.begin, kUnitGranules - granules);
        unit.ranges.push_back({range.begin, range.begin + take, range.conjuncts});
        range.begin += take;
        granules += take;
        if (granules == kUnitGranules) {
          units.push_back(std::move(unit));
          unit = Unit{idx, {}};
          granules = 0;
        }
      }
    }
    if (!unit.ranges.empty()) units.push_back(std::move(unit));
  }
  // Aggregations accumulate one partial per thread: merging per-unit partials would cost as
  // much as aggregating again when groups are many. Thread t takes the t-th of T equal,
  // contiguous shares of the selected granules (units cut again at the shares' edges), so the
  // threads finish together, and float sums are reproducible for a given thread count. Row
  // queries keep one partial per unit, unit u on thread u mod T, so LIMIT without ORDER BY
  // sees units in order.
  threads = std::max(
      1u, std::min<unsigned>(threads, static_cast<unsigned>(std::max<size_t>(units.size(), 1))));
  const bool per_thread = plan_->aggregate;
  std::vector<unsigned> owner(units.size());
  for (size_t idx = 0; idx < units.size(); ++idx) owner[idx] = static_cast<unsigned>(idx % threads);
  if (per_thread && threads > 1) {
    size_t total = 0;
    for (const Unit& unit : units)
      for (const GranuleRange& range : unit.ranges) total += range.end - range.begin;
    std::vector<Unit> shared;
    owner.clear();
    size_t seen = 0;  // granules handed out so far
    for (const Unit& unit : units) {
      Unit piece{unit.part, {}};
      unsigned piece_owner = 0;
      for (GranuleRange range : unit.ranges) {
        while (range.begin < range.end) {
          const auto t = static_cast<unsigned>(seen * threads / total);
          if (!piece.ranges.empty() && t != piece_owner) {
            shared.push_back(std::move(piece));
            owner.push_back(piece_owner);
            piece = Unit{unit.part, {}};
          }
          piece_owner = t;
          // The first granule of the next share: the least i with i * threads / total > t.
          const size_t next_share = ((t + 1) * total + threads - 1) / threads;
          const size_t take = std::min(range.end - range.begin, next_share - seen);
          piece.ranges.push_back({range.begin, range.begin + take, range.conjuncts});
          range.begin += take;
          seen += take;
        }
      }
      if (!piece.ranges.empty()) {
        shared.push_back(std::move(piece));
        owner.push_back(piece_owner);
      }
    }
    units = std::move(shared);
  }
  std::vector<PartResult> partials(per_thread ? threads : units.size());
  for (auto& partial : partials) partial = empty_result();
  if (per_thread) {
    for (size_t idx = 0; idx < units.size(); ++idx) {
      const PartPtr& part = parts[units[idx].part];
      for (const GranuleRange& range : units[idx].ranges)
        for (size_t g = range.begin; g < range.end; ++g)
          partials[owner[idx]].rows_expected += part->granule_rows(g);
    }
  }
  // Each thread keeps the column files of the part it is on: its units are in part order.
  struct OpenPart {
    size_t part = SIZE_MAX;
    std::vector<ColumnFiles> files;
  };
  std::vector<OpenPart> open(threads);
  auto run_unit = [&](size_t idx, unsigned thread) {
    PartResult& into = partials[per_thread ? thread : idx];
    OpenPart& current = open[thread];
    if (current.part != units[idx].part) {
      current.files.clear();
      current.part = units[idx].part;
    }
    const uint64_t selected_before = into.profile.parts_selected;
    run_ranges_into(parts[units[idx].part], units[idx].ranges, &into, &current.files);
    into.profile.parts_selected = selected_before;  // counted once per part below
  };
  const bool first_rows_only = !plan_->aggregate && plan_->order.empty() && plan_->limit;
  if (threads <= 1 || first_rows_only) {
    // LIMIT without ORDER BY wants the first rows in unit order: stop once it has them.
    uint64_t collected = 0;
    for (size_t idx = 0; idx < units.size() && collected < plan_->row_budget(); ++idx) {
      run_unit(idx, 0);
      if (first_rows_only && !partials[idx].rows.empty()) collected += partials[idx].rows[0].rows;
    }
  } else {
    run_in_parallel(threads, [&](unsigned t) {
      for (size_t idx = 0; idx < units.size(); ++idx)
        if (owner[idx] == t) run_unit(idx, t);
    });
  }
  for (const WorkProfile& level : part_level) {
    PartResult counts = empty_result();
    counts.profile = level;
    partials.push_back(std::move(counts));
  }
  return finish(std::move(partials), threads);
}

}  // namespace shardlab::engine
