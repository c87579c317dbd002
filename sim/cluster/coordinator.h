// The coordination service: a simulated ZooKeeper on its own host. It keeps, per shard, the
// replication log (new parts and merges, in order) and the block-number counter that makes
// part names agree across replicas. Every operation costs a network round trip from the caller
// to the coordinator's host plus the service's own latency per operation (REFERENCE: an
// inserted block costs about ten ZooKeeper operations). While the coordinator's host is down or
// unreachable, operations fail and replicated tables are read-only.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "sim/core/simulation.h"
#include "sim/hw/network.h"

namespace shardlab::sim::cluster {

struct LogEntry {
  enum class Kind : uint8_t { kNewPart, kMerge };
  Kind kind = Kind::kNewPart;
  std::string part;                     // the new part, or the merge's result (empty: every
                                        // row expired by TTL, the sources are just dropped)
  std::vector<std::string> merged;      // kMerge: the parts it replaces
  size_t source_replica = 0;            // kNewPart: the replica that wrote it
  uint64_t rows = 0;                    // rows in the new part, or read by the merge
  uint64_t bytes = 0;                   // bytes on disk (what a fetch transfers)
  uint64_t uncompressed_bytes = 0;      // kMerge: bytes the merge decoded
  int64_t merged_at_s = 0;              // kMerge: the wall-clock second TTL was evaluated at
  Time created;
};

class Coordinator {
 public:
  static constexpr uint64_t kRequestBytes = 256;  // one request or response on the wire

  Coordinator(Simulation& sim, Network& network, HostId host, Duration op_latency, size_t shards);

  // `ops` coordination operations issued from `from` in one round trip.
  Future round_trip(HostId from, uint32_t ops);

  // Reserves `count` consecutive block numbers of `shard`; returns the first. They stay
  // reserved, so that no merge spans a write still in flight, until release_blocks().
  uint64_t allocate_blocks(size_t shard, uint64_t count);
  void release_blocks(size_t shard, uint64_t first, uint64_t count);
  // True if a reserved block number of `shard` lies in [min_block, max_block].
  bool any_reserved(size_t shard, uint64_t min_block, uint64_t max_block) const;
  void append(size_t shard, LogEntry entry);
  const std::vector<LogEntry>& log(size_t shard) const { return logs_[shard]; }
  HostId host() const { return host_; }

 private:
  Process run_round_trip(HostId from, uint32_t ops);

  Simulation& sim_;
  Network& network_;
  HostId host_;
  Duration op_latency_;
  std::vector<std::vector<LogEntry>> logs_;
  std::vector<uint64_t> next_block_;
  std::vector<std::set<uint64_t>> reserved_;  // per shard
};

}  // namespace shardlab::sim::cluster
