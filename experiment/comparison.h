// Runs side by side (a scenario's variants, or a sweep's points): one row per run, one column per
// metric (the comparison metrics every run reports: latency and SLO verdicts, rows, whether ingest
// kept up, skew, lag, peak utilisation per resource, the load that reached ClickHouse, and the
// cache tier's hit and stale shares) plus the bottleneck resource, as comparison.csv,
// comparison.md and comparison.html in the directory above the runs', with figures. With
// replications, a cell is the mean over them, and the .md and .html add the 95% confidence
// interval's half width ("mean ± half width").
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "experiment/experiment.h"

namespace shardlab::experiment {

struct VariantResult {
  std::string name;
  std::string description;
  ReplicatedRun run;
  std::string dir;  // its directory under the comparison's, when not `name`
  // A sweep point's (key, value) settings: each key becomes a column of comparison.csv, and
  // each gets a figure of the key metrics against its values (sweep_KEY.png).
  std::vector<std::pair<std::string, std::string>> parameters;
  std::string failure;  // why the run failed ("exit status 1"); empty when it ran
};

// Writes comparison.csv, comparison.md and comparison.html into `dir`, and with `draw`
// comparison.png/.svg (a bar panel per key metric: the cache's hit ratio, stale share and load on
// ClickHouse when the runs have a tier, else the templates' p99, rows lost and replica lag;
// confidence intervals as error bars), comparison_latency_NAME.png/.svg per query template (its
// latency CDF in every run, pooled over replications: with and without a cache) and, for a
// sweep, sweep_KEY.png/.svg per swept key; the .md and .html show them. A metric a run lacks
// (the cache's under no-cache) is left empty. Throws RuntimeError as the plots do.
void write_comparison(const std::filesystem::path& dir, const std::string& scenario,
                      const std::vector<VariantResult>& variants, bool draw);

}  // namespace shardlab::experiment
