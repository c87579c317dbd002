// Command-line options for the row generator, shared by `gen` and `load`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "workloads/generator_config.h"

namespace shardlab::apps {

struct GeneratorOptions {
  workloads::GeneratorConfig config;
  std::string start;  // 'YYYY-MM-DD hh:mm:ss' UTC; empty keeps the default
};

void add_generator_options(CLI::App* cmd, GeneratorOptions* options);
// The config for a data set of `rows` rows. Throws InputError for bad values.
workloads::GeneratorConfig make_generator_config(const GeneratorOptions& options, uint64_t rows);

}  // namespace shardlab::apps
