// The servers of a live run on loopback: one standalone ZooKeeper (when the cluster replicates),
// one clickhouse-server 18.16 per scenario node and one memcached per cache node, each on private
// ports found free on 127.0.0.1, with its own directories under a root the caller names:
//
//   ROOT/zookeeper/{zoo.cfg,data/,log/}
//   ROOT/clickhouse/NODE/{config.xml,users.xml,data/,tmp/,log/}
//   ROOT/memcached/NODE/log/
//
// Guarantees:
//  * Nothing listens beyond 127.0.0.1.
//  * Every server is started by this class and stopped by the PID it started, in the destructor
//    and on stop_all(), also when the constructor fails half-way. The children die with this
//    process too (PR_SET_PDEATHSIG), so a `kill -9` of shardlab leaves no server behind.
//  * Processes are spawned by one thread of this class's own that lives as long as the object,
//    because PR_SET_PDEATHSIG fires when the spawning *thread* ends: start() may be called from
//    any thread.
//  * A server that does not become ready within its bound is an error naming the server, its
//    address and the last lines of its log.
//
// The clickhouse-servers share one cluster definition (remote_servers) generated from the
// layout, and each gets the macros {shard} and {replica} of its place in it, its interserver
// port on 127.0.0.1 (replicas fetch parts over loopback) and the ZooKeeper address.
// ZooKeeper's session timeout is short (REFERENCE.md: after a kill -9 a replica cannot rejoin
// until its old session expires).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace shardlab::live {

struct Endpoint {
  std::string host;
  uint16_t port = 0;
  std::string address() const { return host + ":" + std::to_string(port); }
};

// remote_servers: shards in order, each with its weight and its replicas' node names.
struct ClusterLayout {
  struct Shard {
    uint32_t weight = 1;
    std::vector<std::string> replicas;  // node names, in configuration order
  };
  std::string name = "shardlab";
  bool internal_replication = true;
  std::vector<Shard> shards;
};

struct LoopbackOptions {
  std::filesystem::path root;
  ClusterLayout layout;  // every node it names gets a clickhouse-server
  bool zookeeper = false;
  int zookeeper_session_timeout_ms = 5000;
  struct Memcached {
    std::string name;
    uint64_t memory_bytes = uint64_t{64} << 20;
    int threads = 4;
  };
  std::vector<Memcached> memcached;
  // Settings of the clickhouse-servers' default profile (users.xml), name -> value.
  std::map<std::string, std::string> profile_settings;
};

class LoopbackCluster {
 public:
  // Starts every server and waits until each answers. Throws RuntimeError naming the server
  // that failed (and stops the ones already started).
  explicit LoopbackCluster(LoopbackOptions options);
  ~LoopbackCluster();
  LoopbackCluster(const LoopbackCluster&) = delete;
  LoopbackCluster& operator=(const LoopbackCluster&) = delete;

  // REQUIRES: `node` is a clickhouse node of the layout / a memcached of the options.
  Endpoint clickhouse_http(const std::string& node) const;
  Endpoint clickhouse_tcp(const std::string& node) const;
  Endpoint memcached(const std::string& node) const;
  Endpoint zookeeper() const;  // REQUIRES: options.zookeeper

  // A clickhouse-server's process: kill() sends SIGKILL, terminate() SIGTERM; both wait until
  // the process is gone (it can answer kill -0 for a while after the signal). start() starts a
  // stopped server again on the same ports and directories and waits until it answers.
  void kill(const std::string& node);
  void terminate(const std::string& node);
  void start(const std::string& node);
  bool running(const std::string& node) const;
  pid_t pid(const std::string& node) const;  // 0 when not running

  // Stops every server still running (SIGTERM, then SIGKILL after a bound), ClickHouse first,
  // ZooKeeper last. Never throws.
  void stop_all() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Set by SIGINT and SIGTERM once install_interrupt_handlers() ran: the live run polls it, stops
// its work and lets the destructors stop the servers.
void install_interrupt_handlers();
bool interrupted();

}  // namespace shardlab::live
