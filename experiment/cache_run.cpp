#include "experiment/cache_run.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "base/atomic_file.h"
#include "base/errors.h"

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
  spec.distribution =
      c.distribution == "modula" ? cache::KeyDistribution::kModula : cache::KeyDistribution::kKetama;
  spec.threads = c.threads;
  spec.op_cpu = c.op_cpu;
  spec.connect_timeout = c.connect_timeout;
  spec.gutter_hosts = c.gutter;
  spec.gutter_ttl_s = static_cast<uint32_t>(c.gutter_ttl.ns() / 1'000'000'000);
  return spec;
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
  config.lease_retry = c.lease_retry;
  config.bin = std::max(Duration::seconds(1), Duration::nanoseconds(s.run.duration.ns() / 288));
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

CacheRun::CacheRun(const scenarios::Scenario& s, sim::Simulation& sim, sim::Network& network,
                   sim::cluster::Cluster& cluster, sim::cluster::WorkloadDriver& driver)
    : s_(s),
      sim_(sim),
      driver_(driver),
      tier_(sim, network, tier_spec(*s.cache)),
      look_aside_(sim, network, cluster, driver, tier_, look_aside_config(s)) {
  driver_.set_frontend(&look_aside_);
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
    j["queries_avoided"] = st.hits;
    j["refreshes"] = st.refreshes;
    j["invalidations"] = st.invalidations;
    j["lease_waits"] = st.lease_waits;
    j["stale_reads"] = st.stale_hits;
    j["stale_share"] = results::json_number(ratio(st.stale_hits, st.requests));
    j["staleness_s"] = {{"p50", results::json_number(quantile(st.stale_ages_s, 0.5))},
                        {"p99", results::json_number(quantile(st.stale_ages_s, 0.99))},
                        {"max", results::json_number(quantile(st.stale_ages_s, 1.0))}};
    metrics->emplace_back("cache." + name + ".hit_ratio", ratio(st.hits, st.requests));
    metrics->emplace_back("cache." + name + ".stale_share", ratio(st.stale_hits, st.requests));
    metrics->emplace_back("cache." + name + ".staleness_p99_s", quantile(st.stale_ages_s, 0.99));
    templates[name] = std::move(j);
  }
  out["templates"] = std::move(templates);
  metrics->emplace_back("cache.hit_ratio", ratio(all_hits, all_requests));
  metrics->emplace_back("cache.stale_share", ratio(all_stale, all_requests));

  // The load that reached ClickHouse, per second of simulated time.
  const std::vector<uint32_t>& per_s = look_aside_.cluster_queries_per_s();
  uint64_t total = 0;
  for (const uint32_t n : per_s) total += n;
  const size_t warm = static_cast<size_t>(s_.run.warmup.ns() / 1'000'000'000);
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
  metrics->emplace_back("cache.cluster_queries", static_cast<double>(total));
  metrics->emplace_back("cache.cluster_peak_per_s", peak(per_s, warm, per_s.size()));
  out["cluster_load"] = std::move(load);

  const cache::CacheTierCounters& counters = tier_.counters();
  out["requests"] = {{"gets", counters.gets},       {"hits", counters.hits},
                     {"sets", counters.sets},       {"deletes", counters.deletes},
                     {"errors", counters.errors},   {"ejections", counters.ejections},
                     {"gutter_gets", counters.gutter_gets},
                     {"gutter_hits", counters.gutter_hits}};
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

void CacheRun::write_series(const std::filesystem::path& path) const {
  const Duration bin = look_aside_.config().bin;
  std::vector<size_t> cached;
  for (size_t t = 0; t < look_aside_.stats().size(); ++t) {
    if (look_aside_.config().cached[t]) cached.push_back(t);
  }
  std::string out = "time_s";
  for (const size_t t : cached) {
    const std::string& name = driver_.template_name(t);
    out += fmt::format(",{0}.requests,{0}.hits,{0}.hit_ratio", name);
  }
  out += ",cluster_queries_per_s\n";
  size_t bins = 0;
  for (const size_t t : cached) bins = std::max(bins, look_aside_.stats()[t].requests_per_bin.size());
  const std::vector<uint32_t>& per_s = look_aside_.cluster_queries_per_s();
  const int64_t bin_s = std::max<int64_t>(1, bin.ns() / 1'000'000'000);
  bins = std::max(bins, static_cast<size_t>((static_cast<int64_t>(per_s.size()) + bin_s - 1) / bin_s));
  for (size_t b = 0; b < bins; ++b) {
    out += fmt::format("{}", static_cast<double>(b) * bin.seconds());
    for (const size_t t : cached) {
      const cache::TemplateCacheStats& st = look_aside_.stats()[t];
      const uint64_t requests = b < st.requests_per_bin.size() ? st.requests_per_bin[b] : 0;
      const uint64_t hits = b < st.hits_per_bin.size() ? st.hits_per_bin[b] : 0;
      out += fmt::format(",{},{},{:.4f}", requests, hits, ratio(hits, requests));
    }
    uint64_t queries = 0;
    for (int64_t sec = static_cast<int64_t>(b) * bin_s;
         sec < static_cast<int64_t>(b + 1) * bin_s && sec < static_cast<int64_t>(per_s.size());
         ++sec) {
      queries += per_s[static_cast<size_t>(sec)];
    }
    out += fmt::format(",{:.4f}\n", static_cast<double>(queries) / static_cast<double>(bin_s));
  }
  base::write_file_atomically(path, out);
}

}  // namespace shardlab::experiment
