// shardlab check SCENARIO [--set PATH=VALUE]... [--smoke] [--variant NAME]
//
// Validates a scenario file without running it and prints a short summary on stdout: nodes,
// shards x replicas, sharding, insert mode, rows, queries, faults, reshard, duration. A file with
// variants is checked once per variant (or only NAME's with --variant). Without --smoke the smoke section
// is checked too, so a mistake in it shows before a smoke run. Mistakes are input errors: exit
// code 2 and `file:line:col: message` on stderr (main.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apps/cli_output.h"
#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "scenarios/scenario.h"
#include "shardlab/engine/date_time.h"
#include "workloads/row_generator.h"

namespace shardlab::apps {

namespace {

using scenarios::Scenario;

std::string plural(uint64_t count, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", count, count == 1 ? one : many);
}

// The first paragraph of the question on one line.
std::string first_paragraph(const std::string& text) {
  std::string out;
  for (size_t from = 0; from < text.size();) {
    size_t end = text.find('\n', from);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(from, end - from);
    if (line.find_first_not_of(' ') == std::string::npos) break;
    if (!out.empty()) out += ' ';
    out += line;
    from = end + 1;
  }
  return out;
}

std::string sharding_text(const Scenario& s) {
  const auto& spec = s.cluster.sharding;
  if (s.cluster.shards == 1) return "one shard";
  std::string text = fmt::format("{} sharding", scenarios::sharding_kind_name(spec.kind));
  if (!spec.key.empty()) text += fmt::format(" on {}", spec.key);
  if (!spec.weights.empty()) {
    text += " with weights";
    for (const uint32_t weight : spec.weights) text += fmt::format(" {}", weight);
  }
  return text;
}

std::string hardware_text(const Scenario& s) {
  std::map<std::string, size_t> per_type;
  for (const auto& node : s.cluster.nodes) ++per_type[node.type];
  std::string text = plural(s.cluster.nodes.size(), "node", "nodes") + ":";
  bool first = true;
  for (const auto& [type, count] : per_type) {
    const scenarios::NodeType& spec = s.hardware.node_types.at(type);
    text += fmt::format("{} {} x {} ({} cores, {} memory, disk {}/s read, {}/s write)",
                        first ? "" : ";", count, type, spec.cores,
                        scenarios::format_bytes(static_cast<double>(spec.memory_bytes)),
                        scenarios::format_bytes(spec.disk.read_bytes_per_s),
                        scenarios::format_bytes(spec.disk.write_bytes_per_s));
    first = false;
  }
  return text;
}

std::string network_text(const Scenario& s) {
  const auto& topology = s.topology;
  std::string text;
  if (topology.from_racks) {
    std::vector<std::string> racks;
    for (const auto& node : s.cluster.nodes) {
      if (std::find(racks.begin(), racks.end(), node.rack) == racks.end())
        racks.push_back(node.rack);
    }
    text = fmt::format("{} (racks shorthand), {} host links", plural(racks.size(), "rack", "racks"),
                       scenarios::format_bandwidth(topology.links.front().bandwidth_bytes_per_s));
    if (racks.size() > 1) {
      text += fmt::format(", {} uplinks to the spine",
                          scenarios::format_bandwidth(
                              topology.links[s.cluster.nodes.size()].bandwidth_bytes_per_s));
    }
  } else {
    text = fmt::format("{}, {}, {}", plural(topology.hosts.size(), "host", "hosts"),
                       plural(topology.switches.size(), "switch", "switches"),
                       plural(topology.links.size(), "link", "links"));
  }
  text += topology.sharing == scenarios::Sharing::kRtt ? ", rtt sharing" : ", maxmin sharing";
  if (!s.cluster.coordinator_node.empty()) {
    text += fmt::format("; coordinator {} ({} per operation)", s.cluster.coordinator_node,
                        scenarios::format_duration(s.cluster.coordinator_latency));
  }
  return text;
}

std::string rows_text(const Scenario& s) {
  const auto& w = s.workload;
  const auto& g = w.generator;
  std::string text = fmt::format(
      "{} over {} from {} UTC, peak {:.6g} rows/s, batches of up to {} rows or {}", w.rows,
      plural(static_cast<uint64_t>(g.days), "day", "days"), dt::date_time_to_string(g.start),
      w.peak_rows_per_s * s.run.speed, w.batch_rows, scenarios::format_duration(w.batch_interval));
  const base::Duration data_length = base::Duration::seconds(int64_t{g.days} * dt::kSecondsPerDay);
  if (scenarios::data_seconds(s.run, s.run.duration) < data_length.ns() / 1'000'000'000) {
    const workloads::RowGenerator generator(g);
    const uint64_t due = generator.first_row_at(g.start + scenarios::data_seconds(s.run, s.run.duration));
    text += fmt::format("; the run ends after {}, so it inserts the first {} ({:.3g}%)",
                        scenarios::format_duration(s.run.duration), due,
                        100.0 * static_cast<double>(due) / static_cast<double>(w.rows));
  }
  return text;
}

std::string queries_text(const Scenario& s) {
  if (s.workload.queries.empty()) return "none (ingest only)";
  std::string text = std::to_string(s.workload.queries.size());
  for (size_t idx = 0; idx < s.workload.queries.size(); ++idx) {
    const auto& q = s.workload.queries[idx];
    text += fmt::format("{} {} (", idx == 0 ? ":" : ",", q.name);
    text += q.rate_per_s > 0 ? fmt::format("{:g}/s", q.rate_per_s) : std::string("closed loop");
    text += fmt::format(", {}", plural(static_cast<uint64_t>(q.clients), "client", "clients"));
    if (q.concurrency > 1) text += fmt::format(" x {} in flight", q.concurrency);
    if (q.target_latency_s > 0) {
      text +=
          fmt::format(", target {}",
                      scenarios::format_duration(base::Duration::from_seconds(q.target_latency_s)));
    }
    text += ")";
  }
  return text;
}

std::string faults_text(const Scenario& s) {
  if (s.faults.empty() && s.random_faults.empty()) return "none";
  std::string text;
  for (const auto& f : s.faults) {
    if (!text.empty()) text += "; ";
    std::string targets;
    for (const auto& t : f.targets) targets += (targets.empty() ? "" : " ") + t;
    text += fmt::format("{} of {} at {}", f.kind, targets, scenarios::format_duration(f.at));
    if (f.kind == "broken_part") {
      text += fmt::format(" ({} part{} per replica)", f.parts, f.parts == 1 ? "" : "s");
      continue;
    }
    text += f.duration == base::Duration::max()
                ? std::string(" for the rest of the run")
                : fmt::format(" for {}", scenarios::format_duration(f.duration));
    if (f.kind == "slow_disk" || f.kind == "slow_node") text += fmt::format(" (x{:g})", f.factor);
  }
  for (const auto& f : s.random_faults) {
    if (!text.empty()) text += "; ";
    text += fmt::format("random {} of {}, MTBF {}, MTTR {}", f.kind,
                        plural(f.targets.size(), "node", "nodes"),
                        scenarios::format_duration(f.mtbf), scenarios::format_duration(f.mttr));
  }
  return text;
}

using SummaryLines = std::vector<std::pair<std::string, std::string>>;

SummaryLines summary(const Scenario& s) {
  SummaryLines out;
  const auto line = [&](std::string label, std::string text) {
    out.emplace_back(std::move(label), std::move(text));
  };
  if (!s.question.empty()) line("question", first_paragraph(s.question));
  line("hardware", hardware_text(s));
  line("network", network_text(s));
  line("cluster", fmt::format("{} x {}, {}", plural(s.cluster.shards, "shard", "shards"),
                              plural(s.cluster.replicas, "replica", "replicas"), sharding_text(s)));
  std::string inserts = fmt::format("{}, internal_replication {}, load_balancing {}",
                                    scenarios::insert_mode_name(s.cluster.insert_mode),
                                    s.cluster.internal_replication ? "true" : "false",
                                    scenarios::load_balancing_name(s.cluster.load_balancing));
  if (s.cluster.insert_quorum > 0) {
    inserts += fmt::format(", insert_quorum {}", s.cluster.insert_quorum);
  }
  line("inserts", inserts);
  const auto& schema = s.table.schema;
  std::string table =
      fmt::format("{}, {}", schema.name, plural(schema.columns.size(), "column", "columns"));
  if (schema.partition_by) {
    table += fmt::format(", PARTITION BY {}", schema.partition_by->to_string());
  }
  if (schema.ttl) table += fmt::format(", TTL {}", schema.ttl->to_string());
  line("table", table);
  line("rows", rows_text(s));
  line("queries", queries_text(s));
  line("faults", faults_text(s));
  if (s.reshard) {
    line("reshard", fmt::format("at {}, {} join ({} shards in all), later inserts by {} {}{}",
                                scenarios::format_duration(s.reshard->at),
                                plural(s.reshard->add.size(), "shard", "shards"),
                                s.cluster.shards + s.reshard->add.size(),
                                scenarios::sharding_kind_name(s.reshard->sharding.kind),
                                s.reshard->sharding.key,
                                s.reshard->compare_key.empty()
                                    ? std::string()
                                    : "; hash and jump compared on " + s.reshard->compare_key));
  }
  std::string run = scenarios::format_duration(s.run.duration);
  if (s.run.speed != 1.0) run += fmt::format(" at speed {:g} (the day's time and rows divided by it)", s.run.speed);
  if (s.run.warmup.ns() > 0) {
    run += fmt::format(" (warm-up {})", scenarios::format_duration(s.run.warmup));
  }
  run +=
      fmt::format(", seed {}, {}, into {}", s.run.seed,
                  plural(static_cast<uint64_t>(s.run.replications), "replication", "replications"),
                  s.run.out_dir);
  line("run", run);
  return out;
}

std::string render(const SummaryLines& lines) {
  std::string out;
  for (const auto& [label, text] : lines) out += fmt::format("  {:<9} {}\n", label, text);
  return out;
}

void run_check(const std::string& path, const std::vector<std::string>& overrides, bool smoke,
               const std::string& variant) {
  const Scenario base = scenarios::load_scenario(path, overrides, smoke, variant);
  std::vector<Scenario> variants;
  if (variant.empty() && !base.variants.empty()) {
    variants = scenarios::load_scenario_variants(path, overrides, smoke);
  }
  // The smoke section is part of the file: check it even when not asked to apply it.
  const bool check_smoke = !smoke && !base.smoke_paths.empty();
  if (check_smoke) {
    if (variant.empty()) {
      scenarios::load_scenario_variants(path, overrides, true);
    } else {
      scenarios::load_scenario(path, overrides, true, variant);
    }
  }

  std::string out = fmt::format("{}: ok", path);
  std::vector<std::string> notes;
  if (smoke) notes.push_back("smoke");
  if (!overrides.empty()) notes.push_back(plural(overrides.size(), "override", "overrides"));
  if (!notes.empty()) {
    out += " (";
    for (size_t idx = 0; idx < notes.size(); ++idx) out += (idx ? ", " : "") + notes[idx];
    out += ")";
  }
  out += fmt::format("\nscenario {}{}\n", base.name,
                     base.variant.empty() ? "" : fmt::format(", variant {}", base.variant));
  const SummaryLines base_lines = summary(base);
  out += render(base_lines);
  if (!variants.empty()) {
    out += fmt::format("{} checked; what each changes:\n",
                       plural(variants.size(), "variant", "variants"));
    for (const Scenario& s : variants) {
      out += fmt::format("variant {}", s.variant);
      for (const auto& v : s.variants) {
        if (v.name == s.variant && !v.description.empty()) out += ": " + v.description;
      }
      out += "\n";
      SummaryLines changed;
      for (const auto& entry : summary(s)) {
        if (std::find(base_lines.begin(), base_lines.end(), entry) == base_lines.end()) {
          changed.push_back(entry);
        }
      }
      out += changed.empty() ? "  (the file as written)\n" : render(changed);
    }
  }
  if (check_smoke) {
    out += fmt::format("smoke section: ok ({} changes; see them applied with --smoke)\n",
                       base.smoke_paths.size());
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

void add_check_command(CLI::App& app) {
  struct Options {
    std::string scenario;
    std::vector<std::string> overrides;
    bool smoke = false;
    std::string variant;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "check", "Validate a scenario file without running it and print a short summary");
  cmd->add_option("scenario", opts->scenario, "SCENARIO.yaml")
      ->required()
      ->check(input_file("scenario file", "a scenario YAML file"));
  cmd->add_option("--set", opts->overrides,
                  "Override a key before validation: PATH=VALUE, e.g. cluster.insert_mode=sync "
                  "(repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--smoke", opts->smoke, "Apply the file's smoke section (a small, fast version)");
  cmd->add_option("--variant", opts->variant, "Check only this variant");
  cmd->callback([opts] {
    warn_duplicate_sets(opts->overrides);
    run_check(opts->scenario, opts->overrides, opts->smoke, opts->variant);
  });
}

}  // namespace shardlab::apps
