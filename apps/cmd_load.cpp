#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "apps/cli_output.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "apps/table_access.h"
#include "apps/generator_options.h"
#include "apps/tsv_reader.h"
#include "base/errors.h"
#include "shardlab/engine/io_settings.h"
#include "shardlab/engine/tsv_format.h"
#include "shardlab/engine/table.h"
#include "workloads/engine_block.h"

namespace shardlab::apps {
namespace {

using Clock = std::chrono::steady_clock;

// Runs the merge selector in the background while rows are inserted, as ClickHouse's
// background pool does, so a long load never reaches the too-many-parts limit.
class BackgroundMerger {
 public:
  BackgroundMerger(engine::Table* table, int64_t now_s)
      : table_(table), now_s_(now_s), thread_([this] { loop(); }) {}
  ~BackgroundMerger() { stop(); }
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (failure_) std::rethrow_exception(failure_);
  }
  void poke() { wake_.notify_all(); }
  uint64_t merges() const { return merges_; }

 private:
  void loop() {
    try {
      for (;;) {
        {
          std::unique_lock<std::mutex> lock(mutex_);
          if (stopping_) return;
        }
        if (auto plan = table_->select_merge()) {
          table_->merge(*plan, now_s_);
          ++merges_;
          continue;
        }
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait_for(lock, std::chrono::milliseconds(100), [&] { return stopping_; });
      }
    } catch (...) {
      failure_ = std::current_exception();
    }
  }

  engine::Table* table_;
  int64_t now_s_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::atomic<uint64_t> merges_{0};
  std::exception_ptr failure_;
  std::thread thread_;
};

class Progress {
 public:
  Progress(uint64_t total, bool enabled) : total_(total), enabled_(enabled), start_(Clock::now()) {}
  void update(uint64_t done) {
    if (!enabled_) return;
    const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
    const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(frac * kWidth);
    std::fprintf(stderr, "\r[%s%s] %5.1f%% %llu/%llu rows  %.2fM rows/s ",
                 std::string(filled, '#').c_str(), std::string(kWidth - filled, ' ').c_str(),
                 frac * 100, static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_),
                 secs > 0 ? static_cast<double>(done) / secs / 1e6 : 0.0);
    std::fflush(stderr);
  }
  void done() {
    if (enabled_) std::fprintf(stderr, "\n");
  }

 private:
  uint64_t total_;
  bool enabled_;
  Clock::time_point start_;
};

struct LoadOptions {
  std::string data;
  std::string ddl;
  std::string tsv;
  uint64_t rows = 0;
  uint64_t batch_rows = 1 << 20;
  bool ack_log = false;
  bool no_merge = false;
  GeneratorOptions gen;
  ScenarioSource scenario;
};

// The table of --data: opened if it exists (and checked against --ddl), else created from
// --ddl, the scenario's DDL or the default user_behavior table.
std::unique_ptr<engine::Table> open_or_create(const LoadOptions& opts,
                                              const std::optional<ScenarioRows>& from_scenario) {
  if (engine::Table::exists(opts.data)) {
    engine::OpenReport report;
    auto table = engine::Table::open(opts.data, &report, true);
    print_open_report(report);
    if (!opts.ddl.empty()) {
      const auto wanted = engine::TableSchema::from_ddl(io::read_file(opts.ddl));
      if (wanted.ddl != table->schema().ddl)
        throw InputError(fmt::format("--ddl {} differs from the table already in '{}'", opts.ddl,
                                     opts.data));
    }
    return table;
  }
  const std::string ddl = !opts.ddl.empty() ? io::read_file(opts.ddl)
                          : from_scenario  ? from_scenario->ddl
                                           : std::string(engine::kDefaultUserBehaviorDdl);
  return engine::Table::create(opts.data, ddl);
}

