// `shardlab sweep`: a what-if grid over scenario keys. Every point is the scenario with the
// point's values set (as --set does), run with the scenario's replications in a process of its
// own, at most `jobs` at once; a point that fails is reported as failed and the others still
// run. Every point is validated before the first one starts. Under `mpirun -np N` (N > 1),
// rank 0 hands the points out to the other ranks one at a time and gathers their files
// (planner/mpi_world.h); each rank runs its points one after the other.
//
// Output, under the sweep's directory:
//   NNN-LABEL/             each point's run (summary.json, report, figures), and metrics.json:
//                          every comparison metric of every replication, for the comparison
//   comparison.csv/.md     one row per point, a column per swept key, then the metrics
//   comparison.png         the key metrics per point
//   sweep_KEY.png          per swept key, each key metric against the key's values, a line per
//                          combination of the other keys (confidence intervals as error bars)
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "planner/plan_space.h"
#include "planner/process_pool.h"
#include "planner/sweep_grid.h"

namespace shardlab::planner {

struct SweepOptions {
  std::filesystem::path scenario;
  std::vector<std::string> overrides;  // --set, applied before each point's values
  bool smoke = false;
  std::string variant;
  std::vector<Grid> grids;
  int jobs = 1;
  std::optional<uint64_t> first_seed;  // default: the scenario's run.seed
  int replications = 0;                // 0: the scenario's run.replications
  std::filesystem::path out;           // empty: the scenario's run.out_dir
  std::filesystem::path data_dir;
  bool keep_data = false;
  // Each point at this data scale (plan_space.h's scale_overrides, from the point's own values),
  // and only `window` of its day around the insert peak (peak_window); 1 and zero: as written.
  double scale = 1;
  Duration window;
};

struct SweepOutcome {
  std::filesystem::path dir;
  size_t points = 0;
  size_t failed = 0;
  bool worker = false;  // an MPI rank other than 0: it ran points, rank 0 reports them
};

// Throws InputError before running anything when a point makes an invalid scenario (or one that
// cannot be scaled), naming the
// point and why; RuntimeError when the sweep's directory cannot be written.
SweepOutcome run_sweep(const SweepOptions& options,
                       const std::function<void(const std::string&)>& log);

}  // namespace shardlab::planner
