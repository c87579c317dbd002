#include "engine/exec/query_plan.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "base/errors.h"
#include "shardlab/engine/parser.h"

namespace shardlab::engine {
namespace {

// Appends the inputs `root` reads, each once, in the order a left-to-right walk meets them.
// An explicit stack: a chain of `+` is as deep as it is long.
void collect_inputs(const ExprNode& root, std::vector<size_t>* out) {
  std::vector<const ExprNode*> stack{&root};
  while (!stack.empty()) {
    const ExprNode& node = *stack.back();
    stack.pop_back();
    if (node.kind == ExprNode::Kind::kInput &&
        std::find(out->begin(), out->end(), node.input) == out->end())
      out->push_back(node.input);
    for (auto arg = node.args.rbegin(); arg != node.args.rend(); ++arg) stack.push_back(arg->get());
  }
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

// The clauses of a SELECT with SELECT * expanded and aliases substituted, ready for analysis.
struct Clauses {
  std::vector<ExprPtr> select;
  ExprPtr where, prewhere, having;
  std::vector<ExprPtr> group_by;
  std::vector<ExprPtr> order;
  std::vector<ExprPtr> aggregate_calls;  // distinct aggregate calls of SELECT, HAVING, ORDER BY
};

// SELECT * expands to every column.
std::vector<ExprPtr> expand_star(const SelectQuery& ast, const TableSchema& schema) {
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
  return select;
}

// Aliases may be used anywhere, as in ClickHouse; an alias wins over a column of that name.
// The walk keeps its own stack (a chain of `+` is as deep as it is long) and the aliases being
// expanded on the way down: meeting one of them again is a cycle (a -> b -> a), however deep
// the expressions between. Expansion can multiply the size of a statement (b AS a + a, c AS
// b + b, ...), so the elements it yields count against kMaxExpressionElements.
class AliasSubstitution {
 public:
  AliasSubstitution(const std::vector<ExprPtr>& select, const QueryPlan& plan) : plan_(plan) {
    for (const ExprPtr& item : select)
      if (!item->alias.empty()) aliases_[item->alias] = item;
  }

  ExprPtr operator()(const ExprPtr& e) const { return e ? substitute(e) : e; }
  ExprPtr substitute(const ExprPtr& root) const;

 private:
  // A copy of a call whose arguments are being substituted.
  struct Frame {
    std::shared_ptr<Expr> copy;
    size_t next_arg = 0;
    size_t aliases_opened = 0;  // entries of `expanding` this node's alias hops added
  };
  // The substitute for `e` if it has no arguments; otherwise pushes its frame and returns null.
  ExprPtr open(const ExprPtr& e, std::vector<Frame>* stack,
               std::vector<std::string>* expanding) const;
  void count_element(size_t pos) const;

  const QueryPlan& plan_;
  std::map<std::string, ExprPtr> aliases_;
  mutable size_t elements_ = 0;
};

void AliasSubstitution::count_element(size_t pos) const {
  if (++elements_ > kMaxExpressionElements)
    plan_.fail(pos, fmt::format("with its aliases substituted, the statement has more than {} "
                                "expression elements (the limit is max_ast_elements)",
                                kMaxExpressionElements));
}

ExprPtr AliasSubstitution::open(const ExprPtr& e, std::vector<Frame>* stack,
                                std::vector<std::string>* expanding) const {
  ExprPtr node = e;
  size_t opened = 0;
  for (;;) {
    count_element(node->pos);
    if (node->kind != ExprKind::kColumn) break;
    auto it = aliases_.find(node->name);
    if (it == aliases_.end() ||
        (it->second->kind == ExprKind::kColumn && it->second->name == node->name))
      break;
    if (std::find(expanding->begin(), expanding->end(), it->first) != expanding->end())
      plan_.fail(node->pos, "aliases refer to each other in a cycle");
    expanding->push_back(it->first);
    ++opened;
    node = it->second;
  }
  if (node->args.empty()) {
    expanding->resize(expanding->size() - opened);
    return node->alias.empty() ? node : clone_without_alias(node);
  }
  auto copy = std::make_shared<Expr>(*node);
  copy->alias.clear();
  stack->push_back({std::move(copy), 0, opened});
  return nullptr;
}

ExprPtr AliasSubstitution::substitute(const ExprPtr& root) const {
  std::vector<Frame> stack;
  std::vector<std::string> expanding;
  ExprPtr done = open(root, &stack, &expanding);  // the node last finished, for the top frame
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (done) top.copy->args[top.next_arg++] = std::move(done);
    if (top.next_arg < top.copy->args.size()) {
      done = open(top.copy->args[top.next_arg], &stack, &expanding);  // may invalidate `top`
      continue;
    }
    expanding.resize(expanding.size() - top.aliases_opened);
    done = std::move(top.copy);
    stack.pop_back();
  }
  return done;
}

// Substitutes aliases in every clause; records the output names and ORDER BY directions.
Clauses substitute_aliases(const SelectQuery& ast, const std::vector<ExprPtr>& select,
                           QueryPlan* plan) {
  const AliasSubstitution sub(select, *plan);
  Clauses clauses;
  for (const ExprPtr& item : select) {
    ExprPtr e = item->kind == ExprKind::kColumn ? item : sub.substitute(clone_without_alias(item));
    plan->names.push_back(item->alias.empty() ? item->to_string() : item->alias);
    clauses.select.push_back(e);
  }
  clauses.where = sub(ast.where);
  clauses.prewhere = sub(ast.prewhere);
  clauses.having = sub(ast.having);
  for (const auto& g : ast.group_by) clauses.group_by.push_back(sub(g));
  for (const auto& o : ast.order_by) {
    clauses.order.push_back(sub(o.expr));
    plan->desc.push_back(o.descending);
  }
  return clauses;
}

// The distinct aggregate calls of expressions, in the order a left-to-right walk meets them.
class AggregateCollector {
 public:
  explicit AggregateCollector(const QueryPlan& plan) : plan_(plan) {}

