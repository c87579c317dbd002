// The cost model fitted to a real ClickHouse server (`shardlab calibrate --live`), from the
// timings live/live_probes.h takes on the scenario's loopback cluster.
//
// The shipped coefficients are the embedded engine's own costs; ClickHouse does the same work
// more slowly and pays fixed costs per request the engine never sees (HTTP, parsing, pipeline
// start, the distributed layer's connections). So the fit keeps the engine's *shape* of the
// work (which counts cost what relative to each other) and fits only what the probes can tell
// apart, by least squares (Eigen):
//  * Subqueries: local_s = setup + k_scan * scan_s + k_agg * aggregation_s over the templates
//    (probed at two table sizes) and SELECT 1 (no work), where scan_s and aggregation_s are the
//    engine's costs of the query's reading and of its aggregation. Non-negative least squares
//    weighted by 1 / local_s, so fast and slow probes count alike. The scan coefficients are
//    multiplied by k_scan, the aggregation ones by k_agg, and query_setup_s grows by setup.
//    When the probes cannot separate the two (a factor comes out zero), one factor is fitted to
//    their sum: ClickHouse slower alike at both, rather than aggregation for free.
//  * The initiator: initiator_query_s grows by the median of distributed_s - local_s.
//  * Inserts: seconds = c + d * rows over the INSERT sizes. The per-row costs (split, insert,
//    bytes) are multiplied by d over their engine sum per row; split_batch_s takes c less what
//    the model already charges per INSERT (parts, and the coordinator's operations).
//  * Merges and the wire are not probed and keep their engine values.
// Every term is non-negative; what the probes could not tell apart is said in the notes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "shardlab/engine/work_profile.h"
#include "sim/cluster/cost_model.h"

namespace shardlab::calibration {

struct LiveQueryPoint {
  std::string name;
  double local_s = 0;
  double distributed_s = 0;
  engine::WorkProfile profile;
};

struct LiveInsertPoint {
  uint64_t rows = 0;
  uint64_t bytes = 0;
  uint64_t parts = 0;
  double seconds = 0;
};

struct LiveMeasurements {
  std::string server_version;
  uint64_t rows = 0;
  int repeat = 0;
  double select_one_s = 0;
  std::vector<LiveQueryPoint> queries;
  std::vector<LiveInsertPoint> inserts;
  // What the model charges per INSERT outside the cost model: the coordinator's operations
  // (ops per insert times their latency), subtracted from the fitted fixed cost.
  double coordinator_s_per_insert = 0;
};

struct LiveFit {
  sim::cluster::CostCoefficients coefficients;
  nlohmann::ordered_json about;     // the calibration file's `about`: probes, fit, predictions
  std::vector<std::string> report;  // lines for the console
};

LiveFit fit_live(const LiveMeasurements& m, const sim::cluster::CostCoefficients& engine);

}  // namespace shardlab::calibration
