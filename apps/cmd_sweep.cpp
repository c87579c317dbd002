// shardlab sweep SCENARIO --grid KEY=V1,V2,...: a what-if grid, points in parallel processes.
#include <fmt/format.h>

#include <cstdio>
#include <thread>

#include "apps/cli_output.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "base/errors.h"
#include "planner/sweep.h"
#include "scenarios/units.h"

namespace shardlab::apps {

namespace {

struct SweepFlags {
  std::string scenario;
  std::vector<std::string> grids;
  std::string out;
  uint64_t seed = 0;
  bool seed_given = false;
  int replications = 0;
  int jobs = 0;
  std::vector<std::string> overrides;
  bool smoke = false;
  std::string variant;
  bool keep_data = false;
  std::string data_dir;
  double scale = 1;
  std::string window;
};

}  // namespace

void add_sweep_command(CLI::App& app) {
  auto flags = std::make_shared<SweepFlags>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "Run a scenario over a grid of key values, each point in a process of its own");
  cmd->add_option("scenario", flags->scenario, "The scenario file (YAML)")
      ->required()
      ->check(input_file("scenario file", "a scenario YAML file"));
  cmd->add_option("--grid", flags->grids,
                  "A key and its values: dotted.path=V1,V2,... (repeatable; the points are "
                  "every combination)")
      ->required();
  add_number(cmd, "--jobs", flags->jobs, "Points run at once (default: the number of cores)", 1,
             1024);
  cmd->add_option("--out", flags->out, "Output directory (default: the scenario's run.out_dir)")
      ->check(output_dir());
  add_number(cmd, "--seed", flags->seed, "Simulation seed of each point's first replication",
             uint64_t{0}, kAnySeed)
      ->each([flags](const std::string&) { flags->seed_given = true; });
  add_number(cmd, "--replications", flags->replications, "Runs per point with consecutive seeds",
             1, 1000);
  cmd->add_option("--set", flags->overrides, "Override a key for every point (repeatable)");
  cmd->add_flag("--smoke", flags->smoke, "Apply the scenario's smoke section (a quick run)");
  cmd->add_option("--variant", flags->variant, "Sweep this variant (default: the file as written)");
  add_number(cmd, "--scale", flags->scale,
             "Run each point at this data scale, in (0, 1]: rows, insert rate and hardware "
                  "rates times it (as plan does)",
             1e-6, 1.0);
  cmd->add_option("--window", flags->window,
                  "Simulate only this long around the daily insert peak, the rows before it "
                  "loaded as history, e.g. 2h");
  cmd->add_flag("--keep-data", flags->keep_data, "Keep the replicas' tables after each run");
  cmd->add_option("--data-dir", flags->data_dir,
                  "Where the replicas' tables live during each run (as for run)")
      ->check(output_dir());
  cmd->callback([flags] {
    warn_duplicate_sets(flags->overrides);
    planner::SweepOptions options;
    options.scenario = flags->scenario;
    options.overrides = flags->overrides;
    options.smoke = flags->smoke;
    options.variant = flags->variant;
    for (const std::string& grid : flags->grids) options.grids.push_back(planner::parse_grid(grid));
    options.jobs = flags->jobs > 0
                       ? flags->jobs
                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (flags->seed_given) options.first_seed = flags->seed;
    options.replications = flags->replications;
    options.out = flags->out;
    options.data_dir = flags->data_dir;
    options.keep_data = flags->keep_data;
    options.scale = flags->scale;
    if (!flags->window.empty()) {
      try {
        options.window = scenarios::parse_duration(flags->window);
      } catch (const InputError& e) {
        throw InputError(fmt::format("--window: {}", e.what()));
      }
    }
    const planner::SweepOutcome outcome = planner::run_sweep(
        options, [](const std::string& line) { std::printf("%s\n", line.c_str()); });
    if (outcome.worker) return;  // an MPI rank other than 0: rank 0 reports
    std::printf("sweep: %zu point(s), %zu failed; wrote %s\n", outcome.points, outcome.failed,
                (outcome.dir / "comparison.md").string().c_str());
    // Every point ran or was reported; a failed point fails the command.
    if (outcome.failed > 0) {
      throw RuntimeError(fmt::format("{} of {} sweep point(s) failed (see comparison.md)",
                                     outcome.failed, outcome.points));
    }
  });
}

}  // namespace shardlab::apps
