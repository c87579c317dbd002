// Overrides: a value put at a dotted path of a scenario's YAML tree before it is validated.
// Three sources use them, applied in this order: the chosen variant's `set` mapping, the file's
// `smoke` mapping (with --smoke), and --set arguments. So the command line has the last word,
// and a smoke run scales down every variant alike. Two --set arguments for the same path apply
// in order too, so the last one wins; the CLI warns about the repeat (repeated_set_paths).
//
// A path is a chain of keys and list entries: `cluster.insert_mode`, `run.seed`,
// `workload.queries.0.rate_per_s`, and for lists whose entries have a `name` (cluster.nodes,
// workload.queries, variants) also `workload.queries.top_items.rate_per_s`. Every key must exist
// in the schema (scenario_schema.h), though not necessarily in the file: mappings missing on the
// way are created, so `--set cluster.coordinator.latency=2ms` works on a file without a
// coordinator section. List entries must exist (set the whole list to change its length). The
// value replaces what was there: a mapping is replaced whole, not merged.
//
// Mistakes throw InputError starting with the override's origin: for
// `--set cluster.insert_mod=sync`,
//   --set cluster.insert_mod=sync: unknown key 'insert_mod' under 'cluster' (expected one of:
//   nodes, shards, ...); did you mean 'insert_mode'?
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "scenarios/scenario_reader.h"

namespace shardlab::scenarios {

struct Override {
  std::string path;  // dotted, as written
  YAML::Node value;  // never null: an override must say what to put there
  // How messages name the override: "--set run.seed=7", or "FILE:12:3: smoke" for an entry of
  // the file's smoke section.
  std::string origin;
  // The value was parsed from outside the file (a --set argument): messages about it and
  // anything inside it name the origin instead of a file position.
  bool external = false;
};

// Reads a --set argument "PATH=VALUE". VALUE is YAML: a scalar (`sync`, `1e6`, `250ms`) or a
// flow list or mapping (`[n0, n1]`, `{kind: hash, key: cityHash64(user_id)}`).
// Throws InputError starting with "--set ARGUMENT" for a missing '=', an empty path or value,
// or a value that is not valid YAML.
Override parse_set_argument(std::string_view argument);

// A --set argument whose PATH an earlier one already set. Overrides apply in order, so the later
// value wins; the earlier one was probably a mistake, so callers warn about it.
struct RepeatedSet {
  std::string path;
  std::string earlier_value;  // as written after '='
  std::string later_value;
};
// The repeats among `arguments`, in order. Paths are compared as written (so `...queries.0.x`
// and `...queries.top_items.x` are not reported even when they name the same entry). Arguments
// without '=' are skipped: loading the scenario reports them.
std::vector<RepeatedSet> repeated_set_paths(const std::vector<std::string>& arguments);

// Puts `change.value` at `change.path` in `root`, a mapping. Nodes that did not come from the
// file (an external value, mappings created on the way) are registered with `ctx` under the
// override's origin. Throws InputError for a path the schema does not have, a list index out
// of range, or a path that runs through a value that is not a mapping or list.
void apply_override(YAML::Node& root, const Override& change, detail::Context& ctx);

}  // namespace shardlab::scenarios
