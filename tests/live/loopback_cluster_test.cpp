// LoopbackCluster against the real servers: a 2 x 2 replicated ClickHouse 18.16 cluster with
// ZooKeeper and one memcached, a replica killed and started again, and nothing left behind.
#include "live/loopback_cluster.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/errors.h"

namespace live = shardlab::live;
using Clock = std::chrono::steady_clock;

namespace {

const std::filesystem::path kRoot = SHARDLAB_LIVE_TEST_ROOT;

// One query over HTTP; the body of a 200 answer, else a failed check naming the error.
std::string query(const live::Endpoint& endpoint, const std::string& sql) {
  httplib::Client client(endpoint.host, endpoint.port);
  client.set_read_timeout(30, 0);
  const httplib::Result result = client.Post("/", sql, "text/plain");
  INFO("query to " << endpoint.address() << ": " << sql);
  REQUIRE(result);
  INFO("answer: " << result->body);
  REQUIRE(result->status == 200);
  return result->body;
}

// Polls `sql` on `endpoint` until it answers `expected` or `bound` passes; the last answer.
std::string wait_for_answer(const live::Endpoint& endpoint, const std::string& sql,
                            const std::string& expected, std::chrono::seconds bound) {
  const Clock::time_point deadline = Clock::now() + bound;
  std::string answer;
  while (Clock::now() < deadline) {
    httplib::Client client(endpoint.host, endpoint.port);
    client.set_read_timeout(10, 0);
    const httplib::Result result = client.Post("/", sql, "text/plain");
    if (result) answer = result->body;
    if (result && result->status == 200 && answer == expected) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return answer;
}

std::string memcached_version(const live::Endpoint& endpoint) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  const timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(endpoint.port);
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  std::string answer;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
      ::send(fd, "version\r\n", 9, MSG_NOSIGNAL) == 9) {
    char buffer[256];
    while (answer.find("\r\n") == std::string::npos) {
      const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
      if (got <= 0) break;
      answer.append(buffer, static_cast<size_t>(got));
    }
  }
  ::close(fd);
  return answer;
}

bool port_is_free(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  const bool free = ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0 &&
                    ::listen(fd, 1) == 0;
  ::close(fd);
  return free;
}

// Every child of this process, whichever thread forked it (/proc/self/task/*/children).
std::set<pid_t> children_of_this_process() {
  std::set<pid_t> children;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "children");
    pid_t pid = 0;
    while (in >> pid) children.insert(pid);
  }
  return children;
}

bool gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

live::LoopbackOptions two_by_two_options() {
  live::LoopbackOptions options;
  options.root = kRoot;
  options.layout.shards = {{1, {"n0", "n1"}}, {1, {"n2", "n3"}}};
  options.zookeeper = true;
  options.memcached = {{"m0", uint64_t{16} << 20, 2}};
  options.profile_settings = {{"max_threads", "2"}};
  return options;
}

}  // namespace

