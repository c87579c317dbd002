// The `plan` section: the capacity planner's space, objective and constraints.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "base/errors.h"
#include "scenarios/scenario_sections.h"

namespace shardlab::scenarios::detail {

namespace {

const SchemaNode& plan_schema() { return *scenario_schema().field("plan"); }

// A list of whole numbers in [min, max], or {min, max, step}: ascending, without repeats.
std::vector<uint64_t> read_counts(const MapReader& plan, std::string_view key, uint64_t min,
                                  uint64_t max) {
  const Field field = plan.require(key, "a list of counts, or {min, max, step}");
  std::vector<uint64_t> out;
  if (field.node().IsMap()) {
    static const SchemaNode range = [] {
      SchemaNode node;
      node.kind = SchemaNode::Kind::kMap;
      static const SchemaNode value;
      node.fields = {{"min", &value}, {"max", &value}, {"step", &value}};
      return node;
    }();
    const MapReader r = field.map(range);
    const uint64_t lo = r.require("min", "the smallest count").count(min, max);
    const uint64_t hi = r.require("max", "the largest count").count(min, max);
    const uint64_t step = r.has("step") ? r.get("step").count(1, max) : 1;
    if (hi < lo) field.fail(fmt::format("is an empty range: max {} is below min {}", hi, lo));
    for (uint64_t n = lo; n <= hi; n += step) out.push_back(n);
  } else {
    for (const Field& item : field.list_or_scalar("a list of counts, or {min, max, step}")) {
      const uint64_t n = item.count(min, max);
      if (std::find(out.begin(), out.end(), n) != out.end()) {
        item.fail(fmt::format("{} is listed twice", n));
      }
      out.push_back(n);
    }
    std::sort(out.begin(), out.end());
  }
  if (out.empty()) field.fail("is empty: expected at least one count");
  return out;
}

std::vector<PlanNodeType> read_node_types(const MapReader& plan, const HardwareConfig& hardware) {
  const Field types = plan.require("node_types", "the node types to consider, each with a price");
  std::vector<std::string> known;
  for (const auto& [name, spec] : hardware.node_types) known.push_back(name);
  std::vector<PlanNodeType> out;
  for (const auto& [key, value] : named_entries(types, "node type")) {
    const Field name_field(types.ctx(), key, key, value.path());
    PlanNodeType type;
    type.name = name_field.choice("node type of hardware.node_types", known);
    const MapReader map = value.map(*plan_schema().field("node_types")->element);
    type.price_per_hour =
        map.require("price_per_hour", "the price of one node per hour, e.g. 1.25")
            .number(0, 1e9, /*min_exclusive=*/true);
    if (auto f = map.find("disk_capacity")) type.disk_capacity = f->bytes(uint64_t{1} << 20);
    out.push_back(std::move(type));
  }
  if (out.empty()) types.fail("is empty: expected at least one node type with its price");
  return out;
}

std::vector<std::string> read_sharding(const Field& field) {
  std::vector<std::string> out;
  for (const Field& item : field.list("a list of sharding choices {kind, key, ...}")) {
    if (!item.node().IsMap()) item.fail("expected a sharding mapping such as {kind: hash, key: cityHash64(user_id)}");
    item.map(*scenario_schema().field("cluster")->field("sharding"));  // its keys; the rest per candidate
    YAML::Emitter flow;
    flow << YAML::Flow << item.node();
    out.emplace_back(flow.c_str());
  }
  if (out.empty()) field.fail("is empty: expected at least one sharding choice");
  return out;
}

PlanConstraints read_constraints(const MapReader& plan, const WorkloadConfig& workload,
                                 const std::vector<PlanNodeType>& types) {
  PlanConstraints c;
  std::vector<std::string> templates;
  for (const QueryTemplate& q : workload.queries) templates.push_back(q.name);
  const std::optional<Field> section = plan.find("constraints");
  std::optional<MapReader> map;
  if (section) map.emplace(section->map(*plan_schema().field("constraints")));
  if (map && map->has("latency")) {
    const Field latency = map->get("latency");
    for (const auto& [key, value] : named_entries(latency, "query template")) {
      const Field name_field(latency.ctx(), key, key, value.path());
      const std::string name = name_field.choice("query template", templates);
      c.latency.emplace_back(name, value.duration(Duration::nanoseconds(1)).seconds());
    }
    if (c.latency.empty()) latency.fail("is empty: expected template: target pairs");
  } else {
    for (const QueryTemplate& q : workload.queries) {
      if (q.target_latency_s > 0) c.latency.emplace_back(q.name, q.target_latency_s);
    }
  }
  if (!map) return c;
  if (auto f = map->find("ingest_keeps_up")) c.ingest_keeps_up = f->boolean();
  if (auto f = map->find("survive_node_loss")) c.survive_node_loss = f->boolean();
  if (auto f = map->find("disk_fill")) {
    const MapReader fill = f->map(*plan_schema().field("constraints")->field("disk_fill"));
    c.disk_fill = fill.require("max", "the largest share of a disk used, in (0, 1]")
                      .number(0, 1, /*min_exclusive=*/true);
    c.retention = fill.require("retention", "the retention horizon (the table's TTL), e.g. 8760h")
                      .duration(Duration::seconds(3600));
    for (const PlanNodeType& type : types) {
      if (type.disk_capacity == 0) {
        f->fail(fmt::format("needs a disk_capacity for node type '{}' under plan.node_types",
                            type.name));
      }
    }
  }
  if (auto f = map->find("replica_lag")) c.replica_lag = f->duration(Duration::milliseconds(1));
  if (auto f = map->find("confidence")) c.confidence = f->number(0.5, 0.999);
  return c;
}

}  // namespace

std::optional<PlanConfig> read_plan(const MapReader& root, const HardwareConfig& hardware,
                                    const WorkloadConfig& workload) {
  const std::optional<Field> section = root.find("plan");
  if (!section) return std::nullopt;
  const MapReader map = section->map(plan_schema());
  PlanConfig plan;
  plan.node_types = read_node_types(map, hardware);
  plan.nodes = read_counts(map, "nodes", 1, 1000);
  plan.shards = read_counts(map, "shards", 1, 1000);
  plan.replicas = read_counts(map, "replicas", 1, 16);
  if (auto f = map.find("sharding")) plan.sharding = read_sharding(*f);
  if (auto f = map.find("insert_mode")) {
    for (const Field& item : f->list_or_scalar("a list of insert modes (async, sync)")) {
      const std::string mode = item.choice("insert mode", {"async", "sync"});
      if (std::find(plan.insert_modes.begin(), plan.insert_modes.end(), mode) !=
          plan.insert_modes.end()) {
        item.fail(fmt::format("'{}' is listed twice", mode));
      }
      plan.insert_modes.push_back(mode);
    }
    if (plan.insert_modes.empty()) f->fail("is empty: expected at least one insert mode");
  }
  if (auto f = map.find("objective")) f->choice("objective", {"cost"});
  plan.constraints = read_constraints(map, workload, plan.node_types);
  if (auto f = map.find("scale")) plan.scale = f->number(0, 1, /*min_exclusive=*/true);
  if (auto f = map.find("fit_scales")) {
    for (const Field& item : f->list_or_scalar("a list of scales below plan.scale")) {
      const double scale = item.number(0, 1, /*min_exclusive=*/true);
      if (scale >= plan.scale) {
        item.fail(fmt::format("{} is not below plan.scale ({})", scale, plan.scale));
      }
      plan.fit_scales.push_back(scale);
    }
  } else {
    plan.fit_scales = {plan.scale / 4, plan.scale / 2};
  }
  if (auto f = map.find("replications")) plan.replications = static_cast<int>(f->count(1, 100));
  if (auto f = map.find("max_simulated")) plan.max_simulated = static_cast<int>(f->count(1, 10000));
  if (auto f = map.find("screen_slack")) plan.screen_slack = f->number(1, 100);
  if (auto f = map.find("crash_duration")) plan.crash_duration = f->duration(Duration::seconds(1));
  if (auto f = map.find("window")) plan.window = f->duration(Duration(), Duration::seconds(86400));
  return plan;
}

}  // namespace shardlab::scenarios::detail
