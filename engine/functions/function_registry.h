// The SQL functions an expression may call: one entry per function, with its name, its
// arity, its type rule and its evaluator. Analysis looks a call up by name, checks the
// argument count, and lets the type rule check and convert the arguments; evaluation calls
// the entry's evaluator once per block, and the evaluator loops over whole columns.
//
// Adding a function: an enumerator in Fn (exec/expression.h, the id the planner and the key
// condition recognise calls by) and one entry in the table of its group's file
// (arithmetic_functions.cpp, comparison_functions.cpp, logical_functions.cpp,
// date_functions.cpp, hash_functions.cpp). Aggregate functions are not here: the planner
// resolves them (exec/query_plan.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "shardlab/engine/expression.h"
#include "engine/functions/type_context.h"

namespace shardlab::engine {

// The maximum argument count of a variadic function.
inline constexpr size_t kAnyArgs = SIZE_MAX;

// Checks and converts a call's arguments, whose count is already checked, and returns the
// call's result type. Fails through the context.
using TypeRule = DataType (*)(const TypeContext& context, std::vector<ExprNodePtr>& args);
// A call's argument values, for its evaluator. evaluate() computes the arguments of calls with
// few of them ahead of the call, walking the tree with its own stack; the others are computed
// when the evaluator asks for them, so that and/or fold in one argument at a time however many
// they have.
class Arguments {
 public:
  // `ready` holds the values of the first ready.size() arguments.
  // REQUIRES: `call`, `inputs` and the columns they refer to outlive the object.
  Arguments(const ExprNode& call, const std::vector<const Column*>& inputs, size_t rows,
            std::vector<Value> ready)
      : call_(call), inputs_(inputs), rows_(rows), ready_(std::move(ready)) {}

  // The value of argument `idx` over the block's rows.
  // REQUIRES: idx < the call's argument count; each argument is asked for at most once.
  Value value(size_t idx);

 private:
  const ExprNode& call_;
  const std::vector<const Column*>& inputs_;
  size_t rows_;
  std::vector<Value> ready_;
};

// Evaluates a call over a block of `rows` rows: its arguments through `args`, then loops over
// their columns. A result computed from constants only is a one-row constant.
using Evaluator = Value (*)(const ExprNode& call, Arguments& args, size_t rows);

struct Function {
  const char* name;  // as ClickHouse spells it; lookups also accept other cases
  Fn fn;
  size_t min_args;
  size_t max_args;  // kAnyArgs: variadic
  TypeRule type_rule;
  Evaluator evaluate;
};

// The function called `name`: the exact spelling first, then ignoring case. Null if none.
const Function* find_function(std::string_view name);

// REQUIRES: `fn` has an entry (every enumerator of Fn has one).
const Function& function_of(Fn fn);

// The groups the registry is made of, one per file.
std::span<const Function> arithmetic_functions();
std::span<const Function> comparison_functions();
std::span<const Function> logical_functions();
std::span<const Function> date_functions();
std::span<const Function> hash_functions();

}  // namespace shardlab::engine
