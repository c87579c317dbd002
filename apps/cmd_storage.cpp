#include <chrono>
#include <cstdio>

#include "apps/cli_output.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "apps/table_access.h"
#include "shardlab/engine/date_time.h"
#include "base/errors.h"
#include "shardlab/engine/table.h"

namespace shardlab::apps {
namespace {

int64_t parse_now(const std::string& text) {
  if (text.empty())
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  const auto t = dt::parse_date_time(text);
  if (!t) throw InputError("--now: expected 'YYYY-MM-DD hh:mm:ss' (UTC), got '" + text + "'");
  return *t;
}

struct OptimizeOptions {
  std::string data;
  bool final = false;
  bool dry_run = false;
  std::string now;
  std::string profile;
};

void print_next_merge(engine::Table& table) {
  auto plan = table.select_merge();
  if (!plan) {
    std::printf("nothing to merge\n");
    return;
  }
  std::printf("merge %zu parts of partition %s (%llu rows, %llu bytes) into %s:\n",
              plan->parts.size(), plan->partition_id.c_str(),
              static_cast<unsigned long long>(plan->rows),
              static_cast<unsigned long long>(plan->bytes), plan->result.name().c_str());
  for (const auto& part : plan->parts) std::printf("  %s\n", part->name().c_str());
}

void run_optimize(const OptimizeOptions& opts) {
  const int64_t now = parse_now(opts.now);
  engine::OpenReport report;
  auto table = engine::Table::open(opts.data, &report, /*writable=*/!opts.dry_run);
  print_open_report(report);
  if (opts.dry_run) {
    print_next_merge(*table);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  uint64_t rows = 0, expired = 0;
  const auto profiles = table->optimize(opts.final, now, [&](const engine::MergeProfile& m) {
    rows += m.rows_read;
    expired += m.rows_expired;
  });
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!opts.profile.empty()) {
    nlohmann::json merges = nlohmann::json::array();
    for (const auto& m : profiles) merges.push_back(m.to_json());
    write_report(opts.profile, merges.dump(2) + "\n");
  }
  std::fprintf(stderr,
               "shardlab: %zu merges, %llu rows merged, %llu rows expired by TTL, %.2f s; %zu "
               "active parts\n",
               profiles.size(), static_cast<unsigned long long>(rows),
               static_cast<unsigned long long>(expired), secs, table->active_parts().size());
}

void run_verify(const std::string& data) {
  engine::OpenReport report;
  auto table = engine::Table::open(data, &report, /*writable=*/false);
  size_t bad = 0;
  for (const auto& line : report.damage_lines()) {
    ++bad;
    std::printf("BROKEN\t%s\n", line.c_str());
  }
  for (const auto& part : table->active_parts()) {
    try {
      part->verify_contents();
      std::printf("OK\t%s\n", part->name().c_str());
    } catch (const CorruptionError& e) {
      ++bad;
      std::printf("BROKEN\t%s\n", e.what());
    }
  }
  if (bad > 0) throw CorruptionError(fmt::format("{} damaged or missing part(s)", bad));
}

void run_parts(const std::string& data) {
  engine::OpenReport report;
  auto table = engine::Table::open(data, &report, /*writable=*/false);
  for (const auto& line : report.damage_lines())
    std::fprintf(stderr, "shardlab: warning: %s\n", line.c_str());
  for (const auto& part : table->active_parts())
    std::printf("%s\t%s\t%u\t%llu\t%llu\n", part->name().c_str(),
                part->info().partition_id.c_str(), part->info().level,
                static_cast<unsigned long long>(part->rows()),
                static_cast<unsigned long long>(part->bytes_on_disk()));
}

}  // namespace

void add_storage_commands(CLI::App& app) {
  auto opts = std::make_shared<OptimizeOptions>();
  CLI::App* optimize = app.add_subcommand(
      "optimize",
      "Merge parts: by the merge selector, or every partition into one part with --final");
  optimize->add_option("--data", opts->data, "Table directory")->required();
  optimize->add_flag("--final", opts->final,
                     "Merge each partition into a single part (OPTIMIZE ... FINAL)");
  optimize->add_flag("--dry-run", opts->dry_run, "Print the merge selector's next plan and exit");
  optimize
      ->add_option("--profile", opts->profile,
                   "Write each merge's work profile as a JSON array to this file ('-' for stderr)")
      ->check(output_file(Dash::kStandardStream));
  optimize->add_option("--now", opts->now,
                       "Current time for TTL, 'YYYY-MM-DD hh:mm:ss' UTC (default: the clock)");
  optimize->callback([opts] { run_optimize(*opts); });

  auto verify_data = std::make_shared<std::string>();
  CLI::App* verify =
      app.add_subcommand("verify", "Check every file of every part against its checksum");
  verify->add_option("--data", *verify_data, "Table directory")->required();
  verify->callback([verify_data] { run_verify(*verify_data); });

  auto parts_data = std::make_shared<std::string>();
  CLI::App* parts =
      app.add_subcommand("parts", "List active parts: name, partition, level, rows, bytes on disk");
  parts->add_option("--data", *parts_data, "Table directory")->required();
  parts->callback([parts_data] { run_parts(*parts_data); });
}

}  // namespace shardlab::apps
