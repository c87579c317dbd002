// The readers of a scenario's sections, each validating what it reads. Internal to scenarios/:
// scenario.cpp calls them in dependency order (hardware, table, cluster, topology, workload,
// run, faults, reshard), so each can check names against what came before; the list values of
// the sharding schemes are checked against the workload last.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scenarios/scenario.h"
#include "scenarios/scenario_reader.h"

namespace shardlab::scenarios::detail {

// Where a list scheme's values are written: values[shard][index], and the `lists` key. Empty for
// other kinds.
struct ListPlaces {
  std::optional<Field> lists;
  std::vector<std::vector<Field>> values;
};

// The cluster section and the fields later sections point at in their messages.
struct ClusterSection {
  ClusterConfig config;
  std::vector<Field> node_names;     // each node's name (or its bare entry)
  std::optional<Field> coordinator;  // cluster.coordinator.node, when given
  std::optional<Field> section;      // cluster itself
  ListPlaces sharding_lists;
};

struct ReshardSection {
  std::optional<ReshardConfig> config;  // none without a reshard section
  ListPlaces sharding_lists;
};

// `scenario_dir` resolves a relative calibration path.
HardwareConfig read_hardware(const MapReader& root, const std::string& scenario_dir);
TableConfig read_table(const MapReader& root);
ClusterSection read_cluster(const MapReader& root, const HardwareConfig& hardware,
                            const TableConfig& table);
// Also settles cluster.coordinator_node: checks a named one, or picks the default.
TopologyConfig read_topology(const MapReader& root, ClusterSection& cluster);
WorkloadConfig read_workload(const MapReader& root, const ClusterConfig& cluster,
                             const TableConfig& table);
RunConfig read_run(const MapReader& root, const WorkloadConfig& workload,
                   const std::string& scenario_name);
std::vector<ScheduledFault> read_faults(const MapReader& root, const ClusterConfig& cluster,
                                        const TopologyConfig& topology, const RunConfig& run);
std::vector<RandomFault> read_random_faults(const MapReader& root, const ClusterConfig& cluster);
ReshardSection read_reshard(const MapReader& root, const ClusterConfig& cluster,
                            const TableConfig& table, const RunConfig& run);
// None without a cache section. Adds cache hosts the racks shorthand does not have to
// `topology` (on the spine).
std::optional<CacheConfig> read_cache(const MapReader& root, const ClusterConfig& cluster,
                                      const WorkloadConfig& workload, const RunConfig& run,
                                      TopologyConfig* topology);

// None without a plan section.
std::optional<PlanConfig> read_plan(const MapReader& root, const HardwareConfig& hardware,
                                    const WorkloadConfig& workload);

// For a list scheme whose key is a generated text column (province, gender, action), checked
// against the values the workload's generator produces in it: a generated value in no list is an
// error unless there is a default shard; a listed value it never produces is a warning,
// appended to `warnings` as "WHERE: PATH: what".
void check_list_values(const ShardingConfig& spec, const ListPlaces& places,
                       const workloads::GeneratorConfig& generator,
                       std::vector<std::string>* warnings);

// The place in the file of an SQL error inside the scalar `field`: the engine's message says
// "(line L, column C)" within the SQL text; when the scalar can be found verbatim in the file (a
// literal block or a one-line scalar) that is turned into file:line:col, else the scalar's
// own place. Throws InputError "WHERE: PATH: MESSAGE".
[[noreturn]] void fail_sql(const Field& field, const std::string& message);

}  // namespace shardlab::scenarios::detail
