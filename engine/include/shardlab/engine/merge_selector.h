// Chooses which parts to merge, in the spirit of ClickHouse's SimpleMergeSelector.
//
// Every merge rewrites its inputs, so merging too eagerly multiplies the bytes written
// (write amplification), while merging too lazily leaves many small parts that every query
// must open and every insert must count against the too-many-parts limit. The selector only
// considers contiguous runs of parts within one partition (so a merged part covers a
// contiguous block range) and accepts a run when its total size is at least `base` times its
// largest part: a part is then rewritten only when the data around it has grown by that
// factor, which bounds each row's rewrites to about log_base(final size / insert size).
// `base` drops towards 1 as a partition accumulates parts (from 10 to 50 parts), so a burst
// of inserts is absorbed by cheaper, less balanced merges. Among acceptable runs the one with
// the lowest cost per part removed wins, where cost adds a fixed overhead per part.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "shardlab/engine/part.h"

namespace shardlab::engine {

struct MergePlan {
  std::string partition_id;
  std::vector<PartPtr> parts;  // contiguous, in block order
  uint64_t bytes = 0;
  uint64_t rows = 0;
  PartInfo result;  // the name the merged part will have
};

// REQUIRES: `active` holds the active parts sorted by (partition_id, min_block).
std::optional<MergePlan> select_merge(const std::vector<PartPtr>& active,
                                      const TableSettings& settings);

// A plan merging every part of one partition (OPTIMIZE ... FINAL). With a single part the
// plan rewrites it alone, which applies TTL.
MergePlan plan_for_parts(std::vector<PartPtr> parts);

}  // namespace shardlab::engine
