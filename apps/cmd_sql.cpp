#include <cstdio>
#include <thread>

#include "apps/cli_output.h"
#include "apps/commands.h"
#include "apps/table_access.h"
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
    bool allow_broken_parts = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("sql", "Run a SELECT on a table and print TabSeparated rows");
  cmd->add_option("--data", opts->data, "Table directory")->required();
  cmd->add_option("query", opts->sql, "The SELECT statement")->required();
  cmd->add_option("--profile", opts->profile,
                  "Write the work profile as JSON to this file ('-' for stderr)");
  cmd->add_option("--threads", opts->threads, "Threads (default: one per core)");
  cmd->add_flag("--allow-broken-parts", opts->allow_broken_parts,
                "Answer from the healthy parts when some are damaged or missing (default: exit 1)");
  cmd->callback([opts] {
    auto table = open_for_reading(opts->data, opts->allow_broken_parts);
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
