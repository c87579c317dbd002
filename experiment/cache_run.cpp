#include "experiment/cache_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>

#include "base/atomic_file.h"
#include "base/errors.h"
#include "plots/cache_plots.h"
#include "workloads/user_behavior.h"

namespace shardlab::experiment {

namespace {

namespace cache = sim::cache;
using sim::Duration;

cache::CacheTierSpec tier_spec(const scenarios::CacheConfig& c) {
  cache::CacheTierSpec spec;
  spec.hosts = c.nodes;
  spec.server.memory_bytes = c.memory_bytes;
  spec.server.growth_factor = c.growth_factor;
  spec.server.min_chunk_data = c.min_chunk;
  spec.server.item_size_max = c.item_max;
  spec.server.slab_automove = c.slab_automove;
  // Partition keys a template cannot place, hash as ketama does.
  spec.distribution =
      c.distribution == "modula" ? cache::KeyDistribution::kModula : cache::KeyDistribution::kKetama;
  spec.placement = c.distribution == "partition"     ? cache::Placement::kPartition
                   : c.distribution == "round_robin" ? cache::Placement::kRoundRobin
                                                     : cache::Placement::kHash;
  spec.threads = c.threads;
  spec.op_cpu = c.op_cpu;
  spec.connect_timeout = c.connect_timeout;
  spec.gutter_hosts = c.gutter;
  spec.gutter_ttl_s = static_cast<uint32_t>(c.gutter_ttl.ns() / 1'000'000'000);
  return spec;
}

cache::PartitionMap partition_map(const scenarios::CacheConfig& c) {
  cache::PartitionMap map;
  if (c.partition_by == "province") {
    map.by = workloads::QueryParameter::kProvince;
    map.server_of_province.resize(workloads::kProvinceNames.size(), 0);
    for (size_t node = 0; node < c.partition_lists.size(); ++node) {
      for (const std::string& name : c.partition_lists[node]) {
        const auto at = std::find(workloads::kProvinceNames.begin(),
                                  workloads::kProvinceNames.end(), name);
        map.server_of_province[static_cast<size_t>(at - workloads::kProvinceNames.begin())] = node;
      }
    }
    return map;
  }
  map.by = c.partition_by == "user" ? workloads::QueryParameter::kUser
                                    : workloads::QueryParameter::kItem;
  for (size_t node = 0; node < c.partition_bounds.size(); ++node) {
    map.ranges.emplace_back(c.partition_bounds[node], node);
  }
  map.ranges.emplace_back(std::numeric_limits<uint64_t>::max(), c.partition_bounds.size());
  return map;
}

cache::LookAsideConfig look_aside_config(const scenarios::Scenario& s) {
  const scenarios::CacheConfig& c = *s.cache;
  cache::LookAsideConfig config;
  for (const scenarios::QueryTemplate& q : s.workload.queries) {
    config.cached.push_back(std::find(c.templates.begin(), c.templates.end(), q.name) !=
                            c.templates.end());
  }
  config.strategy = c.strategy == "access"   ? cache::SyncStrategy::kAccess
                    : c.strategy == "change" ? cache::SyncStrategy::kChange
                                             : cache::SyncStrategy::kTtl;
  // memcached's TTL of 0 means "never expires"; the change strategy relies on invalidation.
  config.ttl_s = static_cast<uint32_t>(c.ttl.ns() / 1'000'000'000);
  config.refresh_interval = c.refresh_interval;
  config.refresh_keys = c.refresh_keys;
  config.access_window = c.access_window;
  config.delivery = c.change_delivery == "server"       ? cache::ChangeDelivery::kServer
                    : c.change_delivery == "middleware" ? cache::ChangeDelivery::kMiddleware
                                                        : cache::ChangeDelivery::kClient;
  config.action = c.change_mode == "update" ? cache::ChangeAction::kUpdate
                                            : cache::ChangeAction::kDelete;
  config.broker_host = c.log_host;
  config.partitions = c.log_partitions;
  config.batch_interval = c.log_batch_interval;
  config.consumer_lag = c.log_lag;
  config.leases = c.leases;
  config.lease_stale = c.lease_stale;
  config.lease_retry = c.lease_retry;
  config.bin = std::max(Duration::seconds(1), Duration::nanoseconds(s.run.duration.ns() / 288));
  if (c.distribution == "partition") config.partition = partition_map(c);
  return config;
}

// Nearest-rank quantile of unsorted values (copied: the caller's stay in arrival order).
double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  const size_t at = std::min(values.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(at), values.end());
  return values[at];
}

double ratio(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// The most queries that reached the cluster in one second within [from, to) seconds.
uint32_t peak(const std::vector<uint32_t>& per_s, size_t from, size_t to) {
  uint32_t best = 0;
  for (size_t s = from; s < std::min(to, per_s.size()); ++s) best = std::max(best, per_s[s]);
  return best;
}

}  // namespace

void append_clickhouse_load(const std::vector<uint32_t>& queries_per_s, Duration warmup,
                            Metrics* metrics) {
  uint64_t total = 0;
  for (const uint32_t n : queries_per_s) total += n;
  const auto warm = static_cast<size_t>(warmup.ns() / 1'000'000'000);
  metrics->emplace_back("clickhouse.queries", static_cast<double>(total));
  metrics->emplace_back("clickhouse.peak_queries_per_s",
                        peak(queries_per_s, warm, queries_per_s.size()));
}

CacheRun::CacheRun(const scenarios::Scenario& s, sim::Simulation& sim, sim::Network& network,
                   sim::cluster::Cluster& cluster, sim::cluster::WorkloadDriver& driver)
    : s_(s),
      sim_(sim),
      driver_(driver),
      tier_(sim, network, tier_spec(*s.cache)),
      look_aside_(sim, network, cluster, driver, tier_, look_aside_config(s)) {
  driver_.set_frontend(&look_aside_);
  driver_.set_clock_bucket(s.cache->clock_bucket);
}

void CacheRun::start(sim::Time end) {
  look_aside_.start(end);
  for (const scenarios::CacheCrash& crash : s_.cache->crashes) sim_.spawn(run_crash(crash));
}

sim::Process CacheRun::run_crash(const scenarios::CacheCrash& crash) {
  const auto server = static_cast<size_t>(
      std::find(s_.cache->nodes.begin(), s_.cache->nodes.end(), crash.node) -
      s_.cache->nodes.begin());
  co_await sim_.sleep(crash.at);
  tier_.crash(server);
  if (crash.duration == Duration::max()) co_return;
  co_await sim_.sleep(crash.duration);
  tier_.restart(server);
}

results::Json CacheRun::summary(Metrics* metrics) const {
  const scenarios::CacheConfig& c = *s_.cache;
  results::Json out;
  out["nodes"] = c.nodes.size();
  out["memory_per_node_bytes"] = c.memory_bytes;
  out["distribution"] = c.distribution;
  out["strategy"] = c.strategy;
  if (c.strategy == "change") {
    out["change"] = {{"mode", c.change_mode}, {"delivery", c.change_delivery}};
  }
  out["ttl_s"] = c.ttl.seconds();
  out["leases"] = c.leases;

  const size_t warm = static_cast<size_t>(s_.run.warmup.ns() / 1'000'000'000);
  results::Json templates = results::Json::object();
  uint64_t all_requests = 0;
  uint64_t all_hits = 0;
  uint64_t all_stale = 0;
  for (size_t t = 0; t < look_aside_.stats().size(); ++t) {
    if (!look_aside_.config().cached[t]) continue;
    const cache::TemplateCacheStats& st = look_aside_.stats()[t];
    const std::string& name = driver_.template_name(t);
    all_requests += st.requests;
    all_hits += st.hits;
    all_stale += st.stale_hits;
    results::Json j;
    j["requests"] = st.requests;
    j["hits"] = st.hits;
    j["hit_ratio"] = results::json_number(ratio(st.hits, st.requests));
    j["cluster_queries"] = st.cluster_queries;
    j["cluster_peak_per_s"] = peak(st.cluster_queries_per_s, warm, st.cluster_queries_per_s.size());
    j["queries_avoided"] = st.hits;
    j["refreshes"] = st.refreshes;
    j["invalidations"] = st.invalidations;
    j["lease_waits"] = st.lease_waits;
    j["lease_stale_served"] = st.lease_stale_served;
    j["stale_reads"] = st.stale_hits;
    j["stale_share"] = results::json_number(ratio(st.stale_hits, st.requests));
    j["staleness_s"] = {{"p50", results::json_number(quantile(st.stale_ages_s, 0.5))},
                        {"p99", results::json_number(quantile(st.stale_ages_s, 0.99))},
                        {"max", results::json_number(quantile(st.stale_ages_s, 1.0))}};
    metrics->emplace_back("cache." + name + ".hit_ratio", ratio(st.hits, st.requests));
    metrics->emplace_back("cache." + name + ".stale_share", ratio(st.stale_hits, st.requests));
    metrics->emplace_back("cache." + name + ".staleness_p99_s", quantile(st.stale_ages_s, 0.99));
    metrics->emplace_back("cache." + name + ".cluster_peak_per_s",
                          peak(st.cluster_queries_per_s, warm, st.cluster_queries_per_s.size()));
    templates[name] = std::move(j);
  }
  out["templates"] = std::move(templates);
  metrics->emplace_back("cache.hit_ratio", ratio(all_hits, all_requests));
  metrics->emplace_back("cache.stale_share", ratio(all_stale, all_requests));

  // The load that reached ClickHouse, per second of simulated time.
  const std::vector<uint32_t>& per_s = look_aside_.cluster_queries_per_s();
  uint64_t total = 0;
  for (const uint32_t n : per_s) total += n;
  results::Json load;
  load["queries"] = total;
  load["peak_per_s"] = peak(per_s, warm, per_s.size());
  results::Json after = results::Json::array();
  for (const scenarios::CacheCrash& crash : c.crashes) {
    const auto at = static_cast<size_t>(crash.at.ns() / 1'000'000'000);
    after.push_back({{"event", "crash " + crash.node},
                     {"at_s", at},
                     {"peak_per_s_next_60s", peak(per_s, at, at + 60)},
                     {"peak_per_s_previous_60s", peak(per_s, at >= 60 ? at - 60 : 0, at)}});
  }
  load["after_events"] = std::move(after);
  append_clickhouse_load(per_s, s_.run.warmup, metrics);
  out["cluster_load"] = std::move(load);

  const cache::CacheTierCounters& counters = tier_.counters();
  out["requests"] = {{"gets", counters.gets},       {"hits", counters.hits},
                     {"sets", counters.sets},       {"deletes", counters.deletes},
                     {"errors", counters.errors},   {"ejections", counters.ejections},
                     {"gutter_gets", counters.gutter_gets},
                     {"gutter_hits", counters.gutter_hits},
                     {"fanout_requests", counters.fanout_requests}};
  results::Json remaps = results::Json::array();
  for (const cache::Remap& remap : tier_.remaps()) {
    remaps.push_back({{"at_s", results::json_number(remap.at.seconds())},
                      {"what", remap.what},
                      {"keys_moved_share", results::json_number(remap.moved_share)}});
  }
  out["remaps"] = std::move(remaps);
  if (c.strategy == "change" && c.change_delivery == "middleware") {
    out["change_log"] = {{"batches", look_aside_.change_batches()},
                         {"max_delay_s", look_aside_.max_change_delay().seconds()}};
  }

  results::Json nodes = results::Json::array();
  for (size_t n = 0; n < tier_.servers(); ++n) {
    const cache::MemcachedModel& model = tier_.model(n);
    results::Json classes = results::Json::array();
    uint64_t evictions = 0;
    for (size_t cls = 1; cls < model.classes().size(); ++cls) {
      const cache::SlabClassStats& st = model.classes()[cls];
      evictions += st.evictions;
      if (st.pages == 0) continue;
      classes.push_back({{"class", cls},
                         {"chunk_bytes", st.chunk_bytes},
                         {"memory_bytes", st.pages * uint64_t{tier_.spec().server.page_bytes}},
                         {"items", st.items},
                         {"evictions", st.evictions}});
    }
    nodes.push_back({{"host", tier_.host_name(n)},
                     {"hits", model.stats().get_hits},
                     {"misses", model.stats().get_misses},
                     {"evictions", evictions},
                     {"slab_classes", std::move(classes)}});
  }
  out["nodes_detail"] = std::move(nodes);
  return out;
}

CacheRun::Bins CacheRun::bins() const {
  const std::vector<cache::TemplateCacheStats>& stats = look_aside_.stats();
  const Duration bin = look_aside_.config().bin;
  const int64_t bin_s = std::max<int64_t>(1, bin.ns() / 1'000'000'000);
  Bins out;
  size_t count = 0;
  for (size_t t = 0; t < stats.size(); ++t) {
    if (look_aside_.config().cached[t]) out.cached.push_back(t);
    count = std::max(count, stats[t].requests_per_bin.size());
    count = std::max(count, static_cast<size_t>(
                                (static_cast<int64_t>(stats[t].cluster_queries_per_s.size()) +
                                 bin_s - 1) / bin_s));
  }
  const auto at = [](const auto& values, size_t idx) -> uint64_t {
    return idx < values.size() ? values[idx] : 0;
  };
  // The queries of template t in bin b that reached the cluster.
  const auto reached = [&](size_t t, size_t b) {
    uint64_t n = 0;
    for (int64_t sec = static_cast<int64_t>(b) * bin_s; sec < static_cast<int64_t>(b + 1) * bin_s;
         ++sec) {
      n += at(stats[t].cluster_queries_per_s, static_cast<size_t>(sec));
    }
    return n;
  };
  out.requests.resize(out.cached.size());
  out.hits.resize(out.cached.size());
  for (size_t b = 0; b < count; ++b) {
    out.time_s.push_back(static_cast<double>(b) * bin.seconds());
    uint64_t asked = 0;
    uint64_t to_cluster = 0;
    for (size_t t = 0; t < stats.size(); ++t) {
      const uint64_t n = reached(t, b);
      to_cluster += n;
      // An uncached template's queries all reach the cluster; a cached one's were asked once
      // each (its cluster queries include refreshes and recomputations nobody asked for).
      asked += look_aside_.config().cached[t] ? at(stats[t].requests_per_bin, b) : n;
    }
    for (size_t c = 0; c < out.cached.size(); ++c) {
      out.requests[c].push_back(at(stats[out.cached[c]].requests_per_bin, b));
      out.hits[c].push_back(at(stats[out.cached[c]].hits_per_bin, b));
    }
    out.asked_per_s.push_back(static_cast<double>(asked) / static_cast<double>(bin_s));
    out.reached_per_s.push_back(static_cast<double>(to_cluster) / static_cast<double>(bin_s));
  }
  return out;
}

void CacheRun::write_series(const std::filesystem::path& path) const {
  const Bins b = bins();
  std::string out = "time_s";
  for (const size_t t : b.cached) {
    out += fmt::format(",{0}.requests,{0}.hits,{0}.hit_ratio", driver_.template_name(t));
  }
  out += ",queries_asked_per_s,cluster_queries_per_s\n";
  for (size_t row = 0; row < b.time_s.size(); ++row) {
    out += fmt::format("{}", b.time_s[row]);
    for (size_t c = 0; c < b.cached.size(); ++c) {
      out += fmt::format(",{},{},{:.4f}", b.requests[c][row], b.hits[c][row],
                         ratio(b.hits[c][row], b.requests[c][row]));
    }
    out += fmt::format(",{:.4f},{:.4f}\n", b.asked_per_s[row], b.reached_per_s[row]);
  }
  base::write_file_atomically(path, out);
}

std::vector<plots::RenderedPlot> CacheRun::render_plots(const std::filesystem::path& dir) const {
  const Bins b = bins();
  std::vector<plots::RenderedPlot> out;
  std::vector<plots::SeriesColumn> hit_ratio;
  for (size_t c = 0; c < b.cached.size(); ++c) {
    plots::SeriesColumn column{driver_.template_name(b.cached[c]), {}};
    for (size_t row = 0; row < b.time_s.size(); ++row) {
      column.values.push_back(b.requests[c][row] == 0
                                  ? NAN
                                  : ratio(b.hits[c][row], b.requests[c][row]));
    }
    hit_ratio.push_back(std::move(column));
  }
  out.push_back(plots::render_cache_hit_ratio(dir, "cache_hit_ratio", b.time_s, hit_ratio));
  out.push_back(plots::render_cache_cluster_load(
      dir, "cache_cluster_load", b.time_s,
      plots::SeriesColumn{"asked by clients (no cache)", b.asked_per_s},
      plots::SeriesColumn{"reached ClickHouse", b.reached_per_s}));
  std::vector<plots::StalenessSample> staleness;
  for (const size_t t : b.cached) {
    const cache::TemplateCacheStats& st = look_aside_.stats()[t];
    staleness.push_back({driver_.template_name(t), st.stale_ages_s, ratio(st.stale_hits, st.requests)});
  }
  out.push_back(plots::render_staleness_cdf(dir, "cache_staleness", staleness));
  std::vector<plots::NodeSlabMemory> slabs;
  for (size_t n = 0; n < tier_.servers(); ++n) {
    plots::NodeSlabMemory node{tier_.host_name(n), {}};
    const cache::MemcachedModel& model = tier_.model(n);
    for (size_t cls = 1; cls < model.classes().size(); ++cls) {
      const cache::SlabClassStats& st = model.classes()[cls];
      if (st.pages == 0) continue;
      node.classes.push_back({st.chunk_bytes, st.pages * uint64_t{tier_.spec().server.page_bytes}});
    }
    slabs.push_back(std::move(node));
  }
  out.push_back(plots::render_slab_memory(dir, "cache_slab_memory", slabs));
  return out;
}

plots::ReportSection CacheRun::report_section() const {
  const scenarios::CacheConfig& c = *s_.cache;
  plots::ReportSection section;
  section.title = "Cache tier";
  std::string strategy = c.strategy;
  if (c.strategy == "change") strategy += fmt::format(" ({}, {})", c.change_mode, c.change_delivery);
  section.text = fmt::format(
      "{} memcached node(s) of {} MiB, {} placement, strategy {}, TTL {} s{}. A stale read is an "
      "answer served after an acknowledged insert that changes it (decided by the engine); its "
      "age runs from that insert.",
      c.nodes.size(), c.memory_bytes >> 20, c.distribution, strategy, c.ttl.seconds(),
      c.leases ? (c.lease_stale ? ", leases (waiters take the previous answer)" : ", leases") : "");
  section.header = {"template",       "requests",      "hit ratio", "ClickHouse queries",
                    "peak queries/s", "stale reads",   "stale p50", "stale p99",
                    "stale max",      "lease waits"};
  section.numeric = {false, true, true, true, true, true, true, true, true, true};
  const size_t warm = static_cast<size_t>(s_.run.warmup.ns() / 1'000'000'000);
  for (size_t t = 0; t < look_aside_.stats().size(); ++t) {
    if (!look_aside_.config().cached[t]) continue;
    const cache::TemplateCacheStats& st = look_aside_.stats()[t];
    const auto age = [&](double q) {
      return st.stale_ages_s.empty() ? std::string("-")
                                     : fmt::format("{:.3g} s", quantile(st.stale_ages_s, q));
    };
    section.rows.push_back(
        {driver_.template_name(t), fmt::format("{}", st.requests),
         fmt::format("{:.3f}", ratio(st.hits, st.requests)), fmt::format("{}", st.cluster_queries),
         fmt::format("{}", peak(st.cluster_queries_per_s, warm, st.cluster_queries_per_s.size())),
         fmt::format("{} ({:.2f}%)", st.stale_hits, 100 * ratio(st.stale_hits, st.requests)),
         age(0.5), age(0.99), age(1.0), fmt::format("{}", st.lease_waits)});
  }
  return section;
}

}  // namespace shardlab::experiment
