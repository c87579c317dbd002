// shardlab plan SCENARIO: the cheapest cluster in the scenario's plan space that meets its SLOs.
#include <fmt/format.h>

#include <cstdio>
#include <thread>

#include "apps/cli_output.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "base/errors.h"
#include "planner/plan.h"

namespace shardlab::apps {

namespace {

struct PlanFlags {
  std::string scenario;
  std::string out;
  double scale = 0;
  uint64_t seed = 0;
  bool seed_given = false;
  int jobs = 0;
  std::vector<std::string> overrides;
  bool smoke = false;
  std::string data_dir;
};

}  // namespace

void add_plan_command(CLI::App& app) {
  auto flags = std::make_shared<PlanFlags>();
  CLI::App* cmd = app.add_subcommand(
      "plan", "Find the cheapest cluster in the scenario's plan space that meets its constraints");
  cmd->add_option("scenario", flags->scenario, "The scenario file (YAML) with a plan section")
      ->required()
      ->check(input_file("scenario file", "a scenario YAML file"));
  add_number(cmd, "--scale", flags->scale,
             "Data scale of the simulations, in (0, 1] (default: plan.scale): rows, insert "
                  "rate and hardware rates times it",
             1e-6, 1.0);
  add_number(cmd, "--jobs", flags->jobs, "Simulations run at once (default: the number of cores)",
             1, 1024);
  cmd->add_option("--out", flags->out, "Output directory (default: run.out_dir/plan)")
      ->check(output_dir());
  add_number(cmd, "--seed", flags->seed, "Simulation seed of each candidate's first run",
             uint64_t{0}, kAnySeed)
      ->each([flags](const std::string&) { flags->seed_given = true; });
  cmd->add_option("--set", flags->overrides, "Override a scenario key (repeatable)");
  cmd->add_flag("--smoke", flags->smoke, "Apply the scenario's smoke section (a quick plan)");
  cmd->add_option("--data-dir", flags->data_dir, "Where the replicas' tables live during each run")
      ->check(output_dir());
  cmd->callback([flags] {
    warn_duplicate_sets(flags->overrides);
    planner::PlanOptions options;
    options.scenario = flags->scenario;
    options.overrides = flags->overrides;
    options.smoke = flags->smoke;
    if (flags->scale > 0) options.scale = flags->scale;
    if (flags->seed_given) options.seed = flags->seed;
    options.jobs = flags->jobs > 0
                       ? flags->jobs
                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    options.out = flags->out;
    options.data_dir = flags->data_dir;
    const planner::PlanOutcome outcome = planner::run_plan(
        options, [](const std::string& line) { std::printf("%s\n", line.c_str()); });
    if (outcome.worker) return;  // an MPI rank other than 0: rank 0 reports
    std::printf("plan: %zu candidates, %zu screened out, %zu simulated, %zu confirmed\n",
                outcome.candidates, outcome.screened_out, outcome.simulated, outcome.confirmed);
    if (outcome.found) {
      std::printf("plan: recommended %s\n", outcome.recommended.c_str());
    } else {
      std::printf("plan: no candidate met every constraint\n");
    }
    for (const std::string& line : outcome.findings) std::printf("plan: %s\n", line.c_str());
    std::printf("plan: report %s\n", (outcome.dir / "plan.html").string().c_str());
  });
}

}  // namespace shardlab::apps
