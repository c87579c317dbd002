// shardlab flows: the command line of the network model alone (experiment/flows.h).
#include <memory>
#include <string>

#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "experiment/flows.h"

namespace shardlab::apps {

void add_flows_command(CLI::App& app) {
  struct Options {
    std::string platform;
    std::string flows;
    std::string output;
    std::string trace;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "flows", "Play network transfers on a platform and write when each one finished");
  cmd->add_option("platform", opts->platform, "PLATFORM.yaml: hosts, switches and links")
      ->required()
      ->check(input_file("platform file", "a platform YAML file"));
  cmd->add_option("flows", opts->flows, "FLOWS.csv with the header id,src,dst,bytes,start_s")
      ->required()
      ->check(input_file("flows file", "a CSV file of transfers"));
  cmd->add_option("-o,--output", opts->output, "Write id,finish_s here (default and '-': stdout)")
      ->check(output_file(Dash::kStandardStream));
  cmd->add_option("--trace", opts->trace, "Write a Chrome trace (JSON) of the transfers here")
      ->check(output_file());
  cmd->callback([opts] { experiment::run_flows(opts->platform, opts->flows, opts->output, opts->trace); });
}

}  // namespace shardlab::apps
