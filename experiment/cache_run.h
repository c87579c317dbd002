// The memcached tier of a simulated run: built from the scenario's cache section, in front of the
// workload's queries, and what it reports (summary.json's "cache" section, metrics for the
// variants' comparison, cache_series.csv).
#pragma once

#include <filesystem>
#include <memory>

#include "plots/plot_options.h"
#include "plots/report.h"
#include "results/summary_writer.h"
#include "scenarios/scenario.h"
#include "sim/cache/cache_tier.h"
#include "sim/cache/look_aside.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/workload.h"
#include "sim/core/simulation.h"

namespace shardlab::experiment {

using Metrics = std::vector<std::pair<std::string, double>>;

// The load that reached ClickHouse, for the variants' comparison: every query (all seconds) and
// the busiest second after the warm-up. A run without a cache tier reports it too, from the
// queries its clients sent, so that "no cache" sits beside the cached variants.
void append_clickhouse_load(const std::vector<uint32_t>& queries_per_s, sim::Duration warmup,
                            Metrics* metrics);

class CacheRun {
 public:
  // REQUIRES: s.cache. Sets itself as the driver's frontend. Throws InputError for a host the
  // network lacks.
  CacheRun(const scenarios::Scenario& s, sim::Simulation& sim, sim::Network& network,
           sim::cluster::Cluster& cluster, sim::cluster::WorkloadDriver& driver);

  // Spawns the strategy's processes and the scheduled cache-node crashes.
  void start(sim::Time end);

  // summary.json's "cache" section; appends the comparison metrics.
  results::Json summary(Metrics* metrics) const;
  // Per time bin and cached template: requests, hits, hit ratio; the queries asked and the
  // ones that reached the cluster.
  void write_series(const std::filesystem::path& path) const;
  // The tier's figures (hit ratio, load on ClickHouse, staleness CDF, slab memory), into `dir`.
  std::vector<plots::RenderedPlot> render_plots(const std::filesystem::path& dir) const;
  // The report's section: per cached template, what the cache did.
  plots::ReportSection report_section() const;

 private:
  // The run cut into the look-aside cache's time bins.
  struct Bins {
    std::vector<double> time_s;  // each bin's start
    std::vector<size_t> cached;  // the cached templates
    std::vector<std::vector<uint64_t>> requests;  // per cached template, per bin
    std::vector<std::vector<uint64_t>> hits;
    std::vector<double> asked_per_s;    // every query the clients asked, cached or not
    std::vector<double> reached_per_s;  // the queries that reached the cluster
  };
  Bins bins() const;

  sim::Process run_crash(const scenarios::CacheCrash& crash);

  const scenarios::Scenario& s_;
  sim::Simulation& sim_;
  sim::cluster::WorkloadDriver& driver_;
  sim::cache::CacheTier tier_;
  sim::cache::LookAsideCache look_aside_;
};

}  // namespace shardlab::experiment
