// The readers of a scenario's sections, each validating what it reads. Internal to scenarios/:
// scenario.cpp calls them in dependency order (hardware, table, cluster, topology, workload,
// run, faults), so each can check names against what came before.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scenarios/scenario.h"
#include "scenarios/scenario_reader.h"

namespace shardlab::scenarios::detail {

// The cluster section and the fields later sections point at in their messages.
struct ClusterSection {
  ClusterConfig config;
  std::vector<Field> node_names;     // each node's name (or its bare entry)
  std::optional<Field> coordinator;  // cluster.coordinator.node, when given
  std::optional<Field> section;      // cluster itself
};

// `scenario_dir` resolves a relative calibration path.
HardwareConfig read_hardware(const MapReader& root, const std::string& scenario_dir);
TableConfig read_table(const MapReader& root);
ClusterSection read_cluster(const MapReader& root, const HardwareConfig& hardware,
                            const TableConfig& table);
// Also settles cluster.coordinator_node: checks a named one, or picks the default.
TopologyConfig read_topology(const MapReader& root, ClusterSection& cluster);
// The topology as build_platform() reads it: bandwidths in bytes/s, latencies in exact ns.
YAML::Node platform_node(const TopologyConfig& topology);
WorkloadConfig read_workload(const MapReader& root, const ClusterConfig& cluster,
                             const TableConfig& table);
RunConfig read_run(const MapReader& root, const WorkloadConfig& workload,
                   const std::string& scenario_name);
std::vector<ScheduledFault> read_faults(const MapReader& root, const ClusterConfig& cluster,
                                        const TopologyConfig& topology, const RunConfig& run);
std::vector<RandomFault> read_random_faults(const MapReader& root, const ClusterConfig& cluster);
std::optional<ReshardConfig> read_reshard(const MapReader& root, const ClusterConfig& cluster,
                                          const TableConfig& table, const RunConfig& run);

// The place in the file of an SQL error inside the scalar `field`: the engine's message says
// "(line L, column C)" within the SQL text; when the scalar can be found verbatim in the file (a
// literal block or a one-line scalar) that is turned into file:line:col, else the scalar's
// own place. Throws InputError "WHERE: PATH: MESSAGE".
[[noreturn]] void fail_sql(const Field& field, const std::string& message);

}  // namespace shardlab::scenarios::detail
