// What a run in a child process leaves for its parent: every comparison metric of every
// replication (metrics.json), beside the run's own summary.json. Sweeps and the planner read
// their runs back through these.
#pragma once

#include <filesystem>
#include <string>

#include "results/replicated_metrics.h"
#include "results/summary_writer.h"

namespace shardlab::planner {

void write_metrics(const std::filesystem::path& path, const results::ReplicatedMetrics& metrics);
// Throws RuntimeError when the file cannot be read or is not a metrics file.
results::ReplicatedMetrics read_metrics(const std::filesystem::path& path);
results::Json read_json(const std::filesystem::path& path);
std::string read_text(const std::filesystem::path& path);

}  // namespace shardlab::planner
