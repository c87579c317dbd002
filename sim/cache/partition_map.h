// The `partition` placement: cache keys placed by a column of the data behind them, as sharding
// places rows. The column is one of the template's parameters (the province, user or item asked
// about), mapped to a cache node by a list (province) or by ranges (user and item ids). A key
// whose template does not use that parameter is hashed over the nodes as usual.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "sim/cluster/workload.h"
#include "workloads/query_template.h"

namespace shardlab::sim::cache {

struct PartitionMap {
  workloads::QueryParameter by = workloads::QueryParameter::kProvince;
  std::vector<size_t> server_of_province;  // list: by province index, every province
  // ranges: (first value not in the range, server), ascending; the last bound is UINT64_MAX.
  std::vector<std::pair<uint64_t, size_t>> ranges;

  // The node for a request whose template uses `by`; nullopt for one that does not.
  std::optional<size_t> server_of(const cluster::QueryRequest& request) const;
};

}  // namespace shardlab::sim::cache
