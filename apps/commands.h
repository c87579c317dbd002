// The shardlab sub-commands. Each registers its options on the CLI and runs when chosen;
// errors propagate as exceptions that main() turns into exit codes.
#pragma once

#include <CLI/CLI.hpp>

namespace shardlab::apps {

void add_gen_command(CLI::App& app);
void add_load_command(CLI::App& app);
void add_sql_command(CLI::App& app);
void add_storage_commands(CLI::App& app);  // optimize, verify, parts
void add_flows_command(CLI::App& app);  // network transfers on a platform (cmd_flows.cpp)
void add_check_command(CLI::App& app);  // validate a scenario file (cmd_check.cpp)
void add_calibrate_command(CLI::App& app);  // cost model coefficients (cmd_calibrate.cpp)
void add_run_command(CLI::App& app);  // simulate a scenario (cmd_run.cpp)
void add_sweep_command(CLI::App& app);  // a what-if grid of runs (cmd_sweep.cpp)
void add_plan_command(CLI::App& app);   // the capacity planner (cmd_plan.cpp)
void add_cache_command(CLI::App& app);  // the cache model alone (cmd_cache.cpp)
void add_live_command(CLI::App& app);   // a scenario on real servers (cmd_live.cpp)

}  // namespace shardlab::apps