// Where the rows come from: the generator (or a scenario's rows), or a TabSeparated file.
class RowSource {
 public:
  RowSource(const LoadOptions& opts, const std::optional<ScenarioRows>& from_scenario,
            const engine::TableSchema& schema)
      : rows_(opts.rows), batch_rows_(opts.batch_rows) {
    if (!opts.tsv.empty()) {
      std::istream* in = &std::cin;
      if (opts.tsv != "-") {
        file_ = std::make_unique<std::ifstream>(opts.tsv);
        if (!*file_) throw InputError("--tsv: cannot open '" + opts.tsv + "'");
        in = file_.get();
      }
      tsv_ = std::make_unique<TsvReader>(*in, opts.tsv == "-" ? "<stdin>" : opts.tsv, schema);
      return;
    }
    if (opts.rows == 0) throw InputError("load: give --rows N (or --tsv FILE)");
    generated_ = std::make_unique<workloads::EngineBlockSource>(
        from_scenario ? from_scenario->config : make_generator_config(opts.gen, opts.rows),
        schema);
  }

  // The next block after `done` rows, or false at the end.
  bool next(uint64_t done, engine::Block* block) {
    if (!generated_) return tsv_->next(batch_rows_, block);
    if (done >= rows_) return false;
    generated_->fill(done, std::min<uint64_t>(batch_rows_, rows_ - done), block);
    return true;
  }
  // Rows expected in all, for progress: 0 when reading a file.
  uint64_t expected_rows() const { return generated_ ? rows_ : 0; }

 private:
  uint64_t rows_;
  uint64_t batch_rows_;
  std::unique_ptr<workloads::EngineBlockSource> generated_;
  std::unique_ptr<std::ifstream> file_;
  std::unique_ptr<TsvReader> tsv_;
};

// Undoes what a load did to create its table when the load is refused before it acknowledged a
// row, so a mistake leaves nothing behind: the directories it created, or, when --data already
// existed (empty, or not yet a table), only the entries it added there. Never anything else.
class CreatedTableCleanup {
 public:
  // REQUIRES: called before the table is created.
  explicit CreatedTableCleanup(const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(dir, ec)) {
      existing_dir_ = dir;
      for (const auto& entry : fs::directory_iterator(dir, ec))
        existing_entries_.insert(entry.path().filename().string());
      return;
    }
    // The outermost directory on the path that does not exist yet: create_directories makes
    // it and everything below.
    fs::path missing = dir.lexically_normal();
    if (missing.filename().empty()) missing = missing.parent_path();
    for (fs::path up = missing.parent_path(); !up.empty() && !fs::exists(up, ec);
         up = up.parent_path()) {
      missing = up;
      if (up == up.parent_path()) break;
    }
    created_root_ = missing;
  }
  CreatedTableCleanup(const CreatedTableCleanup&) = delete;
  CreatedTableCleanup& operator=(const CreatedTableCleanup&) = delete;
  ~CreatedTableCleanup() {
    if (!armed_) return;
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!created_root_.empty()) {
      if (fs::remove_all(created_root_, ec) > 0)
        std::fprintf(stderr, "shardlab: removed '%s', created by this refused load\n",
                     created_root_.c_str());
      return;
    }
    std::vector<fs::path> added;
    for (const auto& entry : fs::directory_iterator(existing_dir_, ec)) {
      if (existing_entries_.count(entry.path().filename().string()) == 0)
        added.push_back(entry.path());
    }
    for (const fs::path& path : added) fs::remove_all(path, ec);
    if (!added.empty())
      std::fprintf(stderr, "shardlab: removed the table files this refused load added to '%s'\n",
                   existing_dir_.c_str());
  }
  // The load acknowledged rows (or succeeded): its table stays.
  void keep() { armed_ = false; }

 private:
  std::filesystem::path created_root_;
  std::filesystem::path existing_dir_;
  std::set<std::string> existing_entries_;
  bool armed_ = true;
};

