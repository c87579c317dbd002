// An inventory of servers that already exist (`shardlab live --hosts FILE`):
//
//   cluster: analytics        # the remote_servers cluster the ClickHouse servers define
//   database: shardlab_live   # live mode's own database (default shardlab_live)
//   nodes:
//     - {name: n0, host: 10.1.0.11, port: 8123, role: clickhouse}   # HTTP port
//     - {name: mc0, host: 10.1.0.21, port: 11211, role: memcached}
//     - {name: zk, host: 10.1.0.31, port: 2181, role: zookeeper}     # listed, not contacted
//
// Every cluster node of the scenario must be a clickhouse entry of the same name and every
// cache node a memcached entry. Live mode creates its database and works only inside it: it
// never drops or changes anything else on those servers.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "live/loopback_cluster.h"
#include "scenarios/scenario.h"

namespace shardlab::live {

struct InventoryNode {
  std::string name;
  std::string role;  // clickhouse | memcached | zookeeper
  Endpoint endpoint;
  std::string where;  // "FILE:LINE:COL" of its entry
};

struct Inventory {
  std::string cluster;
  std::string database = "shardlab_live";
  std::vector<InventoryNode> nodes;
  const InventoryNode* find(const std::string& name) const;
};

// Reads and checks the file against the scenario. Throws InputError with FILE:LINE:COL for an
// unknown role or key, a missing field, a port outside 1..65535, a host:port listed twice, a
// name listed twice, and a scenario node the inventory lacks (or lists under another role).
Inventory load_inventory(const std::filesystem::path& path, const scenarios::Scenario& s);
Inventory parse_inventory(const std::string& yaml, const std::string& source,
                          const scenarios::Scenario& s);

// Asks every clickhouse and memcached entry whether it answers; throws InputError naming each
// one that does not, with its place in the file and its address.
void check_reachable(const Inventory& inventory);

}  // namespace shardlab::live
