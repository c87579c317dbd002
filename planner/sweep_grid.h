// The points of a what-if sweep: `--grid KEY=V1,V2,...` flags, each a scenario key and the values
// it takes, crossed into every combination. A point is a list of `--set` overrides applied on top
// of the scenario (after its smoke section, as --set always is).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace shardlab::planner {

struct Grid {
  std::string key;                  // a dotted scenario path, e.g. cluster.shards
  std::vector<std::string> values;  // YAML values, in the order given
};

struct SweepPoint {
  size_t index = 0;
  // (key, value) per grid, in the grids' order.
  std::vector<std::pair<std::string, std::string>> settings;
  std::string label;  // "shards=4,replicas=2": the last word of each key and its value
  std::string dir;    // the point's directory name: the label made safe for a file system
  // "KEY=VALUE" for each setting, as --set takes them.
  std::vector<std::string> overrides() const;
};

// Parses one --grid argument. Values are split at commas outside brackets and quotes, so that
// `cluster.sharding={kind: hash, key: cityHash64(user_id)},{kind: jump, key: user_id}` has two.
// Throws InputError naming the flag: no '=', an empty key, an empty value list or value.
Grid parse_grid(const std::string& argument);

// Every combination, the first grid varying slowest. Throws InputError for a key swept twice.
std::vector<SweepPoint> sweep_points(const std::vector<Grid>& grids);

}  // namespace shardlab::planner