TEST_CASE("loopback cluster: a node in two shards is refused before anything starts") {
  live::LoopbackOptions options;
  options.root = kRoot / "refused";
  options.layout.shards = {{1, {"n0", "n1"}}, {1, {"n1", "n2"}}};
  try {
    live::LoopbackCluster cluster(options);
    FAIL("no error");
  } catch (const shardlab::RuntimeError& error) {
    const std::string message = error.what();
    INFO(message);
    CHECK(message.find("one shard per server") != std::string::npos);
    CHECK(message.find("'n1'") != std::string::npos);
    CHECK(message.find("shards 1 and 2") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(options.root));
}

TEST_CASE("loopback cluster: 2 x 2 replicated with ZooKeeper and memcached") {
  std::filesystem::remove_all(kRoot);
  const std::vector<std::string> nodes = {"n0", "n1", "n2", "n3"};
  std::set<pid_t> pids;
  std::vector<uint16_t> ports;
  {
    const Clock::time_point began = Clock::now();
    live::LoopbackCluster cluster(two_by_two_options());
    const double startup_s = std::chrono::duration<double>(Clock::now() - began).count();

    for (const std::string& node : nodes) {
      INFO(node);
      REQUIRE(cluster.running(node));
      REQUIRE(cluster.pid(node) > 0);
      CHECK(cluster.clickhouse_http(node).host == "127.0.0.1");
      ports.push_back(cluster.clickhouse_http(node).port);
      ports.push_back(cluster.clickhouse_tcp(node).port);
    }
    ports.push_back(cluster.memcached("m0").port);
    ports.push_back(cluster.zookeeper().port);
    CHECK(std::set<uint16_t>(ports.begin(), ports.end()).size() == ports.size());
    for (const uint16_t port : ports) {
      CHECK(port >= 30000);
      CHECK(port <= 39999);
    }
    // ZooKeeper, four clickhouse-servers and memcached, all children of this process.
    pids = children_of_this_process();
    CHECK(pids.size() == 6);
    for (const std::string& node : nodes) CHECK(pids.count(cluster.pid(node)) == 1);

    CHECK(memcached_version(cluster.memcached("m0")).rfind("VERSION 1.6", 0) == 0);
    CHECK(query(cluster.clickhouse_http("n2"),
                "SELECT count() FROM system.clusters WHERE cluster = 'shardlab'") == "4\n");
    CHECK(query(cluster.clickhouse_http("n3"),
                "SELECT macro, substitution FROM system.macros ORDER BY macro") ==
          "replica\tn3\nshard\t02\n");
    CHECK(query(cluster.clickhouse_http("n0"),
                "SELECT value FROM system.settings WHERE name = 'max_threads'") == "2\n");

    for (const std::string& node : nodes) {
      query(cluster.clickhouse_http(node),
            "CREATE TABLE t (x UInt64) ENGINE = ReplicatedMergeTree("
            "'/clickhouse/tables/{shard}/t', '{replica}') ORDER BY x");
    }
    query(cluster.clickhouse_http("n0"), "INSERT INTO t VALUES (1), (2), (3)");
    CHECK(wait_for_answer(cluster.clickhouse_http("n1"), "SELECT count() FROM t", "3\n",
                          std::chrono::seconds(30)) == "3\n");
    CHECK(query(cluster.clickhouse_http("n2"), "SELECT count() FROM t") == "0\n");

    // A replica killed with -9 comes back on its ports and catches up with what it missed.
    const pid_t killed = cluster.pid("n1");
    cluster.kill("n1");
    CHECK_FALSE(cluster.running("n1"));
    CHECK(cluster.pid("n1") == 0);
    CHECK(gone(killed));
    query(cluster.clickhouse_http("n0"), "INSERT INTO t VALUES (4), (5)");
    const Clock::time_point restarting = Clock::now();
    cluster.start("n1");
    const double restart_s = std::chrono::duration<double>(Clock::now() - restarting).count();
    REQUIRE(cluster.running("n1"));
    CHECK(cluster.pid("n1") != killed);
    pids.insert(cluster.pid("n1"));
    CHECK(query(cluster.clickhouse_http("n1"), "SELECT 1") == "1\n");
    CHECK(wait_for_answer(cluster.clickhouse_http("n1"), "SELECT count() FROM t", "5\n",
                          std::chrono::seconds(60)) == "5\n");
    const double catch_up_s = std::chrono::duration<double>(Clock::now() - restarting).count();

    // remote_servers names every node's TCP port: a Distributed table sees both shards.
    query(cluster.clickhouse_http("n3"), "INSERT INTO t VALUES (6)");
    query(cluster.clickhouse_http("n2"),
          "CREATE TABLE d AS t ENGINE = Distributed(shardlab, default, t)");
    CHECK(wait_for_answer(cluster.clickhouse_http("n2"), "SELECT count() FROM d", "6\n",
                          std::chrono::seconds(30)) == "6\n");

    // terminate() and start() again; stop_all() is idempotent with the destructor after it.
    cluster.terminate("n3");
    CHECK_FALSE(cluster.running("n3"));
    cluster.start("n3");
    CHECK(cluster.running("n3"));
    pids.insert(cluster.pid("n3"));

    std::fprintf(stderr,
                 "loopback cluster: 6 servers ready after %.2f s; n1 answered %.2f s after its "
                 "restart and had caught up after %.2f s\n",
                 startup_s, restart_s, catch_up_s);
    const Clock::time_point stopping = Clock::now();
    cluster.stop_all();
    std::fprintf(stderr, "loopback cluster: stop_all took %.2f s\n",
                 std::chrono::duration<double>(Clock::now() - stopping).count());
    for (const std::string& node : nodes) CHECK_FALSE(cluster.running(node));
  }
  for (const pid_t pid : pids) {
    INFO("pid " << pid);
    CHECK(gone(pid));
  }
  CHECK(children_of_this_process().empty());
  for (const uint16_t port : ports) {
    INFO("port " << port);
    CHECK(port_is_free(port));
  }
}
