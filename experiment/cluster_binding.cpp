#include "experiment/cluster_binding.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>

#include "base/errors.h"

namespace shardlab::experiment {

namespace {

namespace cl = sim::cluster;

std::vector<std::vector<size_t>> node_indices(const std::vector<std::vector<std::string>>& names,
                                              const std::map<std::string, size_t>& index) {
  std::vector<std::vector<size_t>> out;
  for (const auto& replicas : names) {
    std::vector<size_t> nodes;
    for (const std::string& name : replicas) nodes.push_back(index.at(name));
    out.push_back(std::move(nodes));
  }
  return out;
}

sim::Sharing sharing(scenarios::Sharing sharing) {
  switch (sharing) {
    case scenarios::Sharing::kMaxMin:
      return sim::Sharing::kMaxMin;
    case scenarios::Sharing::kRtt:
      return sim::Sharing::kRtt;
  }
  throw std::logic_error("unknown scenarios::Sharing");
}

cl::DistributedSettings distributed_settings(const scenarios::Scenario& s) {
  const scenarios::DistributedSettings& d = s.cluster.settings;
  cl::DistributedSettings out;
  out.insert_mode = s.cluster.insert_mode;
  out.internal_replication = s.cluster.internal_replication;
  out.insert_quorum = s.cluster.insert_quorum;
  out.insert_quorum_timeout = d.insert_quorum_timeout;
  out.load_balancing = s.cluster.load_balancing;
  out.async_send_interval = d.directory_monitor_sleep_time;
  out.connect_timeout = d.connect_timeout_with_failover;
  out.connect_tries = static_cast<uint32_t>(d.connections_with_failover_max_tries);
  out.error_half_life = d.replica_error_half_life;
  out.skip_unavailable_shards = d.skip_unavailable_shards;
  out.max_replica_delay = d.max_replica_delay_for_distributed_queries;
  out.fallback_to_stale_replicas = d.fallback_to_stale_replicas;
  out.prefer_localhost_replica = d.prefer_localhost_replica;
  out.group_by_no_merge = d.distributed_group_by_no_merge;
  out.max_threads = d.max_threads;
  out.max_memory_usage = d.max_memory_usage;
  return out;
}

// The targets of one fault entry: a link, a partition, or one per named node.
std::vector<sim::FaultTarget> fault_targets(const scenarios::Scenario& s, const std::string& kind,
                                            const std::vector<std::string>& targets, double factor,
                                            uint64_t parts, cl::Cluster& cluster,
                                            sim::Network& network) {
  std::vector<sim::FaultTarget> out;
  if (kind == "link_down") {
    const auto a = network.find_node(targets.at(0));
    const auto b = network.find_node(targets.at(1));
    const auto link = a && b ? network.find_link(*a, *b) : std::nullopt;
    if (!link) {
      throw InputError(fmt::format("{}: no link between '{}' and '{}'", s.source, targets[0],
                                   targets[1]));
    }
    out.push_back(sim::link_failure(network, *link));
    return out;
  }
  if (kind == "partition") {
    std::vector<sim::HostId> inside;
    std::vector<sim::HostId> outside;
    for (const std::string& host : s.topology.hosts) {
      const auto id = network.find_host(host);
      if (!id) continue;
      const bool in = std::find(targets.begin(), targets.end(), host) != targets.end();
      (in ? inside : outside).push_back(*id);
    }
    std::string name;
    for (const std::string& t : targets) name += (name.empty() ? "" : ",") + t;
    out.push_back(sim::network_partition(network, inside, outside, name));
    return out;
  }
  for (const std::string& target : targets) {
    const size_t node = cluster.node_index(target);
    if (kind == "node_crash" || kind == "process_restart") {
      const auto crash = kind == "node_crash" ? cl::Cluster::CrashKind::kNodeLoss
                                              : cl::Cluster::CrashKind::kProcessRestart;
      out.push_back(sim::FaultTarget{target + (kind == "node_crash" ? "" : " process"),
                                     [&cluster, node, crash] { cluster.crash_node(node, crash); },
                                     [&cluster, node] { cluster.restart_node(node); }});
    } else if (kind == "slow_disk") {
      out.push_back(sim::slow_disk(cluster.node(node).disk(), target, factor));
    } else if (kind == "slow_node") {
      out.push_back(sim::slow_node(cluster.node(node).cpu(), target, factor));
    } else if (kind == "broken_part") {
      // An instant: the damage is found, and the repair is the cluster's own fetch.
      out.push_back(sim::FaultTarget{
          target + " parts", [&cluster, node, parts] { cluster.break_parts(node, parts); }, [] {}});
    } else {
      throw InputError(fmt::format("{}: fault kind '{}' is not supported", s.source, kind));
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<sim::Network> build_network(sim::Simulation& sim,
                                            const scenarios::Platform& platform) {
  auto network = std::make_unique<sim::Network>(sim, sharing(platform.sharing));
  for (const std::string& host : platform.hosts) network->add_host(host);
  for (const std::string& name : platform.switches) network->add_switch(name);
  for (const scenarios::TopologyLink& link : platform.links) {
    network->add_link(*network->find_node(link.a), *network->find_node(link.b),
                      link.bandwidth_bytes_per_s, link.latency);
  }
  network->seal();
  return network;
}

sim::NodeSpec node_spec(const scenarios::Scenario& s, const scenarios::NodeConfig& node) {
  const scenarios::NodeType& type = s.hardware.node_types.at(node.type);
  sim::NodeSpec spec;
  spec.name = node.name;
  spec.machine = node.machine;
  spec.cores = type.cores;
  spec.cpu_speed = type.cpu_speed;
  spec.memory_bytes = type.memory_bytes;
  spec.memory_bytes_per_s = type.memory_bytes_per_s;
  spec.disk.read_bytes_per_s = type.disk.read_bytes_per_s;
  spec.disk.write_bytes_per_s = type.disk.write_bytes_per_s;
  spec.disk.latency = type.disk.latency;
  spec.disk.iops = type.disk.iops;
  spec.page_cache_block_bytes = type.page_cache_block_bytes;
  return spec;
}

cl::ClusterSpec cluster_spec(const scenarios::Scenario& s, uint64_t seed,
                             const std::filesystem::path& data_dir) {
  cl::ClusterSpec spec;
  std::map<std::string, size_t> index;
  for (const scenarios::NodeConfig& node : s.cluster.nodes) {
    index[node.name] = spec.nodes.size();
    spec.nodes.push_back(node_spec(s, node));
  }
  spec.shards = s.cluster.shards;
  spec.replicas = s.cluster.replicas;
  spec.placement = node_indices(s.cluster.placement, index);
  if (s.reshard) spec.joining_placement = node_indices(s.reshard->add, index);
  spec.sharding = s.cluster.sharding;
  spec.ddl = s.table.ddl;
  spec.settings = distributed_settings(s);
  spec.coordinator_host =
      s.cluster.coordinator_node.empty() ? s.cluster.nodes.front().name : s.cluster.coordinator_node;
  spec.coordinator_op_latency = s.cluster.coordinator_latency;
  spec.data_dir = data_dir;
  spec.seed = seed;
  spec.epoch_s = s.workload.generator.start;
  spec.data_seconds_per_s = s.run.speed;
  return spec;
}

cl::IngestLoad ingest_load(const scenarios::Scenario& s, const cl::Cluster& cluster) {
  cl::IngestLoad ingest;
  ingest.generator = s.workload.generator;
  ingest.rows = s.workload.rows;
  ingest.batch_rows = s.workload.batch_rows;
  ingest.batch_interval = s.workload.batch_interval;
  for (const std::string& name : s.workload.initiators) {
    ingest.initiators.push_back(cluster.node_index(name));
  }
  return ingest;
}

std::vector<cl::QueryLoad> query_loads(const scenarios::Scenario& s,
                                       const std::vector<size_t>& initiators) {
  std::vector<cl::QueryLoad> queries;
  for (const scenarios::QueryTemplate& q : s.workload.queries) {
    cl::QueryLoad load;
    load.name = q.name;
    load.sql = q.sql;
    load.rate_per_s = q.rate_per_s;
    load.concurrency = static_cast<uint32_t>(q.concurrency);
    load.clients = static_cast<uint32_t>(q.clients);
    load.think_time = q.think_time;
    load.initiators = initiators;
    queries.push_back(std::move(load));
  }
  return queries;
}

void schedule_faults(const scenarios::Scenario& s, cl::Cluster& cluster, sim::Network& network,
                     sim::FaultInjector& faults, sim::Time end) {
  for (const scenarios::ScheduledFault& f : s.faults) {
    for (sim::FaultTarget& target :
         fault_targets(s, f.kind, f.targets, f.factor, f.parts, cluster, network)) {
      faults.outage(std::move(target), sim::Time::zero() + f.at, f.duration);
    }
  }
  for (const scenarios::RandomFault& f : s.random_faults) {
    for (sim::FaultTarget& target :
         fault_targets(s, f.kind, f.targets, f.factor, /*parts=*/1, cluster, network)) {
      faults.random_outages(std::move(target), f.mtbf, f.mttr, end);
    }
  }
}

}  // namespace shardlab::experiment
