#include <cstdio>

#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "apps/generator_options.h"
#include "base/errors.h"
#include "workloads/row_generator.h"
#include "workloads/tsv_writer.h"

namespace shardlab::apps {

void add_gen_command(CLI::App& app) {
  struct Options {
    uint64_t rows = 0;
    uint64_t first = 0;
    uint64_t count = 0;
    GeneratorOptions gen;
    ScenarioSource scenario;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "gen", "Write generated user_behavior rows as ClickHouse TabSeparated to stdout");
  const uint64_t max_rows = workloads::kMaxGeneratedRows;
  add_number(cmd, "--rows", opts->rows, "Rows in the data set (required without --scenario)",
             uint64_t{1}, max_rows);
  add_number(cmd, "--first", opts->first, "Write rows from this one on (default 0)", uint64_t{0},
             max_rows);
  add_number(cmd, "--count", opts->count, "Write this many rows (default: to the end)", uint64_t{0},
             max_rows);
  add_generator_options(cmd, &opts->gen);
  add_scenario_options(cmd, &opts->scenario);
  cmd->callback([opts] {
    workloads::GeneratorConfig config;
    if (!opts->scenario.path.empty()) {
      // Exactly the rows the scenario's run inserts, so a real ClickHouse can load them too.
      const ScenarioRows rows = scenario_rows(opts->scenario);
      config = rows.config;
      opts->rows = rows.rows;
    } else {
      if (opts->rows == 0) throw InputError("gen: give --rows N (or --scenario FILE)");
      config = make_generator_config(opts->gen, opts->rows);
    }
    const workloads::RowGenerator generator(config);
    const uint64_t end = opts->count > 0 ? opts->first + opts->count : opts->rows;
    if (opts->first > end || end > opts->rows)
      throw InputError(
          fmt::format("--first/--count select rows [{}, {}) outside the data set of {} rows",
                      opts->first, end, opts->rows));
    workloads::UserBehaviorBlock block;
    workloads::TsvWriter writer(stdout);
    constexpr uint64_t kBlockRows = 65536;
    for (uint64_t row = opts->first; row < end; row += kBlockRows) {
      generator.generate(row, std::min(kBlockRows, end - row), &block);
      writer.write(block);
    }
    writer.flush();
  });
}

}  // namespace shardlab::apps
