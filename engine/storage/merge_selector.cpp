#include "shardlab/engine/merge_selector.h"

#include <algorithm>

namespace shardlab::engine {
namespace {

// base falls linearly from settings.merge_base at 10 parts to 1 at 50 parts in the partition.
double effective_base(double base, size_t parts_in_partition) {
  constexpr double kLowParts = 10, kHighParts = 50;
  if (parts_in_partition <= kLowParts) return base;
  if (parts_in_partition >= kHighParts) return 1.0;
  const double t = (static_cast<double>(parts_in_partition) - kLowParts) / (kHighParts - kLowParts);
  return base + (1.0 - base) * t;
}

}  // namespace

MergePlan plan_for_parts(std::vector<PartPtr> parts) {
  MergePlan plan;
  plan.partition_id = parts.front()->info().partition_id;
  plan.result.partition_id = plan.partition_id;
  plan.result.min_block = parts.front()->info().min_block;
  plan.result.max_block = parts.back()->info().max_block;
  uint32_t level = 0;
  for (const auto& part : parts) {
    plan.bytes += part->bytes_on_disk();
    plan.rows += part->rows();
    level = std::max(level, part->info().level);
  }
  plan.result.level = level + 1;
  plan.parts = std::move(parts);
  return plan;
}

std::optional<MergePlan> select_merge(const std::vector<PartPtr>& active,
                                      const TableSettings& settings) {
  std::optional<std::pair<size_t, size_t>> best;  // [begin, end) into `active`
  double best_score = 0;
  size_t begin_partition = 0;
  while (begin_partition < active.size()) {
    size_t end_partition = begin_partition;
    while (end_partition < active.size() && active[end_partition]->info().partition_id ==
                                                active[begin_partition]->info().partition_id)
      ++end_partition;
    const size_t count = end_partition - begin_partition;
    const double base = effective_base(settings.merge_base, count);
    for (size_t begin = begin_partition; begin < end_partition; ++begin) {
      uint64_t sum = 0, largest = 0;
      const size_t max_end = std::min(end_partition, begin + settings.max_parts_to_merge_at_once);
      for (size_t end = begin + 1; end <= max_end; ++end) {
        const uint64_t size = active[end - 1]->bytes_on_disk();
        sum += size;
        largest = std::max(largest, size);
        if (sum > settings.max_bytes_to_merge) break;
        const size_t parts = end - begin;
        if (parts < 2) continue;
        if (static_cast<double>(sum) < base * static_cast<double>(largest)) continue;
        const double cost = static_cast<double>(sum + parts * settings.merge_fixed_cost_bytes);
        const double score = cost / static_cast<double>(parts - 1);
        if (!best || score < best_score) {
          best = std::make_pair(begin, end);
          best_score = score;
        }
      }
    }
    begin_partition = end_partition;
  }
  if (!best) return std::nullopt;
  return plan_for_parts(
      std::vector<PartPtr>(active.begin() + best->first, active.begin() + best->second));
}

}  // namespace shardlab::engine
