#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "apps/cli_output.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "apps/table_access.h"
#include "base/errors.h"
#include "shardlab/engine/query.h"
#include "shardlab/engine/tsv_format.h"
#include "shardlab/engine/table.h"

namespace shardlab::apps {
namespace {

// More threads than this only adds overhead: parts are read a granule range per thread.
constexpr unsigned kMaxQueryThreads = 1024;

// The whole of FILE, or of stdin for "-" (--file checked that FILE is a readable file).
std::string read_query_file(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    if (std::cin.bad()) throw RuntimeError("sql: cannot read the query from stdin");
    return text.str();
  }
  std::ifstream file(path, std::ios::binary);
  text << file.rdbuf();
  if (!file || file.bad()) throw InputError("--file: cannot read the query file '" + path + "'");
  return text.str();
}

}  // namespace

void add_sql_command(CLI::App& app) {
  struct Options {
    std::string data;
    std::string sql;
    std::string file;
    std::string profile;
    unsigned threads = 0;
    bool allow_broken_parts = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("sql", "Run a SELECT on a table and print TabSeparated rows");
  cmd->add_option("--data", opts->data, "Table directory")->required();
  CLI::Option* query = cmd->add_option("query", opts->sql, "The SELECT statement");
  cmd->add_option("--file", opts->file, "Read the SELECT statement from this file ('-' for stdin)")
      ->check(input_file("query file", "a file holding one SELECT", Dash::kStandardStream))
      ->excludes(query);
  cmd->add_option("--profile", opts->profile,
                  "Write the work profile as JSON to this file ('-' for stderr)")
      ->check(output_file(Dash::kStandardStream));
  add_number(cmd, "--threads", opts->threads, "Threads (0: one per core)", 0u, kMaxQueryThreads)
      ->capture_default_str();
  cmd->add_flag("--allow-broken-parts", opts->allow_broken_parts,
                "Answer from the healthy parts when some are damaged or missing (default: exit 1)");
  cmd->callback([opts] {
    if (!opts->file.empty()) opts->sql = read_query_file(opts->file);
    if (opts->sql.empty() && opts->file.empty())
      throw InputError("sql: give the SELECT as an argument, or with --file FILE ('-' for stdin)");
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
