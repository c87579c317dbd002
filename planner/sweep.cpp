#include "planner/sweep.h"

#include <fmt/format.h>


#include "base/atomic_file.h"
#include "base/errors.h"
#include "experiment/comparison.h"
#include "experiment/experiment.h"
#include "experiment/run_outputs.h"
#include "planner/mpi_world.h"
#include "planner/run_files.h"
#include "scenarios/scenario.h"

namespace shardlab::planner {


SweepOutcome run_sweep(const SweepOptions& options,
                       const std::function<void(const std::string&)>& log) {
  const std::vector<SweepPoint> points = sweep_points(options.grids);
  // Every point is checked before the first runs: a mistake in the last point of a long sweep
  // should not cost the hours of the others.
  std::vector<scenarios::Scenario> scenarios;
  for (const SweepPoint& point : points) {
    std::vector<std::string> overrides = options.overrides;
    for (std::string& set : point.overrides()) overrides.push_back(std::move(set));
    try {
      scenarios::Scenario point_scenario = scenarios::load_scenario(
          options.scenario.string(), overrides, options.smoke, options.variant);
      if (options.scale < 1 || options.window > Duration()) {
        // Scaled from the point's own values (a swept rate is scaled too), then loaded again.
        for (std::string& o : scale_overrides(point_scenario, options.scale)) {
          overrides.push_back(std::move(o));
        }
        for (std::string& o : peak_window(point_scenario, options.window).overrides) {
          overrides.push_back(std::move(o));
        }
        point_scenario = scenarios::load_scenario(options.scenario.string(), overrides,
                                                  options.smoke, options.variant);
      }
      scenarios.push_back(std::move(point_scenario));
    } catch (const InputError& e) {
      throw InputError(fmt::format("--grid: point {} of {} ({}) is not a valid scenario: {}",
                                   point.index + 1, points.size(), point.label, e.what()));
    }
  }
  const scenarios::Scenario& base = scenarios.front();
  SweepOutcome outcome;
  outcome.dir = options.out.empty() ? std::filesystem::path(base.run.out_dir) : options.out;
  outcome.points = points.size();
  std::filesystem::create_directories(outcome.dir);

  const auto run_point = [&](size_t idx) -> int {
    const SweepPoint& point = points[idx];
    const scenarios::Scenario& s = scenarios[idx];
    experiment::ExperimentOptions run_options;
    run_options.keep_data = options.keep_data;
    run_options.data_dir = options.data_dir;
    const std::filesystem::path dir = outcome.dir / point.dir;
    const experiment::ReplicatedRun run = experiment::run_replicated(
        s, options.first_seed.value_or(s.run.seed),
        options.replications > 0 ? options.replications : s.run.replications, run_options, dir,
        [&](const std::string& line) { log(fmt::format("[{}] {}", point.label, line)); });
    write_metrics(dir / "metrics.json", run.metrics);
    return 0;
  };
  // Each point runs in a child process of its own, locally or on the MPI rank it is given to.
  const auto run_isolated = [&](size_t idx) {
    const std::vector<JobStatus> status = run_in_processes(1, 1, [&](size_t) {
      return run_point(idx);
    });
    return status.front();
  };
  std::vector<JobStatus> statuses(points.size());
  if (launched_by_mpirun()) {
    MpiWorld world;
    if (world.rank() != 0) {
      world.serve([&](size_t idx, const std::string&) {
        PointResult result;
        const JobStatus status = run_isolated(idx);
        result.ok = status.ok;
        result.failure = status.failure;
        if (!status.ok) return result;
        // The point ran; what rank 0 needs of it travels back with the result.
        try {
          const std::filesystem::path dir = outcome.dir / points[idx].dir;
          result.metrics_json = read_text(dir / "metrics.json");
          result.summary_json = read_text(dir / "summary.json");
        } catch (const RuntimeError& e) {
          result.ok = false;
          result.failure = e.what();
        }
        return result;
      });
      outcome.worker = true;
      return outcome;
    }
    log(fmt::format("{}: {} point(s) over {} MPI rank(s), into {}", base.name, points.size(),
                    world.size() - 1, outcome.dir.string()));
    // Rank 0 keeps every point's files, wherever the point ran.
    // Released however the schedule ends; a schedule that threw leaves busy workers, so the
    // whole job ends instead.
    struct Release {
      MpiWorld& world;
      ~Release() { release_workers(world); }
    } release{world};
    world.schedule(points.size(), [&](size_t idx, const PointResult& result) {
      statuses[idx] = JobStatus{result.ok, result.failure};
      if (!result.ok) return;
      const std::filesystem::path dir = outcome.dir / points[idx].dir;
      std::filesystem::create_directories(dir);
      base::write_file_atomically(dir / "metrics.json", result.metrics_json);
      base::write_file_atomically(dir / "summary.json", result.summary_json);
    });
  } else {
    log(fmt::format("{}: {} point(s), {} at a time, into {}", base.name, points.size(),
                    options.jobs, outcome.dir.string()));
    statuses = run_in_processes(points.size(), options.jobs, run_point);
  }

  std::vector<experiment::VariantResult> results;
  for (size_t idx = 0; idx < points.size(); ++idx) {
    experiment::VariantResult result;
    result.name = points[idx].label;
    result.dir = points[idx].dir;
    result.parameters = points[idx].settings;
    if (statuses[idx].ok) {
      result.run.metrics = read_metrics(outcome.dir / points[idx].dir / "metrics.json");
    } else {
      result.failure = statuses[idx].failure;
      ++outcome.failed;
      log(fmt::format("[{}] failed: {}", points[idx].label, statuses[idx].failure));
    }
    results.push_back(std::move(result));
  }
  experiment::write_comparison(outcome.dir, base.name, results,
                               experiment::wants_output(base, "plots"));
  return outcome;
}

}  // namespace shardlab::planner
