// `shardlab plan`: the cheapest cluster in the scenario's `plan` space that meets its constraints.
//
//  1. Profile: the scenario runs once on its own cluster at the plan's scale; the real engine's
//     work profile of every template, of inserts and of merges comes out of its summary.
//  2. Screen: every candidate's peak utilisation and p99 latency are predicted
//     (planner/capacity_model.h) and corrected by the profile run; candidates that cannot work
//     are screened out with the reason, and the rest are ranked by cost.
//  3. Confirm: cheapest first, each surviving candidate runs its replications plus one run with
//     the worst single node crash (the node holding the most replicas) at the daily peak. It is
//     confirmed when the one-sided confidence bound of every constraint holds, and refuted
//     otherwise; the search stops at the first confirmed one (or after max_simulated). The
//     profile run and each refutation teach the screen: predictions are corrected by the
//     simulated-over-predicted ratios of the simulated cluster nearest in load, and the
//     remaining candidates are screened again.
//  4. Scale: the winner also runs at the plan's smaller fit scales; each constraint metric is
//     fitted as a + b / scale by least squares (Eigen), predicting it at full scale.
//  5. Sensitivity: the screen again with data and query rates 1.5 and 2 times as large.
//
// Every simulation runs in a process of its own, `jobs` at once; under `mpirun -np N` (N > 1)
// rank 0 plans and hands each simulation to a worker rank (planner/mpi_world.h), keeping the
// files. Output under the plan's
// directory: profile/ (the profile run), NNN-LABEL/runs and NNN-LABEL/crash per simulated
// candidate, NNN-LABEL/scale-F for the fit, and plan.json, plan.md, plan.html, pareto.png/.svg.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace shardlab::planner {

struct PlanOptions {
  std::filesystem::path scenario;
  std::vector<std::string> overrides;  // --set
  bool smoke = false;
  std::optional<double> scale;         // default: the plan section's
  std::optional<uint64_t> seed;        // default: run.seed
  int jobs = 1;
  std::filesystem::path out;           // default: run.out_dir + "/plan"
  std::filesystem::path data_dir;
};

struct PlanOutcome {
  std::filesystem::path dir;
  bool found = false;
  std::string recommended;  // the winner's label
  size_t candidates = 0;
  size_t screened_out = 0;
  size_t simulated = 0;
  size_t confirmed = 0;
  bool worker = false;  // an MPI rank other than 0: it ran jobs, rank 0 reports
  // The recommendation's margins, binding constraint and the screen's error, for the console.
  std::vector<std::string> findings;
};

// Throws InputError for a scenario without a plan section or one the plan cannot scale, and
// when no candidate makes a valid scenario; RuntimeError when the profile run fails.
PlanOutcome run_plan(const PlanOptions& options,
                     const std::function<void(const std::string&)>& log);

}  // namespace shardlab::planner
