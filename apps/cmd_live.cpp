// shardlab live SCENARIO: the scenario on real servers, measured, and held against its simulated
// twin (live/live_run.h).
#include <fmt/format.h>

#include <cstdio>

#include "apps/cli_output.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "base/errors.h"
#include "live/live_run.h"
#include "live/loopback_cluster.h"
#include "scenarios/scenario.h"

namespace shardlab::apps {

namespace {

struct LiveCommandOptions {
  std::string scenario;
  std::string out;
  std::string hosts;
  double speed = 0;
  std::vector<std::string> overrides;
  bool smoke = false;
  std::string variant;
  bool no_simulation = false;
};

}  // namespace

void add_live_command(CLI::App& app) {
  auto opts = std::make_shared<LiveCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "live",
      "Play a scenario on real ClickHouse, ZooKeeper and memcached servers and hold the "
      "simulation against what it measures");
  cmd->add_option("scenario", opts->scenario, "The scenario file (YAML)")
      ->required()
      ->check(input_file("scenario file", "a scenario YAML file"));
  cmd->add_option("--out", opts->out, "Output directory (default: the scenario's run.out_dir/live)")
      ->check(output_dir());
  cmd->add_option("--hosts", opts->hosts,
                  "An inventory of existing servers (default: start the scenario's cluster on "
                  "127.0.0.1)")
      ->check(input_file("inventory", "an inventory YAML file"));
  add_number(cmd, "--speed", opts->speed,
             "Seconds of the day per real second, rows shrunk alike (default: run.speed)", 1e-3,
             1e6);
  cmd->add_option("--set", opts->overrides, "Override a key: dotted.path=value (repeatable)");
  cmd->add_flag("--smoke", opts->smoke, "Apply the scenario's smoke section (a quick run)");
  cmd->add_option("--variant", opts->variant, "Play this variant (default: the file as written)");
  cmd->add_flag("--no-simulation", opts->no_simulation,
                "Measure only: no simulated twin and no fidelity report");
  cmd->callback([opts] {
    warn_duplicate_sets(opts->overrides);
    std::vector<std::string> overrides = opts->overrides;
    if (opts->speed > 0) overrides.push_back(fmt::format("run.speed={}", opts->speed));
    const scenarios::Scenario s =
        scenarios::load_scenario(opts->scenario, overrides, opts->smoke, opts->variant);
    live::LiveOptions options;
    options.out_dir = opts->out.empty() ? std::filesystem::path(s.run.out_dir) / "live"
                                        : std::filesystem::path(opts->out);
    require_writable_dir(opts->out.empty() ? "run.out_dir" : "--out", options.out_dir.string());
    options.hosts = opts->hosts;
    options.simulate = !opts->no_simulation;
    options.log = [&s](const std::string& line) {
      std::printf("%s: %s\n", s.name.c_str(), line.c_str());
      std::fflush(stdout);
    };
    live::install_interrupt_handlers();
    const live::LiveOutcome outcome = live::run_live(s, options);
    std::printf("%s: wrote %s\n", s.name.c_str(), (options.out_dir / "summary.json").c_str());
    if (!outcome.fidelity.is_null()) {
      std::printf("%s: fidelity %s\n", s.name.c_str(), (options.out_dir / "fidelity.html").c_str());
    }
    if (!outcome.answers_match) {
      throw RuntimeError(fmt::format(
          "the cluster's answers could not be confirmed against the embedded engine's over the "
          "same rows (see \"answers\" in {}/summary.json and {}/answers/*.engine.tsv)",
          options.out_dir.string(), options.out_dir.string()));
    }
  });
}

}  // namespace shardlab::apps
