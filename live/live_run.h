// `shardlab live`: one scenario played on real servers, measured, simulated the same way, and
// the two held side by side.
//
// Outputs (under the run's directory):
//   summary.json           what was measured, in the schema of a simulated run's summary.json
//                          (sections it cannot measure are absent, and "mode": "live")
//   timeseries/replica_lag.csv  every server's replica delay, sampled once a second
//   answers/NAME.sql|tsv   every template once more on the settled cluster, through the
//                          Distributed table; when the cluster holds exactly the acknowledged
//                          rows, also checked against the embedded engine over those rows
//   simulated/             the simulated twin's run (its own summary.json, report, series)
//   fidelity.json          each metric's dotted summary.json name -> {measured, simulated, ratio}
//   fidelity.md|html       the same side by side, with overlaid latency CDFs and lag curves
//   servers/               the loopback servers' configs, data and logs (without --hosts)
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "live/live_tables.h"
#include "live/loopback_cluster.h"
#include "results/summary_writer.h"
#include "scenarios/scenario.h"

namespace shardlab::live {

struct LiveOptions {
  std::filesystem::path out_dir;
  // An inventory of existing servers (live/inventory.h); empty: start the scenario's cluster on
  // loopback.
  std::filesystem::path hosts;
  bool simulate = true;  // also run the simulated twin and write the fidelity report
  std::function<void(const std::string&)> log;
};

struct LiveOutcome {
  results::Json summary;
  results::Json fidelity;     // null without the simulated twin
  bool answers_match = true;  // every checked answer equal to the embedded engine's
};

// Throws InputError, before anything starts, for what cannot be played live (naming it): faults
// other than node_crash and process_restart, random faults, resharding, history days, cache
// strategies other than ttl, and faults against servers that are not ours (--hosts).
void check_playable(const scenarios::Scenario& s, bool own_servers);

LiveOutcome run_live(const scenarios::Scenario& s, const LiveOptions& options);

// The loopback servers of the scenario's cluster (its placement, weights, replication, cache
// nodes and Distributed settings) for `tables`, with their directories under `root`.
LoopbackOptions loopback_options(const scenarios::Scenario& s, const LiveTables& tables,
                                 const std::filesystem::path& root);

}  // namespace shardlab::live
