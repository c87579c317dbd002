// The planner's analytic screen: what a candidate cluster's resources would carry at the daily
// peak, from a work profile measured by the real engine, and the latency queueing theory
// predicts for each query template.
//
// The profile comes from one simulated run of the scenario on its own cluster (summary.json's
// "work" and each template's "work": reference-core seconds, bytes). It is per unit: CPU and disk
// bytes per inserted row and copy, network bytes per row, each template's work on the profile's
// data. For a candidate at data scale f (planner/plan_space.h: rows and hardware rates both times
// f), the peak load is:
//   * ingest: peak rows/s x (split CPU + replicas x (insert + merge CPU)) and replicas x bytes
//     written per row, spread over the nodes, the busiest taking ceil(shards x replicas / nodes)
//     replicas;
//   * queries: each template's rate x its work (the profile's, which ran at the same scale and
//     window, times the growth), split over the shards; disk reads only for the share of a
//     node's data that does not fit in half its memory (the page cache holds the rest).
// Utilisation is that load over the busiest node's capacity. A query's latency is its critical
// path (the largest shard's subquery, at the profile's skew and spread over max_threads cores,
// plus the initiator's merge) plus
// the wait for a core: an M/G/c queue per node (c = cores) with Erlang C's waiting probability
// and the Allen-Cunneen approximation (arrivals Poisson, service coefficient of variation 1), the
// wait given waiting exponential, and the p99 of a query taken over its `shards` parallel waits.
#pragma once

#include <string>
#include <vector>

#include "results/summary_writer.h"
#include "scenarios/scenario.h"

namespace shardlab::planner {

struct TemplateProfile {
  std::string name;
  double rate_per_s = 0;
  double cpu_s = 0;             // all shards' subqueries
  double max_shard_over_mean = 1;
  double initiator_cpu_s = 0;
  double disk_bytes = 0;
};

struct WorkProfile {
  double rows = 0;                    // rows in the table at the end of the profile run
  double data_bytes = 0;              // compressed bytes, one copy
  double split_cpu_per_row = 0;       // reference-core seconds
  double copy_cpu_per_row = 0;        // per replica copy: insert and merge
  double written_bytes_per_row = 0;   // per replica copy
  double network_bytes_per_row = 0;   // per replica copy (inserts, fetches, query results)
  std::vector<TemplateProfile> templates;
};

// Reads the profile from a run's summary.json, of a run of `s` (its cluster, at any scale).
// Throws RuntimeError when the summary lacks a section.
WorkProfile read_profile(const results::Json& summary, const scenarios::Scenario& s);

struct Prediction {
  double cpu = 0;      // utilisation of the busiest node at the peak
  double disk = 0;
  double network = 0;
  std::string bottleneck;  // the resource with the highest utilisation
  std::vector<std::pair<std::string, double>> p99_s;  // per template
  double disk_fill = 0;    // share of a node's disk used at the retention horizon (0: not known)
};

struct CandidateShape {
  const scenarios::NodeType* type = nullptr;
  double nodes = 0;
  double shards = 0;
  double replicas = 0;
  double link_bytes_per_s = 0;  // each node's host link, at full scale
  double disk_capacity = 0;     // bytes per node, 0: unbounded
};

// The prediction for `shape` at data scale `scale` (the profile's scale), with data and query
// rates times `growth` (1: as the scenario says). `s` is the base scenario at full scale.
Prediction predict(const WorkProfile& profile, const scenarios::Scenario& s,
                   const CandidateShape& shape, double scale, double growth = 1.0);

// Erlang C: the probability that an arrival waits in an M/M/c queue with offered load `a`
// (arrival rate over service rate, in servers). REQUIRES: c >= 1, 0 <= a < c.
double erlang_c(int c, double a);

}  // namespace shardlab::planner
