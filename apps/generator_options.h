// Command-line options for the row generator, shared by `gen` and `load`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "workloads/generator_config.h"

namespace shardlab::apps {

struct GeneratorOptions {
  workloads::GeneratorConfig config;
  std::string start;  // 'YYYY-MM-DD hh:mm:ss' UTC; empty keeps the default
};

void add_generator_options(CLI::App* cmd, GeneratorOptions* options);

// `--scenario FILE [--smoke] [--set k=v]... [--variant NAME]`: take the rows from a scenario.
struct ScenarioSource {
  std::string path;
  bool smoke = false;
  std::vector<std::string> overrides;
  std::string variant;
};
void add_scenario_options(CLI::App* cmd, ScenarioSource* source);

// What a scenario's run inserts: its generator config, its table and the rows due before the
// run ends (all of workload.rows unless the run is shorter than the data set).
struct ScenarioRows {
  workloads::GeneratorConfig config;
  std::string ddl;
  uint64_t rows = 0;
};
ScenarioRows scenario_rows(const ScenarioSource& source);
// The config for a data set of `rows` rows. Throws InputError for bad values.
workloads::GeneratorConfig make_generator_config(const GeneratorOptions& options, uint64_t rows);

}  // namespace shardlab::apps
