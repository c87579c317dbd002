// The hardware, cluster and topology sections.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "base/errors.h"
#include "scenarios/scenario_sections.h"

namespace shardlab::scenarios::detail {

namespace {

const SchemaNode& schema_at(std::initializer_list<std::string_view> path) {
  const SchemaNode* node = &scenario_schema();
  for (const std::string_view key : path) {
    node = node->field(key);
    if (node->kind == SchemaNode::Kind::kList || node->kind == SchemaNode::Kind::kNamedMap) {
      node = node->element;
    }
  }
  return *node;
}

constexpr uint64_t kMaxShards = 1024;
constexpr uint64_t kMaxReplicas = 16;
constexpr uint64_t kMaxNodes = 4096;
constexpr std::string_view kDefaultRack = "r0";

// The racks shorthand's defaults: a 10 Gbit/s access port per host and a 40 Gbit/s uplink per
// rack, a common leaf-spine build (ten 10G hosts per rack oversubscribe the uplink 2.5:1).
// One-way latencies per hop of a few microseconds of switching plus cable, rounded up.
constexpr double kDefaultHostLinkBytesPerS = 10e9 / 8;
constexpr double kDefaultUplinkBytesPerS = 40e9 / 8;
constexpr Duration kDefaultHostLinkLatency = Duration::microseconds(10);
constexpr Duration kDefaultUplinkLatency = Duration::microseconds(20);

NodeType read_node_type(const Field& field) {
  const MapReader map = field.map(schema_at({"hardware", "node_types"}));
  NodeType spec;
  if (auto f = map.find("cores")) spec.cores = static_cast<int>(f->count(1, 1024));
  if (auto f = map.find("cpu_speed")) spec.cpu_speed = f->number(0, 1000, /*min_exclusive=*/true);
  if (auto f = map.find("memory")) spec.memory_bytes = f->bytes(uint64_t{1} << 20);
  if (auto f = map.find("memory_bandwidth")) spec.memory_bytes_per_s = f->bandwidth();
  if (auto f = map.find("page_cache_block")) {
    const uint64_t block = f->bytes(512);
    if ((block & (block - 1)) != 0) {
      f->fail(fmt::format("expected a power of two such as 4KiB or 64KiB, got {}",
                          format_bytes(static_cast<double>(block))));
    }
    spec.page_cache_block_bytes = block;
  }
  if (auto f = map.find("disk")) {
    const MapReader disk = f->map(schema_at({"hardware", "node_types", "disk"}));
    if (auto d = disk.find("read_bandwidth")) spec.disk.read_bytes_per_s = d->bandwidth();
    if (auto d = disk.find("write_bandwidth")) spec.disk.write_bytes_per_s = d->bandwidth();
    if (auto d = disk.find("latency")) spec.disk.latency = d->duration(Duration());
    if (auto d = disk.find("iops")) spec.disk.iops = d->number(0, 1e12);
  }
  return spec;
}

// A node of cluster.nodes: a bare name, or a mapping with name, type, rack and machine.
NodeConfig read_node(const Field& field, const HardwareConfig& hardware, std::vector<Field>* names,
                     std::optional<Field>* machine_field) {
  NodeConfig node;
  std::vector<std::string> types;
  for (const auto& [type, spec] : hardware.node_types) types.push_back(type);
  std::optional<Field> type_field;
  if (!field.is_null() && field.node().IsScalar()) {
    node.name = field.name("node name", /*colon_ok=*/true);
    names->push_back(field);
  } else {
    const MapReader map = field.map(schema_at({"cluster", "nodes"}));
    const Field name = map.require("name", "a node name such as n0");
    node.name = name.name("node name", /*colon_ok=*/true);
    names->push_back(name);
    if (auto f = map.find("type")) {
      node.type = f->choice("node type", types);
      type_field = f;
    }
    if (auto f = map.find("rack")) node.rack = f->name("rack name");
    if (auto f = map.find("machine")) {
      node.machine = f->name("machine name");
      *machine_field = f;
    }
  }
  if (node.type.empty()) {
    if (types.size() != 1) {
      field.fail(
          fmt::format("node '{}' has no type; with several node types each node needs "
                      "one (types: {})",
                      node.name, join_words(types)));
    }
    node.type = types.front();
  }
  if (node.rack.empty()) node.rack = kDefaultRack;
  return node;
}

// One shard's replica nodes: cluster.replicas known names, distinct.
std::vector<std::string> read_shard_nodes(const Field& shard, const ClusterConfig& cluster,
                                          const std::vector<std::string>& names) {
  const std::vector<Field> replicas = shard.list("a list of node names, one per replica");
  if (replicas.size() != cluster.replicas) {
    shard.fail(
        fmt::format("expected {} node names (one per replica: cluster.replicas is {}), "
                    "got {}",
                    cluster.replicas, cluster.replicas, replicas.size()));
  }
  std::vector<std::string> nodes;
  for (const Field& replica : replicas) {
    const std::string node = replica.choice("node", names);
    if (std::find(nodes.begin(), nodes.end(), node) != nodes.end()) {
      replica.fail(
          fmt::format("node '{}' already holds a replica of this shard; the replicas "
                      "of a shard must be on distinct nodes",
                      node));
    }
    nodes.push_back(node);
  }
  return nodes;
}

std::vector<std::vector<std::string>> read_placement(const Field& field,
                                                     const ClusterConfig& cluster,
                                                     const std::vector<std::string>& names) {
  const std::vector<Field> shards = field.list("a list with one entry per shard");
  if (shards.size() != cluster.shards) {
    field.fail(fmt::format("expected {} entries (one per shard: cluster.shards is {}), got {}",
                           cluster.shards, cluster.shards, shards.size()));
  }
  std::vector<std::vector<std::string>> placement;
  for (const Field& shard : shards) placement.push_back(read_shard_nodes(shard, cluster, names));
  return placement;
}

// cluster.nodes: at least one, at most kMaxNodes, names unique.
void read_nodes(const MapReader& map, const HardwareConfig& hardware, ClusterSection* out) {
  ClusterConfig& cluster = out->config;
  const Field nodes = map.require("nodes", "a list of nodes such as [n0, n1, n2]");
  std::map<std::string, std::string> seen;
  std::map<std::string, size_t> first_on_machine;  // machine -> index of its first node
  for (const Field& item : nodes.list("a list of nodes")) {
    std::optional<Field> machine_field;
    NodeConfig node = read_node(item, hardware, &out->node_names, &machine_field);
    const auto [it, inserted] = seen.emplace(node.name, out->node_names.back().where());
    if (!inserted) {
      out->node_names.back().fail(
          fmt::format("duplicate node '{}' (first declared at {})", node.name, it->second));
    }
    if (machine_field) {
      // Servers on one machine share its hardware and its place in the network.
      const auto [first, new_machine] =
          first_on_machine.emplace(node.machine, cluster.nodes.size());
      if (!new_machine) {
        const NodeConfig& other = cluster.nodes[first->second];
        if (other.type != node.type || other.rack != node.rack) {
          machine_field->fail(fmt::format(
              "node '{}' shares machine '{}' with '{}', so it needs the same type and rack "
              "(type {}, rack {}), got type {}, rack {}",
              node.name, node.machine, other.name, other.type, other.rack, node.type, node.rack));
        }
      }
    }
    cluster.nodes.push_back(std::move(node));
  }
  if (cluster.nodes.empty()) nodes.fail("expected at least one node");
  if (cluster.nodes.size() > kMaxNodes) {
    nodes.fail(fmt::format("expected at most {} nodes, got {}", kMaxNodes, cluster.nodes.size()));
  }
}

// shards, replicas and placement (by default round robin over the nodes).
void read_shape(const MapReader& map, ClusterConfig* cluster) {
  std::vector<std::string> names;
  for (const NodeConfig& node : cluster->nodes) names.push_back(node.name);
  cluster->shards = map.require("shards", "the number of shards").count(1, kMaxShards);
  if (auto f = map.find("replicas")) {
    cluster->replicas = f->count(1, kMaxReplicas);
    if (cluster->replicas > cluster->nodes.size()) {
      f->fail(
          fmt::format("{} replicas per shard need at least {} nodes (the replicas of a shard "
                      "are on distinct nodes), but cluster.nodes has {}",
                      cluster->replicas, cluster->replicas, cluster->nodes.size()));
    }
  }
  if (auto f = map.find("placement")) {
    cluster->placement = read_placement(*f, *cluster, names);
    return;
  }
  for (size_t shard = 0; shard < cluster->shards; ++shard) {
    std::vector<std::string> replicas;
    for (size_t replica = 0; replica < cluster->replicas; ++replica) {
      replicas.push_back(names[(shard * cluster->replicas + replica) % names.size()]);
    }
    cluster->placement.push_back(std::move(replicas));
  }
}

// insert_mode, internal_replication, insert_quorum and load_balancing.
void read_insert_options(const MapReader& map, ClusterConfig* cluster) {
  if (auto f = map.find("insert_mode")) {
    cluster->insert_mode = f->choice("insert mode", {"async", "sync"}) == "sync"
                               ? InsertMode::kSync
                               : InsertMode::kAsync;
  }
  if (auto f = map.find("internal_replication")) cluster->internal_replication = f->boolean();
  if (auto f = map.find("insert_quorum")) {
    cluster->insert_quorum = static_cast<uint32_t>(f->count(0, kMaxReplicas));
    if (cluster->insert_quorum > cluster->replicas) {
      f->fail(
          fmt::format("a quorum of {} replicas is more than the {} each shard has "
                      "(cluster.replicas); expected 0 (no quorum) to {}",
                      cluster->insert_quorum, cluster->replicas, cluster->replicas));
    }
  }
  if (auto f = map.find("load_balancing")) {
    static const std::vector<std::string> kPolicies = {"random", "nearest_hostname", "in_order",
                                                       "first_or_random", "round_robin"};
    cluster->load_balancing = *parse_load_balancing(f->choice("load balancing policy", kPolicies));
  }
}

void read_coordinator(const MapReader& map, const HardwareConfig& hardware, ClusterSection* out) {
  if (hardware.calibrated_coordinator_latency) {
    out->config.coordinator_latency = *hardware.calibrated_coordinator_latency;
  }
  const std::optional<Field> f = map.find("coordinator");
  if (!f) return;
  const MapReader coordinator = f->map(*schema_at({"cluster"}).field("coordinator"));
  if (auto node = coordinator.find("node")) {
    out->config.coordinator_node = node->name("host name", /*colon_ok=*/true);
    out->coordinator = node;
  }
  if (auto latency = coordinator.find("latency")) {
    out->config.coordinator_latency = latency->duration(Duration());
  }
}

// Validates a scheme against the table in stages, so that each problem points at the key,
// bound or section that causes it.
void check_sharding(const MapReader& map, const ShardingConfig& spec, const TableConfig& table) {
  if (spec.kind != ShardingKind::kRandom) {
    ShardingConfig key_only;
    key_only.kind = spec.kind;
    key_only.key = spec.key;
    key_only.shards = 1;
    if (spec.kind == ShardingKind::kList) key_only.lists.resize(1);
    try {
      validate_sharding(table.schema, key_only);
    } catch (const InputError& e) {
      fail_sql(map.get("key"), e.what());
    }
  }
  if (spec.kind == ShardingKind::kRange) {
    const std::vector<Field> bounds = map.get("bounds").list("a list of boundaries");
    for (size_t count = 1; count <= spec.range_bounds.size(); ++count) {
      ShardingConfig prefix = spec;
      prefix.shards = count + 1;
      prefix.range_bounds.resize(count);
      prefix.weights.clear();
      try {
        validate_sharding(table.schema, prefix);
      } catch (const InputError& e) {
        bounds[count - 1].fail(e.what());
      }
    }
  }
  try {
    validate_sharding(table.schema, spec);
  } catch (const InputError& e) {
    map.self().fail(e.what());
  }
}

// `kind`, with the keys that apply to other kinds refused.
ShardingKind read_sharding_kind(const MapReader& map) {
  static const std::vector<std::string> kKinds = {"hash", "range", "list", "random", "jump"};
  const std::string kind =
      map.has("kind") ? map.get("kind").choice("sharding kind", kKinds) : std::string("hash");
  const ShardingKind out = kind == "hash"     ? ShardingKind::kHash
                           : kind == "range"  ? ShardingKind::kRange
                           : kind == "list"   ? ShardingKind::kList
                           : kind == "random" ? ShardingKind::kRandom
                                              : ShardingKind::kJump;
  const auto only_for = [&](std::string_view key, std::initializer_list<ShardingKind> kinds,
                            std::string_view which) {
    if (map.has(key) && std::find(kinds.begin(), kinds.end(), out) == kinds.end()) {
      map.get(key).fail(fmt::format("'{}' applies to {} sharding, not to {}", key, which, kind));
    }
  };
  only_for("weights", {ShardingKind::kHash, ShardingKind::kRandom}, "hash and random");
  only_for("bounds", {ShardingKind::kRange}, "range");
  only_for("lists", {ShardingKind::kList}, "list");
  only_for("default_shard", {ShardingKind::kList}, "list");
  return out;
}

// `key` (none for random) and `weights`.
void read_key_and_weights(const MapReader& map, ShardingConfig* spec) {
  if (spec->kind == ShardingKind::kRandom) {
    if (map.has("key")) {
      map.get("key").fail("random sharding takes no key: each row picks a shard by rand()");
    }
  } else {
    const Field key = map.require(
        "key", fmt::format("the sharding expression, e.g. {}",
                           spec->kind == ShardingKind::kRange  ? "toYYYYMMDD(event_time)"
                           : spec->kind == ShardingKind::kList ? "province"
                                                               : "cityHash64(user_id)"));
    spec->key = key.scalar("an SQL expression over the table's columns");
  }
  if (auto f = map.find("weights")) {
    const std::vector<Field> weights = f->list("a list of whole numbers, one per shard");
    if (weights.size() != spec->shards) {
      f->fail(
          fmt::format("expected {} weights (one per shard), got {}", spec->shards, weights.size()));
    }
    for (const Field& weight : weights) {
      spec->weights.push_back(static_cast<uint32_t>(weight.count(1, 1'000'000)));
    }
  }
}

void read_range_bounds(const MapReader& map, ShardingConfig* spec) {
  const size_t shards = spec->shards;
  const Field bounds = map.require(
      "bounds", fmt::format("{} ascending boundaries between the {} shards", shards - 1, shards));
  const std::vector<Field> items = bounds.list("a list of boundaries");
  if (items.size() + 1 != shards) {
    bounds.fail(
        fmt::format("range sharding over {} shards needs {} boundaries (shard i holds "
                    "keys from boundary i-1 up to boundary i), got {}",
                    shards, shards - 1, items.size()));
  }
  for (const Field& item : items) spec->range_bounds.push_back(item.scalar("a key value"));
}

// `lists` (each value in one list only) and `default_shard`.
void read_lists(const MapReader& map, ShardingConfig* spec, ListPlaces* places) {
  const size_t shards = spec->shards;
  const Field lists =
      map.require("lists", fmt::format("{} lists of key values, one per shard", shards));
  const std::vector<Field> items = lists.list("a list with one list of values per shard");
  if (items.size() != shards) {
    lists.fail(
        fmt::format("expected {} value lists (one per shard), got {}", shards, items.size()));
  }
  places->lists = lists;
  std::map<std::string, std::pair<size_t, std::string>> owner;  // value -> (shard, where)
  for (size_t shard = 0; shard < items.size(); ++shard) {
    std::vector<std::string> values;
    places->values.push_back(items[shard].list_or_scalar("a list of key values"));
    for (const Field& value : places->values.back()) {
      const std::string text = value.scalar("a key value");
      const auto [it, inserted] = owner.emplace(text, std::make_pair(shard, value.where()));
      if (!inserted) {
        value.fail(fmt::format("'{}' is already listed for shard {} (at {})", text,
                               it->second.first + 1, it->second.second));
      }
      values.push_back(text);
    }
    spec->lists.push_back(std::move(values));
  }
  if (auto f = map.find("default_shard")) spec->default_shard = f->count(1, shards) - 1;
}

// A scheme over `shards` shards; a list scheme's value places go to `places`.
ShardingConfig read_sharding(const MapReader& map, size_t shards, const TableConfig& table,
                             ListPlaces* places) {
  ShardingConfig spec;
  spec.shards = shards;
  spec.kind = read_sharding_kind(map);
  read_key_and_weights(map, &spec);
  if (spec.kind == ShardingKind::kRange) read_range_bounds(map, &spec);
  if (spec.kind == ShardingKind::kList) read_lists(map, &spec, places);
  check_sharding(map, spec, table);
  return spec;
}

DistributedSettings read_settings(const Field& field, const TableConfig& table) {
  const MapReader map = field.map(schema_at({"cluster", "settings"}));
  DistributedSettings s;
  const Duration zero;
  const Duration one_ns = Duration::nanoseconds(1);
  if (auto f = map.find("distributed_directory_monitor_sleep_time")) {
    s.directory_monitor_sleep_time = f->duration(one_ns);
  }
  if (auto f = map.find("connect_timeout_with_failover")) {
    s.connect_timeout_with_failover = f->duration(one_ns);
  }
  if (auto f = map.find("connections_with_failover_max_tries")) {
    s.connections_with_failover_max_tries = static_cast<int>(f->count(1, 100));
  }
  if (auto f = map.find("distributed_replica_error_half_life")) {
    s.replica_error_half_life = f->duration(one_ns);
  }
  if (auto f = map.find("skip_unavailable_shards")) s.skip_unavailable_shards = f->boolean();
  if (auto f = map.find("max_replica_delay_for_distributed_queries")) {
    s.max_replica_delay_for_distributed_queries = f->duration(zero);
  }
  if (auto f = map.find("fallback_to_stale_replicas_for_distributed_queries")) {
    s.fallback_to_stale_replicas = f->boolean();
  }
  if (auto f = map.find("prefer_localhost_replica")) s.prefer_localhost_replica = f->boolean();
  if (auto f = map.find("distributed_group_by_no_merge")) {
    s.distributed_group_by_no_merge = f->boolean();
  }
  if (auto f = map.find("insert_quorum_timeout")) s.insert_quorum_timeout = f->duration(one_ns);
  if (auto f = map.find("max_threads")) s.max_threads = static_cast<uint32_t>(f->count(0, 1024));
  if (auto f = map.find("max_memory_usage")) s.max_memory_usage = f->bytes(0);
  s.parts_to_delay_insert = table.schema.settings.parts_to_delay_insert;
  s.parts_to_throw_insert = table.schema.settings.parts_to_throw_insert;
  return s;
}

TopologyLink read_link_spec(const MapReader& racks, std::string_view key, double bandwidth,
                            Duration latency) {
  TopologyLink link;
  link.bandwidth_bytes_per_s = bandwidth;
  link.latency = latency;
  if (auto f = racks.find(key)) {
    const MapReader map = f->map(schema_at({"topology", "racks", "host_link"}));
    if (auto b = map.find("bandwidth")) link.bandwidth_bytes_per_s = b->bandwidth();
    if (auto l = map.find("latency")) link.latency = l->duration(Duration());
  }
  return link;
}

TopologyLink make_link(std::string a, std::string b, const TopologyLink& spec) {
  TopologyLink link = spec;
  link.a = std::move(a);
  link.b = std::move(b);
  return link;
}

// The racks shorthand: each rack's hosts on a top-of-rack switch, the switches on one spine.
TopologyConfig expand_racks(const MapReader& racks, ClusterSection& cluster) {
  const TopologyLink host_link =
      read_link_spec(racks, "host_link", kDefaultHostLinkBytesPerS, kDefaultHostLinkLatency);
  const TopologyLink uplink =
      read_link_spec(racks, "uplink", kDefaultUplinkBytesPerS, kDefaultUplinkLatency);
  TopologyConfig topology;
  topology.from_racks = true;
  std::vector<std::string> rack_names;
  for (const NodeConfig& node : cluster.config.nodes) {
    if (std::find(rack_names.begin(), rack_names.end(), node.rack) == rack_names.end()) {
      rack_names.push_back(node.rack);
    }
  }
  const bool spine = rack_names.size() > 1;
  for (const std::string& rack : rack_names)
    topology.switches.push_back(fmt::format("{}{}", kTorPrefix, rack));
  if (spine) topology.switches.emplace_back(kSpineSwitch);
  for (size_t idx = 0; idx < cluster.config.nodes.size(); ++idx) {
    const std::string& name = cluster.config.nodes[idx].name;
    if (std::find(topology.switches.begin(), topology.switches.end(), name) !=
        topology.switches.end()) {
      cluster.node_names[idx].fail(
          fmt::format("the racks shorthand names a switch '{}' (switches: {}); rename the node",
                      name, join_words(topology.switches)));
    }
    topology.hosts.push_back(name);
    topology.links.push_back(make_link(
        name, fmt::format("{}{}", kTorPrefix, cluster.config.nodes[idx].rack), host_link));
  }
  if (spine) {
    for (const std::string& rack : rack_names) {
      topology.links.push_back(
          make_link(fmt::format("{}{}", kTorPrefix, rack), std::string(kSpineSwitch), uplink));
    }
  }
  // A coordinator that is not a cluster node is a host of its own on the spine (or on the only
  // rack's switch), as a ZooKeeper ensemble in a management rack would be.
  std::string& coordinator = cluster.config.coordinator_node;
  if (coordinator.empty() && cluster.config.replicas > 1) coordinator = kDefaultCoordinator;
  if (!coordinator.empty() && std::find(topology.hosts.begin(), topology.hosts.end(),
                                        coordinator) == topology.hosts.end()) {
    if (std::find(topology.switches.begin(), topology.switches.end(), coordinator) !=
        topology.switches.end()) {
      const Field& where = cluster.coordinator ? *cluster.coordinator : *cluster.section;
      where.fail(
          fmt::format("the coordinator '{}' is a switch of the racks shorthand; name a "
                      "host",
                      coordinator));
    }
    topology.hosts.push_back(coordinator);
    topology.links.push_back(make_link(coordinator, topology.switches.back(), host_link));
  }
  return topology;
}

// topology.links: each between two declared nodes, at most one link per pair.
void read_explicit_links(const Field& links, TopologyConfig* out_topology) {
  TopologyConfig& topology = *out_topology;
  std::vector<std::string> all = topology.hosts;
  all.insert(all.end(), topology.switches.begin(), topology.switches.end());
  std::map<std::pair<std::string, std::string>, std::string> joined;  // sorted ends -> where
  for (const Field& item : links.list("a list of links {a, b, bandwidth, latency}")) {
    const MapReader link = item.map(schema_at({"topology", "links"}));
    TopologyLink out;
    out.a = link.require("a", "a host or switch name").choice("node", all);
    out.b = link.require("b", "a host or switch name").choice("node", all);
    if (out.a == out.b) {
      link.get("b").fail(
          fmt::format("a link joins two different nodes, but both ends are '{}'", out.a));
    }
    out.bandwidth_bytes_per_s =
        link.require("bandwidth", "a bandwidth such as 10Gbit/s").bandwidth();
    out.latency = link.require("latency", "a one-way latency such as 20us").duration(Duration());
    const auto ends = std::minmax(out.a, out.b);
    const auto [it, inserted] =
        joined.emplace(std::make_pair(ends.first, ends.second), item.where());
    if (!inserted) {
      item.fail(
          fmt::format("'{}' and '{}' are already linked (at {}); model parallel links as "
                      "one link with their summed bandwidth",
                      out.a, out.b, it->second));
    }
    topology.links.push_back(std::move(out));
  }
}

TopologyConfig read_explicit(const MapReader& map, ClusterSection& cluster) {
  TopologyConfig topology;
  std::map<std::string, std::string> declared;  // name -> where
  const auto declare = [&](std::string_view key, std::vector<std::string>* out) {
    if (!map.has(key)) return;
    const Field list = map.get(key);
    const std::vector<Field> items = list.list(fmt::format("a list of {} names", key));
    if (key == "hosts" && items.empty()) list.fail("expected at least one host");
    for (const Field& item : items) {
      const std::string name = item.name(key == "hosts" ? "host name" : "switch name", true);
      const auto [it, inserted] = declared.emplace(name, item.where());
      if (!inserted) {
        item.fail(fmt::format("duplicate name '{}' (first declared at {})", name, it->second));
      }
      out->push_back(name);
    }
  };
  declare("hosts", &topology.hosts);
  declare("switches", &topology.switches);
  if (auto links = map.find("links")) read_explicit_links(*links, &topology);
  const Field hosts = map.get("hosts");
  for (const NodeConfig& node : cluster.config.nodes) {
    if (std::find(topology.hosts.begin(), topology.hosts.end(), node.name) ==
        topology.hosts.end()) {
      hosts.fail(fmt::format("cluster node '{}' is not a host of the topology (hosts: {})",
                             node.name, join_words(topology.hosts)));
    }
  }
  std::string& coordinator = cluster.config.coordinator_node;
  if (cluster.coordinator) {
    if (std::find(topology.hosts.begin(), topology.hosts.end(), coordinator) ==
        topology.hosts.end()) {
      cluster.coordinator->choice("coordinator host", topology.hosts);
    }
  } else if (cluster.config.replicas > 1) {
    cluster.section->fail(
        "with replicas and an explicit topology, name the host of the simulated ZooKeeper: "
        "coordinator: {node: HOST}");
  }
  return topology;
}

// reshard.add: one list of cluster.replicas node names per new shard.
std::vector<std::vector<std::string>> read_new_shards(const MapReader& map,
                                                      const ClusterConfig& cluster) {
  std::vector<std::string> names;
  for (const NodeConfig& node : cluster.nodes) names.push_back(node.name);
  const Field add = map.require("add", "the new shards, each a list of its replicas' nodes");
  const std::vector<Field> shards = add.list("a list with one list of node names per new shard");
  if (shards.empty()) add.fail("expected at least one new shard");
  if (cluster.shards + shards.size() > kMaxShards) {
    add.fail(fmt::format("expected at most {} shards in all, got {}", kMaxShards,
                         cluster.shards + shards.size()));
  }
  std::vector<std::vector<std::string>> out;
  for (const Field& shard : shards) out.push_back(read_shard_nodes(shard, cluster, names));
  return out;
}

// reshard.compare_key: an unsigned integer expression; by default the cluster's hash or jump key.
std::string read_compare_key(const MapReader& map, const ClusterConfig& cluster,
                             const TableConfig& table) {
  const ShardingKind kind = cluster.sharding.kind;
  if (auto f = map.find("compare_key")) {
    ShardingConfig probe;
    probe.kind = ShardingKind::kHash;
    probe.key = f->scalar("an unsigned integer SQL expression, e.g. cityHash64(user_id)");
    probe.shards = 1;
    try {
      validate_sharding(table.schema, probe);
    } catch (const InputError& e) {
      fail_sql(*f, e.what());
    }
    return probe.key;
  }
  if (kind == ShardingKind::kHash || kind == ShardingKind::kJump) return cluster.sharding.key;
  return {};
}

}  // namespace

HardwareConfig read_hardware(const MapReader& root, const std::string& scenario_dir) {
  HardwareConfig hardware;
  if (auto section = root.find("hardware")) {
    const MapReader map = section->map(*scenario_schema().field("hardware"));
    if (auto types = map.find("node_types")) {
      for (const auto& [key, value] : named_entries(*types, "node type")) {
        const Field name_field(types->ctx(), key, key, value.path());
        const std::string name = name_field.name("node type name");
        hardware.node_types.emplace(name, read_node_type(value));
      }
    }
    if (auto f = map.find("calibration")) {
      const std::string text = f->scalar("the path of a calibration file");
      const std::filesystem::path path = std::filesystem::path(text).is_absolute()
                                             ? std::filesystem::path(text)
                                             : std::filesystem::path(scenario_dir) / text;
      std::error_code ec;
      if (std::filesystem::is_directory(path, ec)) {
        f->fail(fmt::format("'{}' is a directory, expected a calibration file (calibration.json)",
                            text));
      }
      std::ifstream probe(path);
      if (!probe) {
        f->fail(fmt::format("cannot read the calibration file '{}' (looked for {})", text,
                            path.string()));
      }
      hardware.calibration = path.lexically_normal().string();
      // The file's coefficients are checked when a run loads them; its cluster section is the
      // scenario's business.
      const nlohmann::json doc = nlohmann::json::parse(probe, nullptr, /*allow_exceptions=*/false);
      if (doc.is_discarded() || !doc.is_object()) {
        f->fail(fmt::format("'{}' is not a calibration file: expected a JSON object", text));
      }
      if (auto cluster = doc.find("cluster"); cluster != doc.end() && cluster->is_object()) {
        if (auto latency = cluster->find("coordinator_latency_s"); latency != cluster->end()) {
          if (!latency->is_number() || latency->get<double>() < 0) {
            f->fail(
                fmt::format("'{}': cluster.coordinator_latency_s: expected seconds >= 0", text));
          }
          hardware.calibrated_coordinator_latency = Duration::from_seconds(latency->get<double>());
        }
      }
    }
  }
  if (hardware.node_types.empty()) hardware.node_types.emplace(kDefaultNodeType, NodeType());
  return hardware;
}

ClusterSection read_cluster(const MapReader& root, const HardwareConfig& hardware,
                            const TableConfig& table) {
  ClusterSection out;
  ClusterConfig& cluster = out.config;
  const Field section = root.require("cluster", "the cluster: nodes, shards, replicas, sharding");
  out.section = section;
  const MapReader map = section.map(*scenario_schema().field("cluster"));
  read_nodes(map, hardware, &out);
  read_shape(map, &cluster);
  if (auto f = map.find("sharding")) {
    cluster.sharding = read_sharding(f->map(*schema_at({"cluster"}).field("sharding")),
                                     cluster.shards, table, &out.sharding_lists);
  } else if (cluster.shards > 1) {
    section.fail(
        "missing key 'sharding': with more than one shard, say how rows are spread, e.g. "
        "sharding: {kind: hash, key: cityHash64(user_id)}");
  } else {
    cluster.sharding.kind = ShardingKind::kRandom;  // one shard takes every row
    cluster.sharding.shards = 1;
  }
  read_insert_options(map, &cluster);
  read_coordinator(map, hardware, &out);
  cluster.settings =
      map.has("settings")
          ? read_settings(map.get("settings"), table)
          : read_settings(Field(section.ctx(), YAML::Node(), YAML::Node(), "cluster.settings"),
                          table);
  return out;
}

TopologyConfig read_topology(const MapReader& root, ClusterSection& cluster) {
  const std::optional<Field> section = root.find("topology");
  const Field field =
      section ? *section : Field(root.self().ctx(), YAML::Node(), YAML::Node(), "topology");
  const MapReader map = field.map(*scenario_schema().field("topology"));
  Sharing sharing = Sharing::kMaxMin;
  if (auto f = map.find("sharing")) {
    sharing = f->choice("sharing", {"maxmin", "rtt"}) == "rtt" ? Sharing::kRtt : Sharing::kMaxMin;
  }
  TopologyConfig topology;
  if (map.has("hosts")) {
    if (map.has("racks")) {
      map.get("racks").fail(
          "give either the racks shorthand or hosts, switches and links, "
          "not both");
    }
    topology = read_explicit(map, cluster);
  } else {
    for (const std::string_view key : {"switches", "links"}) {
      if (map.has(key)) {
        map.get(key).fail(
            "needs topology.hosts (or leave out switches and links and let the "
            "racks shorthand build the network)");
      }
    }
    const std::optional<Field> racks = map.find("racks");
    const Field racks_field =
        racks ? *racks : Field(field.ctx(), YAML::Node(), YAML::Node(), "topology.racks");
    topology = expand_racks(racks_field.map(*schema_at({"topology"}).field("racks")), cluster);
  }
  topology.sharing = sharing;
  return topology;
}

ReshardSection read_reshard(const MapReader& root, const ClusterConfig& cluster,
                            const TableConfig& table, const RunConfig& run) {
  ReshardSection out;
  const std::optional<Field> section = root.find("reshard");
  if (!section) return out;
  const MapReader map = section->map(*scenario_schema().field("reshard"));
  ReshardConfig& reshard = out.config.emplace();
  const Field at = map.require("at", "the simulated time the new shards join, e.g. 12h");
  reshard.at = at.duration(Duration::nanoseconds(1));
  if (reshard.at >= run.duration) {
    at.fail(fmt::format("expected a time before the run ends (run.duration is {}), got {}",
                        format_duration(run.duration), format_duration(reshard.at)));
  }
  reshard.add = read_new_shards(map, cluster);
  const size_t after = cluster.shards + reshard.add.size();
  const ShardingKind kind = cluster.sharding.kind;
  if (auto f = map.find("sharding")) {
    reshard.sharding = read_sharding(f->map(*schema_at({"reshard"}).field("sharding")), after,
                                     table, &out.sharding_lists);
  } else if (kind == ShardingKind::kRange || kind == ShardingKind::kList) {
    section->fail(fmt::format(
        "missing key 'sharding': with {} sharding, say which {} the {} shards hold after the "
        "reshard, e.g. sharding: {}",
        sharding_kind_name(kind), kind == ShardingKind::kRange ? "ranges" : "values", after,
        kind == ShardingKind::kRange ? "{kind: range, key: toYYYYMMDD(event_time), bounds: [...]}"
                                     : "{kind: list, key: province, lists: [...]}"));
  } else {
    reshard.sharding = cluster.sharding;
    reshard.sharding.shards = after;
    if (!reshard.sharding.weights.empty()) reshard.sharding.weights.resize(after, 1);
  }
  reshard.compare_key = read_compare_key(map, cluster, table);
  return out;
}

}  // namespace shardlab::scenarios::detail
