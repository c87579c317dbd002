// What a query holds in memory on one server, as ClickHouse's per-query MemoryTracker counts it,
// estimated from the engine's real partial results. The cluster refuses a query past
// max_memory_usage and reports the largest figure.
//
// It is not taken from the machine's memory (sim/hw/memory.h): the planner's scaled runs shrink
// memory with the data, to keep the page cache's share of it, while a query's buffers and group
// states do not shrink (the items and users are as many), so a claim would squeeze a scaled
// run's page cache to nothing, or refuse its queries, where the full-size cluster has room. On a
// plan at scale 0.01 it saturated the disks and turned a 7 s p99 into 1,400 s.
//
// On a replica, a subquery holds:
//   * its aggregation state: each of its threads builds a hash table of its own before they are
//     merged, and each sees most groups once it has read many rows, so threads × the engine's
//     state for the shard (Aggregator::memory_bytes()); a query without GROUP BY state holds its
//     candidate rows instead (ORDER BY ... LIMIT);
//   * its read buffers: per thread, one buffer per column read (max_read_buffer_size, 1 MiB:
//     ClickHouse sizes it by the column's file, not by the bytes the query reads from it) and
//     one decompressed block of max_block_size (65536) rows of the columns read.
// On the initiator, the merge holds every shard's partial state (the answer it makes is at most
// their size) and, per remote shard, its connection's buffers: four of 1 MiB (read and write,
// each with its compressed twin). ClickHouse counts a shard answered on the initiator itself in
// the query's own memory, so the cluster adds those subqueries' figures to the initiator's.
//
// Against 18.16's own accounting (system.query_log.memory_usage, one server, 400,000 rows;
// tests/cluster/query_memory_test.cpp): a point query held 2.7 MB there and 2.3 MB here, a
// top-10 over 10,000 groups 10.3 MB and 6.3 MB, a GROUP BY over 100,000 users 12.6 MB and
// 7.3 MB; a Distributed query's initiator with one remote shard 5.2 MB and 4.2 MB. Live mode
// holds the model against the servers' figures (queries_run.peak_memory_bytes).
//
// The estimate is made when the work starts and held whole until it ends: ClickHouse's tracker
// grows as the hash tables do, and stops a query when it crosses the limit, partway through.
#pragma once

#include <cstdint>
#include <span>

#include "shardlab/engine/query.h"

namespace shardlab::sim::cluster {

inline constexpr uint64_t kReadBufferBytes = uint64_t{1} << 20;  // max_read_buffer_size
inline constexpr uint64_t kMaxBlockRows = 65536;                 // max_block_size
inline constexpr uint64_t kConnectionBufferBytes = 4 * kReadBufferBytes;

// A shard's subquery on its replica, run by `threads` threads.
uint64_t subquery_memory_bytes(const engine::PartResult& partial, uint64_t threads);
// The initiator's merge of the shards' partial results, `remote_shards` of them from other
// servers.
uint64_t initiator_memory_bytes(std::span<const engine::PartResult> partials,
                                uint64_t remote_shards);

}  // namespace shardlab::sim::cluster
