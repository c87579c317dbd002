#include "apps/generator_options.h"

#include "shardlab/engine/date_time.h"
#include "base/errors.h"
#include "scenarios/scenario.h"
#include "workloads/row_generator.h"

namespace shardlab::apps {

void add_generator_options(CLI::App* cmd, GeneratorOptions* o) {
  auto& c = o->config;
  cmd->add_option("--seed", c.seed, "Seed of every random draw")->capture_default_str();
  cmd->add_option("--days", c.days, "Days of event time")->capture_default_str();
  cmd->add_option(
      "--start", o->start,
      "First second of event time, 'YYYY-MM-DD hh:mm:ss' UTC (default 2024-05-01 00:00:00)");
  cmd->add_option("--users", c.users, "Distinct users (Zipf ranks 1..N)")->capture_default_str();
  cmd->add_option("--user-zipf", c.user_zipf_exponent, "Zipf exponent of user activity")
      ->capture_default_str();
  cmd->add_option("--items", c.items, "Distinct items (Zipf ranks 1..M)")->capture_default_str();
  cmd->add_option("--item-zipf", c.item_zipf_exponent, "Zipf exponent of item popularity")
      ->capture_default_str();
  cmd->add_option("--female-ratio", c.female_ratio, "Share of users who are women")
      ->capture_default_str();
  cmd->add_option("--rows-per-day", c.rows_per_day,
                  "Full-scale daily volume (sets the curve's mean)")
      ->capture_default_str();
  cmd->add_option("--peak-rows-per-s", c.peak_rows_per_s,
                  "Full-scale peak rate (sets the curve's peak)")
      ->capture_default_str();
  cmd->add_option("--utc-offset-hours", c.utc_offset_hours, "Local time of the diurnal curve")
      ->capture_default_str();
  cmd->add_option(
         "--action-mix",
         [o](const CLI::results_t& r) {
           if (r.size() != 4) return false;
           o->config.action_mix = {std::stod(r[0]), std::stod(r[1]), std::stod(r[2]),
                                   std::stod(r[3])};
           return true;
         },
         "Weights of click, fav, cart, buy")
      ->expected(4);
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
                  "Take the generator settings, table and row count from this scenario");
  cmd->add_flag("--smoke", source->smoke, "With --scenario: apply its smoke section");
  cmd->add_option("--set", source->overrides, "With --scenario: override a key (repeatable)");
  cmd->add_option("--variant", source->variant, "With --scenario: apply this variant");
}

ScenarioRows scenario_rows(const ScenarioSource& source) {
  const scenarios::Scenario s =
      scenarios::load_scenario(source.path, source.overrides, source.smoke, source.variant);
  ScenarioRows out;
  out.config = s.workload.generator;
  out.ddl = s.table.ddl;
  const workloads::RowGenerator generator(out.config);
  const int64_t end = out.config.start + s.run.duration.ns() / 1'000'000'000;
  out.rows = std::min(s.workload.rows, generator.first_row_at(end));
  return out;
}

}  // namespace shardlab::apps
