// shardlab run SCENARIO: every variant of the scenario, every replication, into one directory.
#include <fmt/format.h>

#include <cstdio>

#include "apps/cli_output.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "base/errors.h"
#include "experiment/comparison.h"
#include "experiment/experiment.h"
#include "experiment/run_outputs.h"
#include "scenarios/scenario.h"

namespace shardlab::apps {

namespace {

struct RunOptions {
  std::string scenario;
  std::string out;
  uint64_t seed = 0;
  bool seed_given = false;
  int replications = 0;
  std::vector<std::string> overrides;
  bool smoke = false;
  std::string variant;
  bool keep_data = false;
  std::string data_dir;
};

// Runs one scenario (one variant) with its replications into `dir`; returns its results.
experiment::ReplicatedRun run_one(const scenarios::Scenario& s, const RunOptions& opts, const std::filesystem::path& dir) {
  const uint64_t first_seed = opts.seed_given ? opts.seed : s.run.seed;
  const int replications = opts.replications > 0 ? opts.replications : s.run.replications;
  experiment::ExperimentOptions options;
  options.progress = stderr_is_tty();
  options.keep_data = opts.keep_data;
  options.data_dir = opts.data_dir;
  return experiment::run_replicated(s, first_seed, replications, options, dir,
                             [](const std::string& line) { std::printf("%s\n", line.c_str()); });
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Simulate a scenario and write its results");
  cmd->add_option("scenario", opts->scenario, "The scenario file (YAML)")
      ->required()
      ->check(input_file("scenario file", "a scenario YAML file"));
  cmd->add_option("--out", opts->out, "Output directory (default: the scenario's run.out_dir)")
      ->check(output_dir());
  add_number(cmd, "--seed", opts->seed, "Simulation seed of the first replication", uint64_t{0},
             kAnySeed)
      ->each([opts](const std::string&) { opts->seed_given = true; });
  add_number(cmd, "--replications", opts->replications, "Runs with consecutive seeds", 1, 1000);
  cmd->add_option("--set", opts->overrides, "Override a key: dotted.path=value (repeatable)");
  cmd->add_flag("--smoke", opts->smoke, "Apply the scenario's smoke section (a quick run)");
  cmd->add_option("--variant", opts->variant, "Run only this variant");
  cmd->add_flag("--keep-data", opts->keep_data, "Keep the replicas' tables after the run");
  cmd->add_option("--data-dir", opts->data_dir,
                  "Where the replicas' tables live during the run, in a subdirectory of their "
                  "own (default: /dev/shm when the data fits there four times over, else DIR)")
      ->check(output_dir());
  cmd->callback([opts] {
    warn_duplicate_sets(opts->overrides);
    std::vector<scenarios::Scenario> variants =
        opts->variant.empty()
            ? scenarios::load_scenario_variants(opts->scenario, opts->overrides, opts->smoke)
            : std::vector<scenarios::Scenario>{scenarios::load_scenario(
                  opts->scenario, opts->overrides, opts->smoke, opts->variant)};
    std::vector<std::filesystem::path> dirs;
    for (const scenarios::Scenario& s : variants) {
      std::filesystem::path dir = opts->out.empty() ? s.run.out_dir : opts->out;
      // The loader already gives each variant its own out_dir; an explicit --out gets one
      // subdirectory per variant.
      if (!opts->out.empty() && !s.variant.empty() && variants.size() > 1) dir /= s.variant;
      // Every variant's directory, before the first simulation starts.
      require_writable_dir(opts->out.empty() ? "run.out_dir" : "--out", dir.string());
      dirs.push_back(std::move(dir));
    }
    std::vector<experiment::VariantResult> results;
    for (size_t idx = 0; idx < variants.size(); ++idx) {
      const scenarios::Scenario& s = variants[idx];
      std::string description;
      for (const scenarios::VariantConfig& v : s.variants) {
        if (v.name == s.variant) description = v.description;
      }
      experiment::VariantResult result;
      result.name = s.variant;
      result.description = std::move(description);
      result.run = run_one(s, *opts, dirs[idx]);
      results.push_back(std::move(result));
    }
    // The console ends with where to read the results.
    if (results.size() == 1 && experiment::wants_output(variants[0], "report")) {
      std::printf("%s: report %s\n", variants[0].name.c_str(),
                  (dirs[0] / "report.html").string().c_str());
    }
    // Variants side by side, in the directory that holds theirs.
    if (results.size() > 1 && dirs[0].has_parent_path()) {
      const std::filesystem::path where = dirs[0].parent_path();
      experiment::write_comparison(where, variants[0].name, results,
                                   experiment::wants_output(variants[0], "plots"));
      std::printf("%s: wrote %s\n", variants[0].name.c_str(),
                  (where / "comparison.md").string().c_str());
    }
  });
}

}  // namespace shardlab::apps
