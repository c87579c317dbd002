#include <cstdio>
#include <thread>

#include "apps/cli_output.h"
#include "apps/commands.h"
#include "base/errors.h"
#include "shardlab/engine/query.h"
#include "shardlab/engine/tsv_format.h"
#include "shardlab/engine/table.h"

namespace shardlab::apps {

void add_sql_command(CLI::App& app) {
  struct Options {
    std::string data;
    std::string sql;
    std::string profile;
    unsigned threads = 0;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("sql", "Run a SELECT on a table and print TabSeparated rows");
  cmd->add_option("--data", opts->data, "Table directory")->required();
  cmd->add_option("query", opts->sql, "The SELECT statement")->required();
  cmd->add_option("--profile", opts->profile,
                  "Write the work profile as JSON to this file ('-' for stderr)");
  cmd->add_option("--threads", opts->threads, "Threads (default: one per core)");
  cmd->callback([opts] {
    engine::OpenReport report;
    auto table = engine::Table::open(opts->data, &report, /*writable=*/false);
    for (const auto& broken : report.broken)
      std::fprintf(stderr, "shardlab: warning: skipping damaged part: %s\n", broken.c_str());
    auto query = engine::Query::prepare(table->schema(), opts->sql);
    const unsigned threads =
        opts->threads > 0 ? opts->threads : std::max(1u, std::thread::hardware_concurrency());
    const engine::QueryResult result = query->run(table->active_parts(), threads);
    std::string out;
    engine::append_tsv(result.columns, &out);
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (!opts->profile.empty()) {
      write_report(opts->profile, result.profile.to_json().dump(2) + "\n");
    }
  });
}

}  // namespace shardlab::apps
