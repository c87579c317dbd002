#include "scenarios/scenario_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <initializer_list>

namespace shardlab::scenarios {

namespace {

using Kind = SchemaNode::Kind;

// Owns the nodes of the schema tree; a deque keeps their addresses stable while it grows.
class SchemaBuilder {
 public:
  const SchemaNode* value() { return &nodes_.emplace_back(); }
  const SchemaNode* map(std::initializer_list<std::pair<const char*, const SchemaNode*>> fields) {
    SchemaNode& node = nodes_.emplace_back();
    node.kind = Kind::kMap;
    for (const auto& [key, schema] : fields) node.fields.emplace_back(key, schema);
    return &node;
  }
  const SchemaNode* named_map(const SchemaNode* element) {
    SchemaNode& node = nodes_.emplace_back();
    node.kind = Kind::kNamedMap;
    node.element = element;
    return &node;
  }
  const SchemaNode* list(const SchemaNode* element, bool named = false) {
    SchemaNode& node = nodes_.emplace_back();
    node.kind = Kind::kList;
    node.element = element;
    node.named = named;
    return &node;
  }

  const SchemaNode* build();

 private:
  std::deque<SchemaNode> nodes_;
};

// One function on purpose: a declarative table of the schema that reads like a scenario file.
const SchemaNode* SchemaBuilder::build() {
  const SchemaNode* v = value();
  const SchemaNode* names = list(v);

  const SchemaNode* disk =
      map({{"read_bandwidth", v}, {"write_bandwidth", v}, {"latency", v}, {"iops", v}});
  const SchemaNode* node_type = map({{"cores", v},
                                     {"cpu_speed", v},
                                     {"memory", v},
                                     {"memory_bandwidth", v},
                                     {"page_cache_block", v},
                                     {"disk", disk}});
  const SchemaNode* hardware = map({{"node_types", named_map(node_type)}, {"calibration", v}});

  const SchemaNode* link = map({{"a", v}, {"b", v}, {"bandwidth", v}, {"latency", v}});
  const SchemaNode* link_spec = map({{"bandwidth", v}, {"latency", v}});
  const SchemaNode* topology =
      map({{"sharing", v},
           {"hosts", names},
           {"switches", names},
           {"links", list(link)},
           {"racks", map({{"host_link", link_spec}, {"uplink", link_spec}})}});

  const SchemaNode* sharding = map({{"kind", v},
                                    {"key", v},
                                    {"weights", list(v)},
                                    {"bounds", list(v)},
                                    {"lists", list(names)},
                                    {"default_shard", v}});
  const SchemaNode* settings = map({{"distributed_directory_monitor_sleep_time", v},
                                    {"connect_timeout_with_failover", v},
                                    {"connections_with_failover_max_tries", v},
                                    {"distributed_replica_error_half_life", v},
                                    {"skip_unavailable_shards", v},
                                    {"max_replica_delay_for_distributed_queries", v},
                                    {"fallback_to_stale_replicas_for_distributed_queries", v},
                                    {"prefer_localhost_replica", v},
                                    {"distributed_group_by_no_merge", v},
                                    {"insert_quorum_timeout", v},
                                    {"max_threads", v},
                                    {"max_memory_usage", v}});
  const SchemaNode* cluster =
      map({{"nodes", list(map({{"name", v}, {"type", v}, {"rack", v}, {"machine", v}}), /*named=*/true)},
           {"shards", v},
           {"replicas", v},
           {"placement", list(names)},
           {"sharding", sharding},
           {"insert_mode", v},
           {"internal_replication", v},
           {"insert_quorum", v},
           {"load_balancing", v},
           {"coordinator", map({{"node", v}, {"latency", v}})},
           {"settings", settings}});

  const SchemaNode* table = map({{"ddl", v}});

  const SchemaNode* query = map({{"name", v},
                                 {"sql", v},
                                 {"rate_per_s", v},
                                 {"clients", v},
                                 {"concurrency", v},
                                 {"think_time", v},
                                 {"target_latency", v}});
  const SchemaNode* workload =
      map({{"rows", v},
           {"days", v},
           {"history_days", v},
           {"start", v},
           {"peak_rows_per_s", v},
           {"peak_to_mean", v},
           {"batch_rows", v},
           {"batch_interval", v},
           {"initiators", names},
           {"seed", v},
           {"users", v},
           {"items", v},
           {"user_zipf_exponent", v},
           {"item_zipf_exponent", v},
           {"action_mix", map({{"click", v}, {"fav", v}, {"cart", v}, {"buy", v}})},
           {"female_ratio", v},
           {"utc_offset_hours", v},
           {"queries", list(query, /*named=*/true)}});

  const SchemaNode* fault =
      map({{"at", v}, {"kind", v}, {"targets", names}, {"duration", v}, {"factor", v}, {"parts", v}});
  const SchemaNode* random_fault =
      map({{"kind", v}, {"targets", names}, {"mtbf", v}, {"mttr", v}, {"factor", v}});
  const SchemaNode* run = map({{"duration", v},
                               {"warmup", v},
                               {"seed", v},
                               {"replications", v},
                               {"out_dir", v},
                               {"outputs", names},
                               {"trace_max_slices", v},
                               {"speed", v}});
  const SchemaNode* variant = map({{"name", v}, {"description", v}, {"set", v}, {"smoke", v}});
  const SchemaNode* reshard =
      map({{"at", v}, {"add", list(names)}, {"sharding", sharding}, {"compare_key", v}});

  const SchemaNode* change = map({{"mode", v},
                                  {"delivery", v},
                                  {"log_host", v},
                                  {"partitions", v},
                                  {"batch_interval", v},
                                  {"lag", v}});
  const SchemaNode* cache_crash = map({{"at", v}, {"node", v}, {"duration", v}});
  const SchemaNode* partition = map({{"by", v}, {"lists", list(names)}, {"bounds", list(v)}});
  const SchemaNode* cache = map({{"enabled", v},
                                 {"nodes", names},
                                 {"memory", v},
                                 {"growth_factor", v},
                                 {"min_chunk", v},
                                 {"item_max", v},
                                 {"slab_automove", v},
                                 {"threads", v},
                                 {"distribution", v},
                                 {"partition", partition},
                                 {"op_cpu", v},
                                 {"connect_timeout", v},
                                 {"gutter", names},
                                 {"gutter_ttl", v},
                                 {"templates", names},
                                 {"strategy", v},
                                 {"ttl", v},
                                 {"refresh_interval", v},
                                 {"refresh_keys", v},
                                 {"access_window", v},
                                 {"change", change},
                                 {"leases", v},
                                 {"lease_stale", v},
                                 {"clock_bucket", v},
                                 {"lease_retry", v},
                                 {"crashes", list(cache_crash)}});

  const SchemaNode* plan_type = map({{"price_per_hour", v}, {"disk_capacity", v}});
  const SchemaNode* constraints = map({{"latency", v},
                                       {"ingest_keeps_up", v},
                                       {"survive_node_loss", v},
                                       {"disk_fill", map({{"max", v}, {"retention", v}})},
                                       {"replica_lag", v},
                                       {"confidence", v}});
  const SchemaNode* plan = map({{"node_types", named_map(plan_type)},
                                {"nodes", v},
                                {"shards", v},
                                {"replicas", v},
                                {"sharding", v},
                                {"insert_mode", v},
                                {"objective", v},
                                {"constraints", constraints},
                                {"scale", v},
                                {"fit_scales", v},
                                {"replications", v},
                                {"max_simulated", v},
                                {"screen_slack", v},
                                {"crash_duration", v},
                                {"window", v}});

  return map({{"name", v},
              {"hardware", hardware},
              {"topology", topology},
              {"cluster", cluster},
              {"table", table},
              {"workload", workload},
              {"faults", list(fault)},
              {"random_faults", list(random_fault)},
              {"run", run},
              {"reshard", reshard},
              {"cache", cache},
              {"plan", plan},
              {"smoke", v},
              {"variants", list(variant, /*named=*/true)}});
}

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
// transpositions each cost 1.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t a_idx = 0; a_idx <= a.size(); ++a_idx) d[a_idx][0] = a_idx;
  for (size_t b_idx = 0; b_idx <= b.size(); ++b_idx) d[0][b_idx] = b_idx;
  for (size_t a_idx = 1; a_idx <= a.size(); ++a_idx) {
    for (size_t b_idx = 1; b_idx <= b.size(); ++b_idx) {
      const size_t cost = a[a_idx - 1] == b[b_idx - 1] ? 0 : 1;
      d[a_idx][b_idx] = std::min(
          {d[a_idx - 1][b_idx] + 1, d[a_idx][b_idx - 1] + 1, d[a_idx - 1][b_idx - 1] + cost});
      if (a_idx > 1 && b_idx > 1 && a[a_idx - 1] == b[b_idx - 2] && a[a_idx - 2] == b[b_idx - 1]) {
        d[a_idx][b_idx] = std::min(d[a_idx][b_idx], d[a_idx - 2][b_idx - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

const SchemaNode* SchemaNode::field(std::string_view key) const {
  for (const auto& [name, schema] : fields) {
    if (name == key) return schema;
  }
  return nullptr;
}

std::string SchemaNode::key_list() const {
  std::string out;
  for (const auto& [name, schema] : fields) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

const SchemaNode& scenario_schema() {
  static SchemaBuilder* const builder = new SchemaBuilder();  // never destroyed: used at exit
  static const SchemaNode* const root = builder->build();
  return *root;
}

std::string closest_word(std::string_view word, const std::vector<std::string>& candidates) {
  // A third of the word's length tolerates one typo in a short key and two or three in a long
  // setting name, without suggesting unrelated words; below three characters (node names such
  // as n7) one edit is as likely a different name as a typo, so nothing is suggested.
  const size_t limit = word.size() / 3;
  if (limit == 0) return {};
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string unknown_key_advice(std::string_view path, std::string_view key) {
  if (path == "cluster.settings") {
    static const std::pair<std::string_view, std::string_view> kElsewhere[] = {
        {"insert_distributed_sync", "write cluster.insert_mode: sync (or async)"},
        {"distributed_foreground_insert", "write cluster.insert_mode: sync (or async)"},
        {"load_balancing", "it is cluster.load_balancing"},
        {"insert_quorum", "it is cluster.insert_quorum"},
        {"internal_replication", "it is cluster.internal_replication"},
        {"parts_to_delay_insert", "it is a MergeTree setting: put it in the SETTINGS of table.ddl"},
        {"parts_to_throw_insert", "it is a MergeTree setting: put it in the SETTINGS of table.ddl"},
    };
    for (const auto& [name, advice] : kElsewhere) {
      if (key == name) return std::string(advice);
    }
    // ClickHouse spells these with a unit suffix; here durations carry their unit in the value.
    for (const std::string_view suffix : {"_ms", "_sec", "_seconds", "_s"}) {
      if (key.size() > suffix.size() && key.ends_with(suffix)) {
        const std::string_view stem = key.substr(0, key.size() - suffix.size());
        const SchemaNode* cluster = scenario_schema().field("cluster");
        if (cluster->field("settings")->field(stem) != nullptr) {
          return fmt::format("write '{}' with a unit in the value, e.g. {}: 50ms", stem, stem);
        }
      }
    }
  }
  if (path == "run" && key == "replication") return "the key is 'replications'";
  if (path == "cluster" && (key == "insert_distributed_sync" || key == "sync")) {
    return "write cluster.insert_mode: sync (or async)";
  }
  return {};
}

std::string unknown_key_message(std::string_view path, std::string_view key,
                                const SchemaNode& schema) {
  std::string message = path.empty() ? fmt::format("unknown top-level key '{}'", key)
                                     : fmt::format("unknown key '{}' under '{}'", key, path);
  std::vector<std::string> keys;
  for (const auto& [name, field] : schema.fields) keys.push_back(name);
  message += fmt::format(" (expected one of: {})", schema.key_list());
  const std::string advice = unknown_key_advice(path, key);
  if (!advice.empty()) {
    message += "; " + advice;
  } else if (const std::string suggestion = closest_word(key, keys); !suggestion.empty()) {
    message += fmt::format("; did you mean '{}'?", suggestion);
  }
  return message;
}

}  // namespace shardlab::scenarios
