#include "sim/cluster/reshard.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/errors.h"

namespace shardlab::sim::cluster {

namespace {

// Rows each shard should hold when `total` rows are spread by `spec`'s weights (equal shares for
// strategies without weights).
std::vector<double> fair_shares(const ShardingSpec& spec, uint64_t total) {
  std::vector<double> weights(spec.shards, 1.0);
  if (spec.weights.size() == spec.shards) {
    for (size_t s = 0; s < spec.shards; ++s) weights[s] = spec.weights[s];
  }
  double sum = 0;
  for (double w : weights) sum += w;
  std::vector<double> shares;
  for (double w : weights) shares.push_back(static_cast<double>(total) * w / sum);
  return shares;
}

}  // namespace

ReshardAnalysis::ReshardAnalysis(const engine::TableSchema& schema,
                                 std::vector<ReshardStrategy> strategies, uint64_t seed)
    : strategies_(std::move(strategies)), seed_(seed) {
  for (const ReshardStrategy& strategy : strategies_) {
    if (strategy.after.shards <= strategy.before.shards) {
      throw InputError(fmt::format("resharding '{}' from {} to {} shards adds none", strategy.name,
                                   strategy.before.shards, strategy.after.shards));
    }
    Tally tally{ShardingScheme(schema, strategy.before), ShardingScheme(schema, strategy.after), 0,
                0, std::vector<std::vector<double>>(strategy.after.shards,
                                                    std::vector<double>(strategy.after.shards, 0)),
                std::vector<uint64_t>(strategy.after.shards, 0)};
    for (const std::string& column : tally.after.key_columns()) {
      if (std::find(key_columns_.begin(), key_columns_.end(), column) == key_columns_.end()) {
        key_columns_.push_back(column);
      }
    }
    tallies_.push_back(std::move(tally));
  }
}

void ReshardAnalysis::add_rows(const engine::Block& block, double bytes_per_row, uint64_t part) {
  const size_t rows = block.rows();
  for (Tally& tally : tallies_) {
    tally.rows += rows;
    const std::vector<uint32_t> from = tally.before.assign(block, seed_, part);
    if (tally.before.spec().kind == ShardingKind::kRandom) {
      // A random row has no owner to return to: it stays on the shard it was drawn for.
      for (size_t row = 0; row < rows; ++row) ++tally.rows_after[from[row]];
      continue;
    }
    const std::vector<uint32_t> to = tally.after.assign(block, seed_, part);
    for (size_t row = 0; row < rows; ++row) {
      ++tally.rows_after[to[row]];
      if (from[row] != to[row]) {
        ++tally.rows_to_move;
        tally.bytes_between[from[row]][to[row]] += bytes_per_row;
      }
    }
  }
}

std::vector<ReshardMoves> ReshardAnalysis::result() const {
  std::vector<ReshardMoves> out;
  for (size_t i = 0; i < tallies_.size(); ++i) {
    const Tally& tally = tallies_[i];
    ReshardMoves moves;
    moves.name = strategies_[i].name;
    moves.key = strategies_[i].after.key;
    moves.rows = tally.rows;
    moves.rows_to_move = tally.rows_to_move;
    moves.rows_after = tally.rows_after;
    double bytes = 0;
    for (const auto& row : tally.bytes_between) {
      std::vector<uint64_t> rounded;
      for (double b : row) {
        bytes += b;
        rounded.push_back(static_cast<uint64_t>(std::llround(b)));
      }
      moves.bytes_between.push_back(std::move(rounded));
    }
    moves.bytes_to_move = static_cast<uint64_t>(std::llround(bytes));
    const std::vector<double> shares = fair_shares(strategies_[i].after, tally.rows);
    double over = 0;
    double max_over_mean = 0;
    const double mean = static_cast<double>(tally.rows) / static_cast<double>(shares.size());
    for (size_t s = 0; s < shares.size(); ++s) {
      const auto held = static_cast<double>(tally.rows_after[s]);
      over += std::max(0.0, held - shares[s]);
      if (mean > 0) max_over_mean = std::max(max_over_mean, held / mean);
    }
    moves.rows_to_balance = static_cast<uint64_t>(std::llround(over));
    moves.rows_max_over_mean_after = max_over_mean;
    out.push_back(std::move(moves));
  }
  return out;
}

}  // namespace shardlab::sim::cluster
