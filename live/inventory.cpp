#include "live/inventory.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "base/errors.h"
#include "live/clickhouse_client.h"
#include "live/text_protocol.h"

namespace shardlab::live {

namespace {

constexpr const char* kRoles[] = {"clickhouse", "memcached", "zookeeper"};

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}
  std::string where(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    return fmt::format("{}:{}:{}", source_, mark.line + 1, mark.column + 1);
  }
  [[noreturn]] void fail(const YAML::Node& node, const std::string& what) const {
    throw InputError(fmt::format("{}: {}", where(node), what));
  }
  std::string text(const YAML::Node& map, const char* key, const std::string& what) const {
    const YAML::Node value = map[key];
    if (!value) fail(map, fmt::format("missing '{}' ({})", key, what));
    if (!value.IsScalar() || value.Scalar().empty()) {
      fail(value, fmt::format("'{}': expected {}", key, what));
    }
    return value.Scalar();
  }
  void only_keys(const YAML::Node& map, std::initializer_list<const char*> keys) const {
    for (const auto& entry : map) {
      const std::string key = entry.first.Scalar();
      bool known = false;
      for (const char* k : keys) known = known || key == k;
      if (!known) {
        std::string list;
        for (const char* k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
        fail(entry.first, fmt::format("unknown key '{}' (expected one of: {})", key, list));
      }
    }
  }

 private:
  std::string source_;
};

InventoryNode read_node(const Reader& r, const YAML::Node& item) {
  if (!item.IsMap()) r.fail(item, "expected a node {name, host, port, role}");
  r.only_keys(item, {"name", "host", "port", "role"});
  InventoryNode node;
  node.where = r.where(item);
  node.name = r.text(item, "name", "a node name");
  node.endpoint.host = r.text(item, "host", "a host name or address");
  const std::string port = r.text(item, "port", "a port number");
  const YAML::Node port_node = item["port"];
  char* end = nullptr;
  const long value = std::strtol(port.c_str(), &end, 10);
  if (*end != '\0' || value < 1 || value > 65535) {
    r.fail(port_node, fmt::format("'port': expected a port number in 1..65535, got '{}'", port));
  }
  node.endpoint.port = static_cast<uint16_t>(value);
  node.role = r.text(item, "role", "clickhouse, memcached or zookeeper");
  bool known = false;
  for (const char* role : kRoles) known = known || node.role == role;
  if (!known) {
    r.fail(item["role"], fmt::format("unknown role '{}' (expected clickhouse, memcached or "
                                     "zookeeper)",
                                     node.role));
  }
  return node;
}

void require(const Inventory& inventory, const std::string& nodes_where, const std::string& name,
             const std::string& role, const std::string& why) {
  const InventoryNode* node = inventory.find(name);
  if (node == nullptr) {
    throw InputError(
        fmt::format("{}: the scenario's {} '{}' is not in the inventory (give it "
                    "a {} entry)",
                    nodes_where, why, name, role));
  }
  if (node->role != role) {
    throw InputError(fmt::format("{}: '{}' is the scenario's {}, so its role must be {}, not {}",
                                 node->where, name, why, role, node->role));
  }
}

}  // namespace

const InventoryNode* Inventory::find(const std::string& name) const {
  for (const InventoryNode& node : nodes) {
    if (node.name == name) return &node;
  }
  return nullptr;
}

Inventory parse_inventory(const std::string& yaml, const std::string& source,
                          const scenarios::Scenario& s) {
  const Reader r(source);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}:{}: not valid YAML: {}", source, e.mark.line + 1,
                                 e.mark.column + 1, e.msg));
  }
  if (!root.IsMap())
    throw InputError(
        fmt::format("{}:1:1: expected a mapping with cluster, database and nodes", source));
  r.only_keys(root, {"cluster", "database", "nodes"});
  Inventory inventory;
  inventory.cluster =
      r.text(root, "cluster", "the name of the cluster in the servers' remote_servers");
  if (root["database"]) inventory.database = r.text(root, "database", "a database name");
  // Both go into SQL statements as identifiers.
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string&>{"cluster", inventory.cluster},
        {"database", inventory.database}}) {
    for (const char c : value) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
        r.fail(root[key],
               fmt::format("'{}': expected letters, digits and _, got '{}'", key, value));
      }
    }
  }
  const YAML::Node nodes = root["nodes"];
  if (!nodes) r.fail(root, "missing 'nodes' (a list of {name, host, port, role})");
  if (!nodes.IsSequence() || nodes.size() == 0) r.fail(nodes, "'nodes': expected a non-empty list");
  std::map<std::string, std::string> names;
  std::map<std::string, std::string> addresses;
  for (const YAML::Node& item : nodes) {
    InventoryNode node = read_node(r, item);
    if (const auto [it, fresh] = names.emplace(node.name, node.where); !fresh) {
      r.fail(item, fmt::format("node '{}' is listed twice (first at {})", node.name, it->second));
    }
    if (const auto [it, fresh] = addresses.emplace(node.endpoint.address(), node.where); !fresh) {
      r.fail(item["port"], fmt::format("{} is listed twice (first at {}): every server needs a "
                                       "port of its own",
                                       node.endpoint.address(), it->second));
    }
    inventory.nodes.push_back(std::move(node));
  }
  for (const scenarios::NodeConfig& node : s.cluster.nodes) {
    require(inventory, r.where(nodes), node.name, "clickhouse", "cluster node");
  }
  if (s.cache) {
    for (const std::string& name : s.cache->nodes) {
      require(inventory, r.where(nodes), name, "memcached", "cache node");
    }
  }
  return inventory;
}

Inventory load_inventory(const std::filesystem::path& path, const scenarios::Scenario& s) {
  std::ifstream file(path);
  if (!file) throw InputError(fmt::format("cannot read the inventory '{}'", path.string()));
  std::ostringstream text;
  text << file.rdbuf();
  return parse_inventory(text.str(), path.string(), s);
}

void check_reachable(const Inventory& inventory) {
  std::string failures;
  for (const InventoryNode& node : inventory.nodes) {
    bool ok = true;
    if (node.role == "clickhouse") {
      ClickHouseClient client(node.endpoint, std::chrono::milliseconds(3000));
      ok = client.ping();
    } else if (node.role == "memcached") {
      ok = memcached_answers(node.endpoint);
    }
    if (!ok) {
      failures += fmt::format("\n{}: {} '{}' at {} does not answer", node.where, node.role,
                              node.name, node.endpoint.address());
    }
  }
  if (!failures.empty()) throw InputError("unreachable servers:" + failures);
}

}  // namespace shardlab::live
