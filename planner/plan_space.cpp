#include "planner/plan_space.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/errors.h"
#include "shardlab/engine/date_time.h"

namespace shardlab::planner {

namespace {

// The file-system-safe form of a label: letters, digits, '.', '_' and '-' kept, runs of
// anything else one '_'.
std::string safe_name(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-';
    if (plain) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

std::string node_name(uint64_t i) { return fmt::format("p{:02}", i + 1); }

// A number as the scenario's units take it: fixed notation (no exponent), trailing zeros dropped.
std::string number(double value) {
  std::string text = fmt::format("{:.9f}", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

}  // namespace

std::vector<Candidate> enumerate_candidates(const scenarios::Scenario& s) {
  SHARDLAB_ASSERT(s.plan.has_value(), "scenario '{}' has no plan section", s.name);
  const scenarios::PlanConfig& plan = *s.plan;
  const std::vector<std::string> shardings =
      plan.sharding.empty() ? std::vector<std::string>{""} : plan.sharding;
  const std::vector<std::string> modes =
      plan.insert_modes.empty() ? std::vector<std::string>{""} : plan.insert_modes;
  std::vector<Candidate> out;
  for (const scenarios::PlanNodeType& type : plan.node_types) {
    for (const uint64_t nodes : plan.nodes) {
      for (const uint64_t shards : plan.shards) {
        for (const uint64_t replicas : plan.replicas) {
          if (replicas > nodes || shards * replicas < nodes) continue;
          for (const std::string& sharding : shardings) {
            for (const std::string& mode : modes) {
              Candidate c;
              c.node_type = type.name;
              c.nodes = nodes;
              c.shards = shards;
              c.replicas = replicas;
              c.sharding = sharding;
              c.insert_mode = mode;
              c.cost_per_hour = type.price_per_hour * static_cast<double>(nodes);
              c.label = fmt::format("{} x {}, {} shards x {}", nodes, type.name, shards, replicas);
              if (shardings.size() > 1) c.label += ", " + sharding;
              if (modes.size() > 1) c.label += ", " + mode;
              out.push_back(std::move(c));
            }
          }
        }
      }
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& b) {
    if (a.cost_per_hour != b.cost_per_hour) return a.cost_per_hour < b.cost_per_hour;
    if (a.shards != b.shards) return a.shards < b.shards;
    return a.replicas < b.replicas;
  });
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].index = i;
    out[i].dir = fmt::format("{:03}-{}", i + 1, safe_name(out[i].label));
  }
  return out;
}

std::vector<std::string> candidate_overrides(const scenarios::Scenario& s, const Candidate& c) {
  // The racks the scenario's nodes use, in first-use order: the candidate's nodes take them in
  // turn, so consecutive nodes (a shard's replicas) sit in different racks.
  std::vector<std::string> racks;
  for (const scenarios::NodeConfig& node : s.cluster.nodes) {
    if (std::find(racks.begin(), racks.end(), node.rack) == racks.end()) racks.push_back(node.rack);
  }
  std::string nodes = "[";
  for (uint64_t i = 0; i < c.nodes; ++i) {
    if (i > 0) nodes += ", ";
    nodes += fmt::format("{{name: {}, type: {}, rack: {}}}", node_name(i), c.node_type,
                         racks[i % racks.size()]);
  }
  nodes += "]";
  std::string placement = "[";
  for (uint64_t shard = 0; shard < c.shards; ++shard) {
    if (shard > 0) placement += ", ";
    placement += "[";
    for (uint64_t r = 0; r < c.replicas; ++r) {
      if (r > 0) placement += ", ";
      placement += node_name((shard * c.replicas + r) % c.nodes);
    }
    placement += "]";
  }
  placement += "]";
  std::vector<std::string> out = {
      "cluster.nodes=" + nodes,
      fmt::format("cluster.shards={}", c.shards),
      fmt::format("cluster.replicas={}", c.replicas),
      "cluster.placement=" + placement,
      "faults=[]",
      "random_faults=[]",
  };
  if (!c.sharding.empty()) out.push_back("cluster.sharding=" + c.sharding);
  if (!c.insert_mode.empty()) out.push_back("cluster.insert_mode=" + c.insert_mode);
  if (!s.workload.initiators.empty()) {
    std::string all = "[";
    for (uint64_t i = 0; i < c.nodes; ++i) all += (i > 0 ? ", " : "") + node_name(i);
    out.push_back("workload.initiators=" + all + "]");
  }
  return out;
}

std::vector<std::string> scale_overrides(const scenarios::Scenario& s, double scale) {
  SHARDLAB_ASSERT(scale > 0 && scale <= 1, "scale {} outside (0, 1]", scale);
  if (scale == 1) return {};
  if (!s.topology.from_racks && !s.topology.links.empty()) {
    throw InputError(fmt::format(
        "{}: plan: the topology lists links between named hosts, which other clusters do not "
        "have; describe the network with topology.racks (or leave it out) to plan over it",
        s.source));
  }
  const scenarios::WorkloadConfig& w = s.workload;
  std::vector<std::string> out = {
      fmt::format("workload.rows={}", std::max<uint64_t>(1, std::llround(static_cast<double>(w.rows) * scale))),
      fmt::format("workload.batch_rows={}",
                  std::max<uint64_t>(1, std::llround(static_cast<double>(w.batch_rows) * scale))),
  };
  // A peak given as a ratio to the mean follows the rows by itself.
  if (!w.peak_as_ratio) out.push_back("workload.peak_rows_per_s=" + number(w.peak_rows_per_s * scale));
  for (const auto& [name, type] : s.hardware.node_types) {
    const std::string at = "hardware.node_types." + name + ".";
    out.push_back(at + "cpu_speed=" + number(type.cpu_speed * scale));
    out.push_back(at + "memory=" +
                  std::to_string(std::max<uint64_t>(
                      uint64_t{1} << 20, std::llround(static_cast<double>(type.memory_bytes) * scale))) +
                  "B");
    out.push_back(at + "memory_bandwidth=" + number(type.memory_bytes_per_s * scale) + "B/s");
    out.push_back(at + "disk.read_bandwidth=" + number(type.disk.read_bytes_per_s * scale) + "B/s");
    out.push_back(at + "disk.write_bandwidth=" + number(type.disk.write_bytes_per_s * scale) +
                  "B/s");
    if (type.disk.iops > 0) out.push_back(at + "disk.iops=" + number(type.disk.iops * scale));
  }
  if (s.topology.from_racks) {
    // The racks shorthand's links all have one of two specs: the host links and the uplinks.
    double host = 0;
    double uplink = 0;
    const std::string spine(scenarios::kSpineSwitch);
    for (const scenarios::TopologyLink& link : s.topology.links) {
      const bool up = link.a == spine || link.b == spine;
      (up ? uplink : host) = link.bandwidth_bytes_per_s;
    }
    if (host > 0) out.push_back("topology.racks.host_link.bandwidth=" + number(host * scale) + "B/s");
    if (uplink > 0) {
      out.push_back("topology.racks.uplink.bandwidth=" + number(uplink * scale) + "B/s");
    }
  }
  return out;
}

PeakWindow peak_window(const scenarios::Scenario& s, Duration window) {
  const Duration peak = first_peak(s);
  if (window <= Duration() || window >= s.run.duration) {
    return {{}, peak < s.run.duration ? peak : Duration::nanoseconds(s.run.duration.ns() / 2)};
  }
  const Duration half = Duration::nanoseconds(window.ns() / 2);
  const Duration shift = peak > half ? peak - half : Duration();
  PeakWindow out;
  out.peak = peak - shift;
  const int64_t start = s.workload.generator.start + shift.ns() / 1'000'000'000;
  out.overrides = {
      "workload.start='" + dt::date_time_to_string(start) + "'",
      "run.duration=" + scenarios::format_duration(window),
  };
  if (shift > Duration()) {
    out.overrides.push_back(fmt::format("workload.history_days={}", s.workload.history_days + 1));
  }
  return out;
}

std::string crash_override(const std::string& node, Duration at, Duration duration) {
  return fmt::format("faults=[{{kind: node_crash, at: {}, targets: [{}], duration: {}}}]",
                     scenarios::format_duration(at), node, scenarios::format_duration(duration));
}

Duration first_peak(const scenarios::Scenario& s) {
  const workloads::GeneratorConfig& g = s.workload.generator;
  constexpr int64_t kDay = 86400;
  const int64_t peak_utc = static_cast<int64_t>(std::llround((21.0 - g.utc_offset_hours) * 3600));
  const int64_t start_of_day = ((g.start % kDay) + kDay) % kDay;
  const int64_t offset = (((peak_utc - start_of_day) % kDay) + kDay) % kDay;
  return Duration::seconds(offset);
}

}  // namespace shardlab::planner
