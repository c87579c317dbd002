#include "sim/cluster/query_memory.h"

#include <algorithm>

#include "sim/cluster/cost_model.h"

namespace shardlab::sim::cluster {

namespace {

// What one partial result holds: the engine's aggregation state, or the candidate rows.
uint64_t state_bytes(const engine::PartResult& partial) {
  return partial.aggregate ? partial.aggregate->memory_bytes() : partial_result_bytes(partial);
}

}  // namespace

uint64_t subquery_memory_bytes(const engine::PartResult& partial, uint64_t threads) {
  threads = std::max<uint64_t>(threads, 1);
  const engine::WorkProfile& profile = partial.profile;
  uint64_t buffers = 0;
  buffers += kReadBufferBytes * profile.columns.size();
  if (profile.rows_read > 0) {
    const uint64_t block_rows =
        std::min(kMaxBlockRows, (profile.rows_read + threads - 1) / threads);
    const double bytes_per_row =
        static_cast<double>(profile.uncompressed_bytes()) / static_cast<double>(profile.rows_read);
    buffers += static_cast<uint64_t>(bytes_per_row * static_cast<double>(block_rows));
  }
  return threads * (state_bytes(partial) + buffers);
}

uint64_t initiator_memory_bytes(std::span<const engine::PartResult> partials,
                                uint64_t remote_shards) {
  uint64_t bytes = kConnectionBufferBytes * remote_shards;
  for (const engine::PartResult& partial : partials) bytes += state_bytes(partial);
  return bytes;
}

}  // namespace shardlab::sim::cluster