void run_load(LoadOptions opts) {
  std::optional<ScenarioRows> from_scenario;
  if (!opts.scenario.path.empty()) {
    if (!opts.tsv.empty()) throw InputError("load: --scenario and --tsv exclude each other");
    from_scenario = scenario_rows(opts.scenario);
    opts.rows = from_scenario->rows;
  }
  // Declared before the table, so it runs after the table is closed.
  std::optional<CreatedTableCleanup> cleanup;
  if (!engine::Table::exists(opts.data)) {
    require_writable_dir("--data", opts.data);
    cleanup.emplace(opts.data);
  }
  std::unique_ptr<engine::Table> table = open_or_create(opts, from_scenario);
  RowSource source(opts, from_scenario, table->schema());
  std::unique_ptr<BackgroundMerger> merger;
  if (!opts.no_merge)
    merger = std::make_unique<BackgroundMerger>(
        table.get(), std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count());
  Progress progress(source.expected_rows(), stderr_is_tty() && source.expected_rows() > 0);
  const auto start = Clock::now();
  uint64_t done = 0, inserts = 0, bytes = 0;
  engine::Block block;
  while (source.next(done, &block)) {
    // Too many parts: wait as ClickHouse would, giving merges time to catch up.
    if (const uint64_t delay = table->insert_delay_ms(table->max_parts_in_partition());
        delay > 0) {
      if (merger) merger->poke();
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    const engine::InsertResult result = table->insert(block);
    if (cleanup) cleanup->keep();
    done += result.rows;
    bytes += result.bytes_written;
    ++inserts;
    if (opts.ack_log) {
      std::printf("acknowledged %llu\n", static_cast<unsigned long long>(done));
      std::fflush(stdout);
    }
    if (merger) merger->poke();
    progress.update(done);
  }
  progress.done();
  if (cleanup) cleanup->keep();  // an empty TSV file makes an empty table, as asked
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (merger) merger->stop();
  std::fprintf(stderr,
               "shardlab: inserted %llu rows in %llu inserts, %.2f s (%.0f rows/s), %llu bytes "
               "written; %zu active parts, %llu background merges\n",
               static_cast<unsigned long long>(done), static_cast<unsigned long long>(inserts),
               secs, secs > 0 ? static_cast<double>(done) / secs : 0.0,
               static_cast<unsigned long long>(bytes), table->active_parts().size(),
               static_cast<unsigned long long>(merger ? merger->merges() : 0));
}

}  // namespace

void add_load_command(CLI::App& app) {
  auto opts = std::make_shared<LoadOptions>();
  CLI::App* cmd = app.add_subcommand(
      "load", "Create the table if needed and insert generated rows (or a TSV file)");
  cmd->add_option("--data", opts->data, "Table directory")->required();
  cmd->add_option("--ddl", opts->ddl,
                  "File with a CREATE TABLE statement (default: the user_behavior table)")
      ->check(input_file("DDL file", "a file holding a CREATE TABLE statement"));
  cmd->add_option("--tsv", opts->tsv,
                  "Insert this TabSeparated file ('-' for stdin) instead of generated rows")
      ->check(input_file("TSV file", "a TabSeparated file", Dash::kStandardStream));
  add_number(cmd, "--rows", opts->rows, "Rows to generate", uint64_t{1},
             workloads::kMaxGeneratedRows);
  add_number(cmd, "--batch-rows", opts->batch_rows,
             "Rows per insert (ClickHouse's max_insert_block_size)", uint64_t{1}, uint64_t{1} << 26)
      ->capture_default_str();
  cmd->add_flag("--ack-log", opts->ack_log,
                "Print 'acknowledged N' on stdout after each durable insert");
  cmd->add_flag("--no-merge", opts->no_merge, "Do not run background merges");
  add_generator_options(cmd, &opts->gen);
  add_scenario_options(cmd, &opts->scenario);
  cmd->callback([opts] { run_load(*opts); });
}

}  // namespace shardlab::apps
