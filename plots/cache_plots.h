// The figures of a run with a memcached tier.
//
//  * cache_hit_ratio     hit ratio per cached template over time (a bin without requests is a
//                        gap, not a zero);
//  * cache_cluster_load  queries per second the clients asked for (what ClickHouse would take
//                        without the cache) against the ones that reached it;
//  * cache_staleness     CDF of the age of the stale answers served, per template, with the
//                        stale share in the key;
//  * cache_slab_memory   memory per slab class (by chunk size), one bar per cache node.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "plots/plot_options.h"
#include "plots/series_table.h"

namespace shardlab::plots {

// REQUIRES (all renderers): every column has time_s.size() values. Each writes dir/NAME.png
// and dir/NAME.svg, or a placeholder when there is nothing to draw, and throws RuntimeError as
// render_figure does.
RenderedPlot render_cache_hit_ratio(const std::filesystem::path& dir, std::string_view name,
                                    const std::vector<double>& time_s,
                                    const std::vector<SeriesColumn>& hit_ratio,
                                    const PlotOptions& options = {});

RenderedPlot render_cache_cluster_load(const std::filesystem::path& dir, std::string_view name,
                                       const std::vector<double>& time_s,
                                       const SeriesColumn& asked, const SeriesColumn& reached,
                                       const PlotOptions& options = {});

struct StalenessSample {
  std::string template_name;
  std::vector<double> ages_s;  // one per stale answer served
  double stale_share = 0;      // of the template's requests
};
RenderedPlot render_staleness_cdf(const std::filesystem::path& dir, std::string_view name,
                                  const std::vector<StalenessSample>& samples,
                                  const PlotOptions& options = {});

struct SlabClassMemory {
  uint64_t chunk_bytes = 0;
  uint64_t memory_bytes = 0;
};
struct NodeSlabMemory {
  std::string node;
  std::vector<SlabClassMemory> classes;  // classes holding pages, by chunk size
};
RenderedPlot render_slab_memory(const std::filesystem::path& dir, std::string_view name,
                                const std::vector<NodeSlabMemory>& nodes,
                                const PlotOptions& options = {});

}  // namespace shardlab::plots
