// Binding a validated Scenario to simulator objects: the network, the cluster's spec, the
// workload's loads and the fault targets. The scenario holds plain values (scenarios/ includes
// nothing of the simulator); these functions are where they become the simulator's types, so
// neither side needs to know the other's layout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "scenarios/platform.h"
#include "scenarios/scenario.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/sharding.h"
#include "sim/cluster/workload.h"
#include "sim/hw/faults.h"
#include "sim/hw/network.h"
#include "sim/hw/node.h"

namespace shardlab::experiment {

// The sealed network of a validated platform (PLATFORM.yaml, or a scenario's topology): node ids
// follow hosts, then switches, in their order.
std::unique_ptr<sim::Network> build_network(sim::Simulation& sim,
                                            const scenarios::Platform& platform);

// The simulator's forms of the scenario's values (the sharding spec and the Distributed
// engine's choices are already the same types: cluster_config/).
sim::NodeSpec node_spec(const scenarios::Scenario& s, const scenarios::NodeConfig& node);

// The cluster the scenario describes, its replicas' tables under `data_dir`. Nodes keep the
// scenario's order; placement refers to them by index.
sim::cluster::ClusterSpec cluster_spec(const scenarios::Scenario& s, uint64_t seed,
                                       const std::filesystem::path& data_dir);

// The ingest stream and the query templates, on the initiators the scenario names.
sim::cluster::IngestLoad ingest_load(const scenarios::Scenario& s,
                                     const sim::cluster::Cluster& cluster);
std::vector<sim::cluster::QueryLoad> query_loads(const scenarios::Scenario& s,
                                                 const std::vector<size_t>& initiators);

// Schedules every fault of the scenario (fixed and random) on `faults`, ending random ones at
// `end`. Throws InputError for a link that does not exist or a kind the runtime cannot play.
// REQUIRES: cluster, network and faults outlive the simulation's run.
void schedule_faults(const scenarios::Scenario& s, sim::cluster::Cluster& cluster,
                     sim::Network& network, sim::FaultInjector& faults, sim::Time end);

}  // namespace shardlab::experiment
