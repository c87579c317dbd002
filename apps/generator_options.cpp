#include "apps/generator_options.h"

#include "apps/cli_output.h"
#include "apps/flag_checks.h"
#include "shardlab/engine/date_time.h"
#include "base/errors.h"
#include "scenarios/scenario.h"
#include "workloads/diurnal_curve.h"
#include "workloads/row_generator.h"

namespace shardlab::apps {

// The highest peak validate() can accept: the full-scale daily volume at its limit, at the
// curve's highest peak-to-mean ratio. The bound that depends on --rows-per-day is validate()'s.
constexpr double kMaxPeakRowsPerS = static_cast<double>(workloads::kMaxGeneratedRows) /
                                    dt::kSecondsPerDay * workloads::DiurnalCurve::kMaxPeakToMean;
// Action weights are relative; no mix needs a ratio beyond a billion.
constexpr double kMaxActionWeight = 1e9;

void add_generator_options(CLI::App* cmd, GeneratorOptions* o) {
  auto& c = o->config;
  add_number(cmd, "--seed", c.seed, "Seed of every random draw", uint64_t{0}, kAnySeed)
      ->capture_default_str();
  add_number(cmd, "--days", c.days, "Days of event time", 1, workloads::kMaxDays)
      ->capture_default_str();
  cmd->add_option(
      "--start", o->start,
      "First second of event time, 'YYYY-MM-DD hh:mm:ss' UTC (default 2024-05-01 00:00:00)");
  add_number(cmd, "--users", c.users, "Distinct users (Zipf ranks 1..N)", uint64_t{1},
             workloads::kMaxIds)
      ->capture_default_str();
  add_number(cmd, "--user-zipf", c.user_zipf_exponent, "Zipf exponent of user activity", 0.0,
             workloads::kMaxZipfExponent)
      ->capture_default_str();
  add_number(cmd, "--items", c.items, "Distinct items (Zipf ranks 1..M)", uint64_t{1},
             workloads::kMaxIds)
      ->capture_default_str();
  add_number(cmd, "--item-zipf", c.item_zipf_exponent, "Zipf exponent of item popularity", 0.0,
             workloads::kMaxZipfExponent)
      ->capture_default_str();
  add_number(cmd, "--female-ratio", c.female_ratio, "Share of users who are women", 0.0, 1.0)
      ->capture_default_str();
  add_number(cmd, "--rows-per-day", c.rows_per_day,
             "Full-scale daily volume (sets the curve's mean)", uint64_t{1},
             workloads::kMaxGeneratedRows)
      ->capture_default_str();
  add_number(cmd, "--peak-rows-per-s", c.peak_rows_per_s,
             "Full-scale peak rate (sets the curve's peak)", 0.0, kMaxPeakRowsPerS)
      ->capture_default_str();
  add_number(cmd, "--utc-offset-hours", c.utc_offset_hours, "Local time of the diurnal curve",
             -12.0, 14.0)
      ->capture_default_str();
  // Four numbers in one flag: the range check applies to each (CLI11 validates every value).
  cmd->add_option(
         "--action-mix",
         [o](const CLI::results_t& r) {
           if (r.size() != 4) return false;
           o->config.action_mix = {std::stod(r[0]), std::stod(r[1]), std::stod(r[2]),
                                   std::stod(r[3])};
           return true;
         },
         "Weights of click, fav, cart, buy")
      ->expected(4)
      ->type_name("FLOAT")
      ->check(real_number(0, kMaxActionWeight));
}

workloads::GeneratorConfig make_generator_config(const GeneratorOptions& options, uint64_t rows) {
  workloads::GeneratorConfig config = options.config;
  config.total_rows = rows;
  if (!options.start.empty()) {
    const auto t = dt::parse_date_time(options.start);
    if (!t)
      throw InputError("--start: expected 'YYYY-MM-DD hh:mm:ss' (UTC), got '" + options.start +
                       "'");
    config.start = *t;
  }
  workloads::validate(config);
  return config;
}

void add_scenario_options(CLI::App* cmd, ScenarioSource* source) {
  cmd->add_option("--scenario", source->path,
                  "Take the generator settings, table and row count from this scenario")
      ->check(input_file("scenario file", "a scenario YAML file"));
  cmd->add_flag("--smoke", source->smoke, "With --scenario: apply its smoke section");
  cmd->add_option("--set", source->overrides, "With --scenario: override a key (repeatable)");
  cmd->add_option("--variant", source->variant, "With --scenario: apply this variant");
}

ScenarioRows scenario_rows(const ScenarioSource& source) {
  warn_duplicate_sets(source.overrides);
  const scenarios::Scenario s =
      scenarios::load_scenario(source.path, source.overrides, source.smoke, source.variant);
  ScenarioRows out;
  out.config = s.workload.generator;
  out.ddl = s.table.ddl;
  const workloads::RowGenerator generator(out.config);
  const int64_t end = out.config.start + scenarios::data_seconds(s.run, s.run.duration);
  out.rows = std::min(s.workload.rows, generator.first_row_at(end));
  return out;
}

}  // namespace shardlab::apps
