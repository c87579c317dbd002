// The `cache` section: the memcached tier, what it caches and how it keeps in step.
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>

#include "base/errors.h"
#include "cluster_config/memcached_config.h"
#include "scenarios/scenario_sections.h"
#include "workloads/user_behavior.h"

namespace shardlab::scenarios::detail {

namespace {

const SchemaNode& cache_schema() { return *scenario_schema().field("cache"); }

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Cache hosts: unique names that are not cluster nodes or switches. With the racks shorthand
// each new one becomes a host on the spine (or the only rack's switch), like the coordinator;
// with an explicit topology it must be one of its hosts.
std::vector<std::string> read_hosts(const Field& field, const ClusterConfig& cluster,
                                    TopologyConfig* topology, const std::vector<std::string>& taken,
                                    std::string_view what) {
  std::vector<std::string> out;
  for (const Field& item : field.list_or_scalar(fmt::format("a list of {} host names", what))) {
    const std::string name = item.name("host name");
    if (has(out, name) || has(taken, name)) item.fail(fmt::format("'{}' is listed twice", name));
    if (std::any_of(cluster.nodes.begin(), cluster.nodes.end(),
                    [&](const NodeConfig& n) { return n.name == name; })) {
      item.fail(fmt::format("'{}' is a cluster node; a cache node is a host of its own", name));
    }
    if (has(topology->switches, name)) item.fail(fmt::format("'{}' is a switch", name));
    if (!has(topology->hosts, name)) {
      if (!topology->from_racks) {
        item.fail(fmt::format("unknown host '{}'; expected a host of topology.hosts", name));
      }
      // The first host's link is the racks shorthand's host link.
      TopologyLink link = topology->links.front();
      link.a = name;
      link.b = topology->switches.back();
      topology->hosts.push_back(name);
      topology->links.push_back(std::move(link));
    }
    out.push_back(name);
  }
  return out;
}

void read_memory(const MapReader& map, CacheConfig* cache) {
  cluster_config::MemcachedConfig server;
  if (auto f = map.find("memory")) cache->memory_bytes = f->bytes(1);
  if (auto f = map.find("growth_factor")) {
    cache->growth_factor = f->number(1.0, 100.0, /*min_exclusive=*/true);
  }
  if (auto f = map.find("min_chunk")) cache->min_chunk = static_cast<uint32_t>(f->count(1, 1 << 19));
  if (auto f = map.find("item_max")) {
    cache->item_max = static_cast<uint32_t>(f->bytes(1024));
    if (cache->item_max > server.page_bytes) {
      f->fail(fmt::format("the item size limit cannot exceed the 1 MiB page, got {} bytes",
                          cache->item_max));
    }
  }
  if (auto f = map.find("slab_automove")) cache->slab_automove = f->boolean();
  server.memory_bytes = cache->memory_bytes;
  server.growth_factor = cache->growth_factor;
  server.min_chunk_data = cache->min_chunk;
  server.item_size_max = cache->item_max;
  // memcached gives every class its first page whatever -m says; below one page per class the
  // limit would not hold, so the scenario must not ask for it.
  const uint64_t floor = server.slab_classes() * uint64_t{server.page_bytes};
  if (cache->memory_bytes < floor) {
    const Field where = map.find("memory") ? map.get("memory") : map.self();
    where.fail(fmt::format("the memory limit is below one 1 MiB page per slab class ({} classes "
                           "with these settings): expected at least {}",
                           server.slab_classes(), format_bytes(static_cast<double>(floor))));
  }
  try {
    server.validate();
  } catch (const InputError& e) {
    map.self().fail(e.what());
  }
}

void read_sync(const MapReader& map, const TopologyConfig& topology, CacheConfig* cache) {
  if (auto f = map.find("strategy")) cache->strategy = f->choice("strategy", {"ttl", "access", "change"});
  if (auto f = map.find("ttl")) cache->ttl = f->duration(Duration());
  if (cache->ttl.ns() % 1'000'000'000 != 0) {
    map.get("ttl").fail("memcached's TTLs are whole seconds");
  }
  if (auto f = map.find("refresh_interval")) cache->refresh_interval = f->duration(Duration());
  if (cache->strategy == "access" && cache->refresh_interval == Duration()) {
    const Field where = map.find("refresh_interval") ? map.get("refresh_interval") : map.self();
    where.fail("the access strategy warms the top keys every refresh_interval: give one, e.g. 1min");
  }
  if (auto f = map.find("refresh_keys")) cache->refresh_keys = f->count(1, 1'000'000);
  if (auto f = map.find("access_window")) {
    cache->access_window = f->duration(Duration::nanoseconds(1));
  }
  if (auto f = map.find("change")) {
    if (cache->strategy != "change") f->fail("applies to strategy: change");
    const MapReader change = f->map(*cache_schema().field("change"));
    if (auto g = change.find("mode")) cache->change_mode = g->choice("change mode", {"delete", "update"});
    if (auto g = change.find("delivery")) {
      cache->change_delivery = g->choice("delivery", {"client", "server", "middleware"});
    }
    if (auto g = change.find("partitions")) {
      cache->log_partitions = static_cast<uint32_t>(g->count(1, 1024));
    }
    if (auto g = change.find("batch_interval")) {
      cache->log_batch_interval = g->duration(Duration::nanoseconds(1));
    }
    if (auto g = change.find("lag")) cache->log_lag = g->duration(Duration());
    if (auto g = change.find("log_host")) {
      cache->log_host = g->name("host name");
      if (!has(topology.hosts, cache->log_host)) {
        g->fail(fmt::format("unknown host '{}'; expected a host of the topology (a cache node, "
                            "the coordinator or a host of topology.hosts)",
                            cache->log_host));
      }
    }
  }
  if (cache->change_delivery == "middleware" && cache->log_host.empty()) {
    cache->log_host = cache->nodes.front();  // the log beside the first cache node
  }
  if (auto f = map.find("leases")) cache->leases = f->boolean();
  if (auto f = map.find("lease_stale")) cache->lease_stale = f->boolean();
  if (auto f = map.find("lease_retry")) cache->lease_retry = f->duration(Duration::nanoseconds(1));
  if (auto f = map.find("clock_bucket")) {
    cache->clock_bucket = f->duration(Duration::seconds(1));
    if (cache->clock_bucket.ns() % 1'000'000'000 != 0) f->fail("expected whole seconds, e.g. 1min");
  }
}

// `partition: {by, lists | bounds}` for distribution: partition.
void read_partition(const MapReader& map, CacheConfig* cache) {
  const std::optional<Field> section = map.find("partition");
  if (cache->distribution != "partition") {
    if (section) section->fail("applies to distribution: partition");
    return;
  }
  if (!section) {
    map.get("distribution")
        .fail("partition placement needs a partition map: partition: {by: province, lists: "
              "[[...], ...]} or {by: user, bounds: [...]}");
  }
  const MapReader partition = section->map(*cache_schema().field("partition"));
  const size_t nodes = cache->nodes.size();
  cache->partition_by =
      partition.require("by", "the template parameter that places a key")
          .choice("partition parameter", {"province", "user", "item"});
  if (cache->partition_by == "province") {
    if (partition.find("bounds")) partition.get("bounds").fail("provinces are placed by lists");
    const Field lists = partition.require(
        "lists", fmt::format("{} lists of provinces, one per cache node", nodes));
    const std::vector<Field> items = lists.list("a list with one list of provinces per node");
    if (items.size() != nodes) {
      lists.fail(fmt::format("expected {} province lists (one per cache node), got {}", nodes,
                             items.size()));
    }
    std::map<std::string, std::string> placed;  // province -> where
    for (const Field& item : items) {
      std::vector<std::string> provinces;
      for (const Field& value : item.list_or_scalar("a list of provinces")) {
        const std::string name = value.scalar("a province");
        if (std::find(workloads::kProvinceNames.begin(), workloads::kProvinceNames.end(), name) ==
            workloads::kProvinceNames.end()) {
          value.fail(fmt::format("'{}' is not a province of the generated data", name));
        }
        const auto [it, inserted] = placed.emplace(name, value.where());
        if (!inserted) value.fail(fmt::format("'{}' is already listed (at {})", name, it->second));
        provinces.push_back(name);
      }
      cache->partition_lists.push_back(std::move(provinces));
    }
    std::vector<std::string> missing;
    for (const std::string_view name : workloads::kProvinceNames) {
      if (!placed.count(std::string(name))) missing.emplace_back(name);
    }
    if (!missing.empty()) {
      lists.fail(fmt::format("the lists miss {} province(s): {}; every value a key can take "
                             "needs a node",
                             missing.size(), join_words(missing, 8)));
    }
    return;
  }
  if (partition.find("lists")) partition.get("lists").fail("ids are placed by bounds");
  const Field bounds = partition.require(
      "bounds", fmt::format("{} ascending bounds between the {} nodes' id ranges", nodes - 1,
                            nodes));
  const std::vector<Field> items = bounds.list("a list of id bounds");
  if (items.size() + 1 != nodes) {
    bounds.fail(fmt::format("{} cache nodes need {} bounds (node i holds ids below bound i, the "
                            "last node the rest), got {}",
                            nodes, nodes - 1, items.size()));
  }
  for (const Field& item : items) {
    const uint64_t bound = item.count(1, std::numeric_limits<int64_t>::max());
    if (!cache->partition_bounds.empty() && bound <= cache->partition_bounds.back()) {
      item.fail("bounds must ascend");
    }
    cache->partition_bounds.push_back(bound);
  }
}

}  // namespace

std::optional<CacheConfig> read_cache(const MapReader& root, const ClusterConfig& cluster,
                                      const WorkloadConfig& workload, const RunConfig& run,
                                      TopologyConfig* topology) {
  const std::optional<Field> section = root.find("cache");
  if (!section) return std::nullopt;
  const MapReader map = section->map(cache_schema());
  CacheConfig cache;
  cache.nodes = read_hosts(map.require("nodes", "the cache nodes' host names"), cluster, topology,
                           {}, "cache node");
  if (cache.nodes.empty()) map.get("nodes").fail("expected at least one cache node");
  if (auto f = map.find("gutter")) {
    cache.gutter = read_hosts(*f, cluster, topology, cache.nodes, "gutter");
  }
  if (auto f = map.find("gutter_ttl")) cache.gutter_ttl = f->duration(Duration::seconds(1));
  read_memory(map, &cache);
  if (auto f = map.find("threads")) cache.threads = static_cast<int>(f->count(1, 256));
  if (auto f = map.find("distribution")) {
    cache.distribution =
        f->choice("distribution", {"ketama", "modula", "partition", "round_robin"});
  }
  read_partition(map, &cache);
  if (auto f = map.find("op_cpu")) cache.op_cpu = f->duration(Duration());
  if (auto f = map.find("connect_timeout")) cache.connect_timeout = f->duration(Duration());

  std::vector<std::string> names;
  for (const QueryTemplate& q : workload.queries) names.push_back(q.name);
  const Field templates = map.require("templates", "the query templates to cache, by name");
  for (const Field& item : templates.list_or_scalar("a list of query template names")) {
    const std::string name = item.choice("query template", names);
    if (has(cache.templates, name)) item.fail(fmt::format("'{}' is listed twice", name));
    cache.templates.push_back(name);
  }
  if (cache.templates.empty()) templates.fail("expected at least one query template");
  read_sync(map, *topology, &cache);

  if (auto f = map.find("crashes")) {
    for (const Field& item : f->list("a list of cache node crashes {at, node, duration}")) {
      const MapReader crash = item.map(*cache_schema().field("crashes")->element);
      CacheCrash c;
      c.at = crash.require("at", "when the node crashes, e.g. 2h").duration(Duration());
      if (c.at >= run.duration) {
        crash.get("at").fail(fmt::format("is at or after the run's end ({})",
                                         format_duration(run.duration)));
      }
      c.node = crash.require("node", "a cache node").choice("cache node", cache.nodes);
      if (auto d = crash.find("duration")) c.duration = d->duration(Duration::nanoseconds(1));
      cache.crashes.push_back(std::move(c));
    }
  }
  // Read and checked either way, so that a variant that turns the tier off compares against
  // the same settings.
  if (auto f = map.find("enabled"); f && !f->boolean()) return std::nullopt;
  return cache;
}

}  // namespace shardlab::scenarios::detail
