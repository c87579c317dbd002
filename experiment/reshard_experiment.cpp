#include "experiment/reshard_experiment.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "plots/human_units.h"
#include "experiment/cluster_binding.h"

namespace shardlab::experiment {

namespace {

namespace cl = sim::cluster;

// Every shard's replica nodes, serving shards first, then the joining ones.
std::vector<std::vector<std::string>> all_placement(const scenarios::Scenario& s) {
  std::vector<std::vector<std::string>> placement = s.cluster.placement;
  placement.insert(placement.end(), s.reshard->add.begin(), s.reshard->add.end());
  return placement;
}

cl::ShardingSpec over(cl::ShardingKind kind, const std::string& key, size_t shards) {
  cl::ShardingSpec spec;
  spec.kind = kind;
  spec.key = key;
  spec.shards = shards;
  return spec;
}

// "hash cityHash64(user_id)", or "random".
std::string strategy_label(const cl::ReshardMoves& moves) {
  return moves.key.empty() ? moves.name : moves.name + " " + moves.key;
}

}  // namespace

std::vector<cl::ReshardStrategy> reshard_strategies(const scenarios::Scenario& s) {
  const scenarios::ReshardConfig& r = *s.reshard;
  const size_t before = s.cluster.shards;
  const size_t after = before + r.add.size();
  std::vector<cl::ReshardStrategy> strategies;
  cl::ShardingSpec own = s.cluster.sharding;
  own.shards = before;
  strategies.push_back({cl::sharding_kind_name(own.kind), own, r.sharding});
  const auto compare = [&](cl::ShardingKind kind, const std::string& key) {
    if (kind == own.kind && key == own.key) return;
    strategies.push_back({cl::sharding_kind_name(kind), over(kind, key, before), over(kind, key, after)});
  };
  if (!r.compare_key.empty()) {
    compare(cl::ShardingKind::kHash, r.compare_key);
    compare(cl::ShardingKind::kJump, r.compare_key);
  }
  compare(cl::ShardingKind::kRandom, "");
  return strategies;
}

sim::Process run_reshard(sim::Simulation& sim, cl::Cluster& cluster, const scenarios::Scenario& s,
                         uint64_t seed, ReshardOutcome* out) {
  co_await sim.sleep(s.reshard->at);
  out->at_s = sim.now().seconds();
  cl::ReshardAnalysis analysis(cluster.schema(), reshard_strategies(s), seed);
  // Counted in one simulated instant: no simulated work runs while the rows are read.
  uint64_t part_number = 0;
  for (size_t shard = 0; shard < cluster.shards(); ++shard) {
    for (const engine::PartPtr& part : cluster.active_parts(shard)) {
      if (part->rows() == 0) continue;
      out->rows += part->rows();
      out->bytes += part->bytes_on_disk();
      analysis.add_rows(engine::read_part_columns(part, analysis.key_columns()),
                        static_cast<double>(part->bytes_on_disk()) / static_cast<double>(part->rows()),
                        part_number++);
    }
  }
  out->moves = analysis.result();
  out->shards_before = cluster.shards();
  cluster.grow(s.reshard->sharding);
  out->shards_after = cluster.shards();
  out->done = true;
}

void time_reshard_transfers(const scenarios::Scenario& s, ReshardOutcome* out) {
  const std::vector<std::vector<std::string>> placement = all_placement(s);
  out->transfer_s.clear();
  for (const cl::ReshardMoves& moves : out->moves) {
    sim::Simulation sim(1);
    std::unique_ptr<sim::Network> network = build_network(sim, s.topology);
    const auto host = [&](const std::string& name) { return *network->find_host(name); };
    // Flows with the same ends share one transfer.
    std::map<std::pair<std::string, std::string>, double> flows;
    for (size_t from = 0; from < moves.bytes_between.size(); ++from) {
      for (size_t to = 0; to < moves.bytes_between[from].size(); ++to) {
        const auto bytes = static_cast<double>(moves.bytes_between[from][to]);
        if (bytes == 0) continue;
        const std::string& source = placement[from].front();
        const std::vector<std::string>& targets = placement[to];
        if (s.cluster.internal_replication) {
          // One replica receives the rows; the others fetch the new parts from it.
          flows[{source, targets.front()}] += bytes;
          for (size_t r = 1; r < targets.size(); ++r) flows[{targets.front(), targets[r]}] += bytes;
        } else {
          for (const std::string& target : targets) flows[{source, target}] += bytes;
        }
      }
    }
    std::vector<sim::Future> transfers;
    for (const auto& [ends, bytes] : flows) {
      if (ends.first == ends.second) continue;  // a shard that stays on the same node
      transfers.push_back(network->transfer(host(ends.first), host(ends.second), bytes));
    }
    sim.run();
    out->transfer_s.push_back(sim.now().seconds());
    sim.shutdown();
  }
}

results::Json reshard_json(const ReshardOutcome& outcome) {
  results::Json strategies = results::Json::array();
  for (size_t i = 0; i < outcome.moves.size(); ++i) {
    const cl::ReshardMoves& m = outcome.moves[i];
    results::Json rows_after = results::Json::array();
    for (uint64_t rows : m.rows_after) rows_after.push_back(rows);
    strategies.push_back({
        {"strategy", m.name},
        {"key", m.key},
        {"own", i == 0},
        {"rows_to_move", m.rows_to_move},
        {"fraction_to_move", results::json_number(m.fraction_to_move())},
        {"bytes_to_move", m.bytes_to_move},
        {"transfer_s", results::json_number(i < outcome.transfer_s.size() ? outcome.transfer_s[i] : 0.0)},
        {"rows_per_shard_after", std::move(rows_after)},
        {"rows_max_over_mean_after", results::json_number(m.rows_max_over_mean_after)},
        {"rows_to_balance", m.rows_to_balance}});
  }
  return {{"at_s", results::json_number(outcome.at_s)},
          {"shards_before", outcome.shards_before},
          {"shards_after", outcome.shards_after},
          {"rows", outcome.rows},
          {"bytes", outcome.bytes},
          {"strategies", std::move(strategies)}};
}

std::vector<std::pair<std::string, double>> reshard_metrics(const ReshardOutcome& outcome) {
  std::vector<std::pair<std::string, double>> metrics;
  for (size_t i = 0; i < outcome.moves.size(); ++i) {
    const cl::ReshardMoves& m = outcome.moves[i];
    const bool kind_repeats =
        std::count_if(outcome.moves.begin(), outcome.moves.end(),
                      [&](const cl::ReshardMoves& other) { return other.name == m.name; }) > 1;
    const std::string label = kind_repeats ? fmt::format("{}({})", m.name, m.key) : m.name;
    metrics.emplace_back("reshard." + label + ".fraction_to_move", m.fraction_to_move());
    metrics.emplace_back("reshard." + label + ".transfer_s",
                         i < outcome.transfer_s.size() ? outcome.transfer_s[i] : 0.0);
  }
  return metrics;
}

plots::ReportSection reshard_section(const ReshardOutcome& outcome) {
  plots::ReportSection section;
  section.title = "Adding shards";
  section.text = fmt::format(
      "At {} the cluster grew from {} to {} shards; later inserts use every shard, and the {} "
      "rows stored then ({} bytes) stayed where they were. For each strategy: the rows and bytes "
      "a copy would move to restore the strategy's placement, the time that copy takes on the "
      "otherwise idle network, and how evenly the shards are filled afterwards (the most loaded "
      "shard over the mean, and the rows still above their shard's fair share). The first row "
      "is the cluster's own strategy, {}.",
      plots::format_duration(outcome.at_s), outcome.shards_before, outcome.shards_after,
      plots::format_count(outcome.rows), plots::format_si(static_cast<double>(outcome.bytes)),
      outcome.moves.empty() ? std::string("none") : strategy_label(outcome.moves.front()));
  section.header = {"strategy", "rows to move", "share", "bytes to move", "network time",
                    "max / mean after", "rows to balance"};
  section.numeric = {false, true, true, true, true, true, true};
  for (size_t i = 0; i < outcome.moves.size(); ++i) {
    const cl::ReshardMoves& m = outcome.moves[i];
    section.rows.push_back(
        {strategy_label(m),
         plots::format_count(m.rows_to_move), fmt::format("{:.1f}%", m.fraction_to_move() * 100),
         plots::format_si(static_cast<double>(m.bytes_to_move)),
         plots::format_duration(i < outcome.transfer_s.size() ? outcome.transfer_s[i] : 0.0),
         plots::format_ratio(m.rows_max_over_mean_after), plots::format_count(m.rows_to_balance)});
  }
  return section;
}

}  // namespace shardlab::experiment