  // Adds the calls in `root`; fails on an aggregate call inside another.
  void add(const ExprPtr& root);
  std::vector<ExprPtr> take() { return std::move(calls_); }

 private:
  const QueryPlan& plan_;
  std::vector<ExprPtr> calls_;
  std::set<std::string> texts_;
};

void AggregateCollector::add(const ExprPtr& root) {
  std::vector<std::pair<const ExprPtr*, bool>> stack{{&root, false}};  // node, inside a call
  while (!stack.empty()) {
    const auto [node, outer_inside] = stack.back();
    stack.pop_back();
    const ExprPtr& e = *node;
    bool inside = outer_inside;
    if (e->kind == ExprKind::kFunction && is_aggregate_function(e->name)) {
      if (inside)
        plan_.fail(e->pos, fmt::format("aggregate function {} is inside another aggregate function",
                                       e->to_string_up_to(kMaxNodeTextChars)));
      if (texts_.insert(e->to_string()).second) calls_.push_back(e);
      inside = true;
    }
    for (auto arg = e->args.rbegin(); arg != e->args.rend(); ++arg)
      stack.push_back({&*arg, inside});
  }
}

void forbid_aggregates(const ExprPtr& root, const char* where_text, const QueryPlan& plan) {
  std::vector<const Expr*> stack{root.get()};
  while (!stack.empty()) {
    const Expr& e = *stack.back();
    stack.pop_back();
    if (e.kind == ExprKind::kFunction && is_aggregate_function(e.name))
      plan.fail(e.pos, fmt::format("aggregate function {} is not allowed in {}",
                                   e.to_string_up_to(kMaxNodeTextChars), where_text));
    for (auto arg = e.args.rbegin(); arg != e.args.rend(); ++arg) stack.push_back(arg->get());
  }
}

// Aggregate calls in the SELECT list, HAVING and ORDER BY; none in WHERE, PREWHERE, GROUP BY.
void check_aggregates(Clauses* clauses, QueryPlan* plan) {
  AggregateCollector collector(*plan);
  for (const auto& e : clauses->select) collector.add(e);
  if (clauses->having) collector.add(clauses->having);
  for (const auto& e : clauses->order) collector.add(e);
  clauses->aggregate_calls = collector.take();
  if (clauses->where) forbid_aggregates(clauses->where, "WHERE", *plan);
  if (clauses->prewhere) forbid_aggregates(clauses->prewhere, "PREWHERE", *plan);
  for (const auto& g : clauses->group_by) forbid_aggregates(g, "GROUP BY", *plan);
  plan->aggregate = !clauses->group_by.empty() || !clauses->aggregate_calls.empty();
  if (clauses->having && !plan->aggregate)
    plan->fail(clauses->having->pos, "HAVING needs GROUP BY or an aggregate function");
}

// Filter conjuncts, over the table's columns, cheapest first; then the key condition.
void plan_filter(const Clauses& clauses, QueryPlan* plan) {
  const TableSchema& schema = *plan->schema;
  std::vector<ExprPtr> conjunct_exprs;
  if (clauses.prewhere) split_conjuncts(clauses.prewhere, &conjunct_exprs);
  if (clauses.where) split_conjuncts(clauses.where, &conjunct_exprs);
  for (const ExprPtr& e : conjunct_exprs) {
    ExprNodePtr node = analyze_expression(*e, plan->table_inputs, plan->sql);
    if (!node->type.is_numeric() || node->type.is_float())
      plan->fail(e->pos,
                 fmt::format("expected a condition (a number treated as true/false), got {} '{}'",
                             node->type.name(), e->to_string()));
    plan->conjuncts.push_back(node);
    std::vector<size_t> cols;
    collect_inputs(*node, &cols);
    plan->conjunct_columns.push_back(cols);
    plan->equals_on_planes.push_back(equals_on_planes(*node));
    plan->on_codes.push_back(cols.size() == 1 &&
                                     schema.columns[cols[0]].type.id == TypeId::kLowCardinality
                                 ? std::optional<size_t>(cols[0])
                                 : std::nullopt);
  }
  // Cheapest conjuncts first: the ones reading the narrowest columns discard rows before the
  // wide columns are decompressed.
  auto cost = [&](size_t c) {
    size_t bytes = 0;
    for (size_t col : plan->conjunct_columns[c]) {
      const DataType t = schema.columns[col].type;
      bytes += t.id == TypeId::kLowCardinality ? 1 : t.id == TypeId::kString ? 16 : t.width();
    }
    return bytes;
  };
  plan->conjunct_order.resize(plan->conjuncts.size());
  std::iota(plan->conjunct_order.begin(), plan->conjunct_order.end(), 0);
  std::stable_sort(plan->conjunct_order.begin(), plan->conjunct_order.end(),
                   [&](size_t a, size_t b) { return cost(a) < cost(b); });
  plan->key_condition = std::make_unique<KeyCondition>(schema, plan->conjuncts);
}

// One aggregate call: its kind, argument and result type.
AggregateSpec plan_aggregate(const ExprPtr& call, QueryPlan* plan) {
  AggregateSpec spec;
  spec.text = call->to_string();
  std::string name = call->name;
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const size_t nargs = call->args.size();
  if (name == "count") {
    spec.kind = call->distinct ? AggregateKind::kUniqExact : AggregateKind::kCount;
    if (nargs > 1) plan->fail(call->pos, "count expects at most one argument");
    if (call->distinct && nargs != 1)
      plan->fail(call->pos, "count(DISTINCT x) expects one argument");
  } else {
    if (call->distinct) plan->fail(call->pos, "DISTINCT is only supported in count(DISTINCT x)");
    if (nargs != 1)
      plan->fail(call->pos, fmt::format("{} expects one argument, got {}", call->name, nargs));
    spec.kind = name == "sum"   ? AggregateKind::kSum
                : name == "avg" ? AggregateKind::kAvg
                : name == "min" ? AggregateKind::kMin
                : name == "max" ? AggregateKind::kMax
                                : AggregateKind::kUniqExact;
  }
  DataType arg_type = TypeId::kUInt64;
  if (nargs == 1 && (spec.kind != AggregateKind::kCount)) {
    spec.arg = analyze_expression(*call->args[0], plan->table_inputs, plan->sql);
    arg_type = spec.arg->type;
    if ((spec.kind == AggregateKind::kSum || spec.kind == AggregateKind::kAvg) &&
        !arg_type.is_numeric())
      plan->fail(call->args[0]->pos,
                 fmt::format("{} expects a number, got {}", call->name, arg_type.name()));
    collect_inputs(*spec.arg, &plan->output_columns);
  } else if (nargs == 1) {
    // count(x) counts rows: columns are never NULL. Still check x is valid.
    analyze_expression(*call->args[0], plan->table_inputs, plan->sql);
  }
  spec.result_type = aggregate_result_type(spec.kind, arg_type);
  return spec;
}

// GROUP BY keys and aggregates over the table's columns; after aggregation, the SELECT list,
// ORDER BY and HAVING over those keys and aggregates only.
void plan_aggregation(const Clauses& clauses, QueryPlan* plan) {
  for (const ExprPtr& g : clauses.group_by) {
    plan->group_keys.push_back(analyze_expression(*g, plan->table_inputs, plan->sql));
    const DataType t = plan->group_keys.back()->type;
    plan->post_inputs.push_back(
        {g->to_string(), t.id == TypeId::kLowCardinality ? DataType(TypeId::kString) : t});
    collect_inputs(*plan->group_keys.back(), &plan->output_columns);
  }
  for (const ExprPtr& call : clauses.aggregate_calls) {
    AggregateSpec spec = plan_aggregate(call, plan);
    plan->post_inputs.push_back({spec.text, spec.result_type});
    plan->aggregates.push_back(std::move(spec));
  }
  const size_t nkeys = clauses.group_by.size();
  size_t longest_name = 0;
  for (const ColumnInfo& input : plan->post_inputs)
    longest_name = std::max(longest_name, input.name.size());
  SubtreeResolver resolver = [&](const Expr& e) -> std::optional<size_t> {
    // Called on every subtree: a text cut past the longest name still compares correctly and
    // keeps a long chain from costing time quadratic in its length.
    const std::string text = e.to_string_up_to(longest_name);
    for (size_t k = 0; k < nkeys; ++k)
      if (plan->post_inputs[k].name == text) return k;
    if (e.kind == ExprKind::kFunction && is_aggregate_function(e.name))
      for (size_t a = 0; a < plan->aggregates.size(); ++a)
        if (plan->aggregates[a].text == text) return nkeys + a;
    if (e.kind == ExprKind::kColumn)
      plan->fail(e.pos,
                 fmt::format("column '{}' is not under an aggregate function and not in GROUP BY",
                             e.name));
    return std::nullopt;
  };
  for (const auto& e : clauses.select)
    plan->select.push_back(analyze_expression(*e, plan->post_inputs, plan->sql, resolver));
  for (const auto& e : clauses.order)
    plan->order.push_back(analyze_expression(*e, plan->post_inputs, plan->sql, resolver));
  if (clauses.having)
    plan->having = analyze_expression(*clauses.having, plan->post_inputs, plan->sql, resolver);
}

// The SELECT list and ORDER BY of a query without aggregation, over the table's columns.
void plan_rows(const Clauses& clauses, QueryPlan* plan) {
  for (const auto& e : clauses.select) {
    plan->select.push_back(analyze_expression(*e, plan->table_inputs, plan->sql));
    collect_inputs(*plan->select.back(), &plan->output_columns);
  }
  for (const auto& e : clauses.order) {
    plan->order.push_back(analyze_expression(*e, plan->table_inputs, plan->sql));
    collect_inputs(*plan->order.back(), &plan->output_columns);
  }
}

std::string make_fingerprint(const QueryPlan& p) {
  std::string fp = "table:" + p.schema->name;
  for (const auto& c : p.conjuncts) fp += "|where:" + c->text;
  for (const auto& k : p.group_keys) fp += "|key:" + k->text;
  for (const auto& a : p.aggregates) fp += "|agg:" + a.text;
  for (const auto& s : p.select) fp += "|select:" + s->text;
  for (size_t k = 0; k < p.order.size(); ++k)
    fp += "|order:" + p.order[k]->text + (p.desc[k] ? " DESC" : "");
  if (p.having) fp += "|having:" + p.having->text;
  if (p.limit) fp += fmt::format("|limit:{},{}", p.offset, *p.limit);
  return fp;
}

}  // namespace

void QueryPlan::fail(size_t pos, const std::string& message) const {
  throw InputError(format_sql_error(sql, pos, message));
}

void plan_query(const TableSchema& schema, std::string_view sql, QueryPlan* plan) {
  QueryPlan& p = *plan;
  p.schema = &schema;
  p.sql = std::string(sql);
  SelectQuery ast = parse_select(p.sql);
  if (ast.table != schema.name)
    p.fail(ast.table_pos, fmt::format("unknown table '{}'; this data directory holds table '{}'",
                                      ast.table, schema.name));
  for (const auto& c : schema.columns) p.table_inputs.push_back({c.name, c.type});
  Clauses clauses = substitute_aliases(ast, expand_star(ast, schema), &p);
  p.limit = ast.limit;
  p.offset = ast.offset;
  check_aggregates(&clauses, &p);
  plan_filter(clauses, &p);
  if (p.aggregate) {
    plan_aggregation(clauses, &p);
  } else {
    plan_rows(clauses, &p);
  }
  p.fingerprint = make_fingerprint(p);
}

}  // namespace shardlab::engine
