#include "engine/functions/function_registry.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "base/errors.h"

namespace shardlab::engine {
namespace {

constexpr const char* kAggregates[] = {"count", "sum", "avg", "min", "max", "uniqExact"};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

struct Registry {
  std::vector<const Function*> all;
  // Indexed by Fn: evaluation finds a call's entry with one load.
  std::array<const Function*, 256> by_fn{};
};

Registry build_registry() {
  Registry registry;
  for (std::span<const Function> group :
       {arithmetic_functions(), comparison_functions(), logical_functions(), date_functions(),
        hash_functions()}) {
    for (const Function& function : group) {
      const auto id = static_cast<uint8_t>(function.fn);
      SHARDLAB_ASSERT(registry.by_fn[id] == nullptr, "function {} registered twice", function.name);
      registry.by_fn[id] = &function;
      registry.all.push_back(&function);
    }
  }
  return registry;
}

const Registry& registry() {
  static const Registry instance = build_registry();
  return instance;
}

}  // namespace

const Function* find_function(std::string_view name) {
  const Registry& r = registry();
  for (const Function* function : r.all)
    if (name == function->name) return function;
  for (const Function* function : r.all)
    if (iequals(name, function->name)) return function;
  return nullptr;
}

const Function& function_of(Fn fn) {
  const Function* function = registry().by_fn[static_cast<uint8_t>(fn)];
  SHARDLAB_ASSERT(function != nullptr, "Fn {} has no registry entry", static_cast<int>(fn));
  return *function;
}

bool is_aggregate_function(std::string_view name) {
  for (const char* agg : kAggregates)
    if (iequals(name, agg)) return true;
  return false;
}

}  // namespace shardlab::engine
