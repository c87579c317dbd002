#include "sim/cache/partition_map.h"

#include <algorithm>

namespace shardlab::sim::cache {

std::optional<size_t> PartitionMap::server_of(const cluster::QueryRequest& request) const {
  if ((request.parameters & (1u << static_cast<unsigned>(by))) == 0) return std::nullopt;
  if (by == workloads::QueryParameter::kProvince) {
    return server_of_province.at(request.values.province);
  }
  const uint64_t value =
      by == workloads::QueryParameter::kUser ? request.values.user : request.values.item;
  const auto range = std::upper_bound(
      ranges.begin(), ranges.end(), value,
      [](uint64_t v, const std::pair<uint64_t, size_t>& r) { return v < r.first; });
  return range == ranges.end() ? ranges.back().second : range->second;
}

}  // namespace shardlab::sim::cache
