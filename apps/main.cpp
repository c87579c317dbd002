// shardlab: a ClickHouse-style cluster simulator with an embedded MergeTree engine.
// Exit codes: 0 ok, 1 runtime or corruption error, 2 usage or input error.
#include <fmt/format.h>
#include <malloc.h>

#include <cstdio>

#include "apps/commands.h"
#include "base/errors.h"
#include "shardlab/engine/io_settings.h"

int main(int argc, char** argv) {
  // Column blocks of 64K rows are allocated and freed for every chunk a query reads. Above
  // glibc's mmap threshold each would be a fresh mapping whose pages fault in again; keeping
  // them on the heap lets the next chunk reuse warm pages.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  // A merge reads every column file of up to 100 parts at once; readers past the budget this
  // sets reopen their file for each read instead.
  shardlab::io::raise_open_file_limit();
  CLI::App app{
      "shardlab: simulate and benchmark ClickHouse-style clusters on an embedded MergeTree engine"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every sub-command");
  app.set_version_flag("--version", "shardlab " SHARDLAB_VERSION, "Print the version and exit");
  // Flag mistakes read like every other input error: "shardlab: --seed: expected ...". A bad
  // value's message says what was expected; other mistakes point at --help.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    const bool value = dynamic_cast<const CLI::ValidationError*>(&e) != nullptr;
    return fmt::format("shardlab: {}\n{}", e.what(),
                       value ? "" : "Run with --help for the flags.\n");
  });
  shardlab::apps::add_gen_command(app);
  shardlab::apps::add_load_command(app);
  shardlab::apps::add_sql_command(app);
  shardlab::apps::add_storage_commands(app);
  shardlab::apps::add_flows_command(app);
  shardlab::apps::add_cache_command(app);
  shardlab::apps::add_check_command(app);
  shardlab::apps::add_calibrate_command(app);
  shardlab::apps::add_run_command(app);
  shardlab::apps::add_sweep_command(app);
  shardlab::apps::add_plan_command(app);
  shardlab::apps::add_live_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const shardlab::InputError& e) {
    std::fprintf(stderr, "shardlab: %s\n", e.what());
    return 2;
  } catch (const shardlab::CorruptionError& e) {
    std::fprintf(stderr, "shardlab: corruption: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shardlab: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
