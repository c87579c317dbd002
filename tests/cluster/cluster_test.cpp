#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>

#include "shardlab/engine/query.h"
#include "shardlab/engine/tsv_format.h"
#include "shardlab/engine/table.h"
#include "shardlab/engine/date_time.h"
#include "sim/cluster/cluster.h"
#include "sim/cluster/workload.h"
#include "workloads/query_template.h"
#include "workloads/user_behavior.h"
#include "tests/engine/test_util.h"
#include "workloads/engine_block.h"

using namespace shardlab;
using namespace shardlab::sim;
using namespace shardlab::sim::cluster;

namespace {

constexpr const char* kQueries[] = {
    "SELECT count() FROM user_behavior",
    "SELECT action, count() FROM user_behavior GROUP BY action ORDER BY action",
    "SELECT item_id, count() AS c FROM user_behavior WHERE province = '北京' AND gender = 'F' AND "
    "action = 'click' GROUP BY item_id ORDER BY c DESC, item_id LIMIT 10",
    "SELECT user_id, item_id, event_time FROM user_behavior ORDER BY event_time, user_id, item_id "
    "LIMIT 5",
    "SELECT uniqExact(user_id) FROM user_behavior",
};

struct Fixture {
  Simulation sim{7};
  std::unique_ptr<Network> network;
  shardlab::testing::TempDir dir;
  std::unique_ptr<Cluster> cluster;
  workloads::GeneratorConfig generator;

  Fixture(size_t shards, size_t replicas, bool replicated, InsertMode mode,
          const std::function<void(ClusterSpec&)>& adjust = {}) {
    network = std::make_unique<Network>(sim);
    const NodeId sw = network->add_switch("sw");
    for (const char* host : {"n0", "n1", "n2", "n3", "zk"}) {
      network->add_link(network->add_host(host), sw, 1.25e9, Duration::microseconds(50));
    }
    network->seal();
    ClusterSpec spec;
    for (const char* name : {"n0", "n1", "n2", "n3"}) {
      NodeSpec node;
      node.name = name;
      node.cores = 4;
      spec.nodes.push_back(node);
    }
    spec.shards = shards;
    spec.replicas = replicas;
    spec.sharding.kind = ShardingKind::kHash;
    spec.sharding.key = "intHash64(user_id)";
    spec.ddl = engine::kDefaultUserBehaviorDdl;
    spec.settings.internal_replication = replicated;
    spec.settings.insert_mode = mode;
    spec.coordinator_host = "zk";
    spec.data_dir = dir.path() / "cluster";
    generator.total_rows = 200'000;
    generator.seed = 3;
    spec.epoch_s = generator.start;
    if (adjust) adjust(spec);
    cluster = std::make_unique<Cluster>(sim, *network, spec, CostModel());
    cluster->start();
  }

  engine::Block rows(uint64_t first, size_t count) {
    const auto schema = engine::TableSchema::from_ddl(engine::kDefaultUserBehaviorDdl);
    workloads::EngineBlockSource source(generator, schema);
    engine::Block block;
    source.fill(first, count, &block);
    return block;
  }
};

Process client(Simulation& sim, Fixture& f, size_t batches, size_t batch_rows, Duration gap,
               uint64_t* acked) {
  for (size_t b = 0; b < batches; ++b) {
    try {
      co_await f.cluster->insert(b % 4, f.rows(b * batch_rows, batch_rows));
      *acked += batch_rows;
    } catch (const SimFault&) {
    }
    co_await sim.sleep(gap);
  }
}

// Rows [first, first + count) in one insert at node 0.
Process insert_rows(Fixture& f, uint64_t first, size_t count, uint64_t* acked) {
  co_await f.cluster->insert(0, f.rows(first, count));
  *acked += count;
}

// Forty async inserts of 1,000 rows into n3, 30 ms apart, counting the acknowledged rows.
Process stream_into_n3(Fixture& f, uint64_t* acked) {
  for (size_t b = 0; b < 40; ++b) {
    try {
      co_await f.cluster->insert(3, f.rows(b * 1000, 1000));
      *acked += 1000;
    } catch (const SimFault&) {
    }
    co_await f.sim.sleep(Duration::milliseconds(30));
  }
}

std::string tsv(const engine::QueryResult& result) {
  std::string out;
  engine::append_tsv(result.columns, &out);
  return out;
}

// The same rows in one engine table: the answers the cluster must give.
std::string single_node_answer(Fixture& f, const std::string& sql, uint64_t rows) {
  shardlab::testing::TempDir dir;
  auto table = engine::Table::create(dir.path() / "t", engine::kDefaultUserBehaviorDdl);
  table->insert(f.rows(0, rows));
  auto query = engine::Query::prepare(table->schema(), sql);
  return tsv(query->run(table->active_parts()));
}

Process ask(Cluster& cluster, size_t initiator, const engine::Query* query, QueryAnswer* answer,
            bool* failed) {
  try {
    co_await cluster.query(initiator, *query, answer);
  } catch (const SimFault&) {
    *failed = true;
  }
}

// `sql` through the distributed path, asked at node 1; the query must succeed.
QueryAnswer ask_distributed(Fixture& f, const std::string& sql) {
  auto query = engine::Query::prepare(f.cluster->schema(), sql);
  QueryAnswer answer;
  bool failed = false;
  f.sim.spawn(ask(*f.cluster, 1, query.get(), &answer, &failed));
  f.sim.run_until(f.sim.now() + Duration::seconds(10));
  REQUIRE_FALSE(failed);
  return answer;
}

}  // namespace

TEST_CASE("sync inserts over hash shards: every row acknowledged is queryable, answers are exact",
          "[cluster]") {
  Fixture f(3, 1, false, InsertMode::kSync);
  uint64_t acked = 0;
  f.sim.spawn(client(f.sim, f, 20, 5000, Duration::milliseconds(200), &acked));
  f.sim.run_until(Time::zero() + Duration::seconds(30));
  const ClusterCounters& c = f.cluster->counters();
  CHECK(acked == 100'000);
  CHECK(c.rows_sent == 100'000);
  CHECK(c.rows_acknowledged == 100'000);
  uint64_t stored = 0;
  for (const auto& shard : f.cluster->shard_states()) {
    CHECK(shard.rows > 20'000);  // hash sharding spreads users evenly
    stored += shard.rows;
  }
  CHECK(stored == 100'000);
  CHECK(c.merges > 0);
  for (const char* sql : kQueries) {
    INFO(sql);
    const QueryAnswer answer = ask_distributed(f, sql);
    const std::string expected = single_node_answer(f, sql, 100'000);
    CHECK(tsv(answer.result) == expected);
    CHECK(answer.latency > Duration());
    auto query = engine::Query::prepare(f.cluster->schema(), sql);
    CHECK(tsv(f.cluster->query_now(*query)) == expected);
  }
}

TEST_CASE("replicated shards: replicas converge by fetching, queries fail over a crashed node",
          "[cluster]") {
  Fixture f(2, 2, true, InsertMode::kSync);
  uint64_t acked = 0;
  f.sim.spawn(client(f.sim, f, 10, 5000, Duration::milliseconds(100), &acked));
  f.sim.run_until(Time::zero() + Duration::seconds(20));
  CHECK(acked == 50'000);
  CHECK(f.cluster->counters().parts_fetched > 0);
  CHECK(f.cluster->current_replica_lag() == Duration());
  uint64_t stored = 0;
  for (const auto& shard : f.cluster->shard_states()) stored += shard.rows;
  CHECK(stored == 50'000);

  // Shard 1's replicas are on n0 and n1 (round-robin placement); n0 goes down.
  f.cluster->crash_node(0, Cluster::CrashKind::kNodeLoss);
  auto query = engine::Query::prepare(f.cluster->schema(), "SELECT count() FROM user_behavior");
  QueryAnswer answer;
  bool failed = false;
  f.sim.spawn(ask(*f.cluster, 2, query.get(), &answer, &failed));
  f.sim.run_until(f.sim.now() + Duration::seconds(10));
  REQUIRE_FALSE(failed);
  CHECK(tsv(answer.result) == "50000\n");

  // Inserts continue on the surviving replicas; n0 catches up after its restart.
  f.sim.spawn(client(f.sim, f, 4, 5000, Duration::milliseconds(100), &acked));
  f.sim.run_until(f.sim.now() + Duration::seconds(5));
  CHECK(f.cluster->current_replica_lag() > Duration());
  f.cluster->restart_node(0);
  f.sim.run_until(f.sim.now() + Duration::seconds(20));
  CHECK(f.cluster->current_replica_lag() == Duration());
  CHECK(f.cluster->max_replica_lag() > Duration::seconds(1));
}

TEST_CASE("query memory: counted per server, refused past max_memory_usage",
          "[cluster][memory]") {
  // Two shards of two replicas: a refused subquery must not be retried on the other replica.
  uint64_t limit = 0;
  auto make = [&limit] {
    return std::make_unique<Fixture>(2, 2, true, InsertMode::kSync, [&](ClusterSpec& spec) {
      spec.settings.max_memory_usage = limit;
    });
  };
  const std::string sql =
      "SELECT user_id, count() AS c FROM user_behavior GROUP BY user_id ORDER BY c DESC, user_id "
      "LIMIT 3";
  auto run = [&sql](Fixture& f, bool* failed) {
    uint64_t acked = 0;
    f.sim.spawn(client(f.sim, f, 8, 5000, Duration::milliseconds(100), &acked));
    f.sim.run_until(Time::zero() + Duration::seconds(20));
    auto query = engine::Query::prepare(f.cluster->schema(), sql);
    QueryAnswer answer;
    f.sim.spawn(ask(*f.cluster, 1, query.get(), &answer, failed));
    f.sim.run_until(f.sim.now() + Duration::seconds(10));
    // Not taken from the machine (query_memory.h).
    CHECK(f.cluster->node(0).memory().claimed() == 0);
    return answer;
  };

  // Unlimited: the answer, and what the query held — at least the shards' GROUP BY states of
  // tens of thousands of users, at most what the whole rows are.
  auto free = make();
  bool failed = false;
  const QueryAnswer answer = run(*free, &failed);
  REQUIRE_FALSE(failed);
  CHECK(tsv(answer.result) == single_node_answer(*free, sql, 40'000));
  const uint64_t peak = free->cluster->counters().peak_query_memory_bytes;
  CHECK(peak > 200'000);
  CHECK(peak < 200'000'000);
  CHECK(free->cluster->counters().memory_refusals == 0);

  // A limit below what it holds: refused, counted once, and no replica tried in vain.
  limit = peak / 2;
  auto limited = make();
  failed = false;
  run(*limited, &failed);
  CHECK(failed);
  CHECK(limited->cluster->counters().memory_refusals == 1);
  CHECK(limited->cluster->counters().failovers == 0);

}

TEST_CASE("a damaged part is detached and fetched again from a peer", "[cluster][repair]") {
  // One shard, replicas on n0 and n1; queries go to the first replica (n0) while it is up.
  Fixture f(1, 2, true, InsertMode::kSync,
            [](ClusterSpec& spec) { spec.settings.load_balancing = LoadBalancing::kInOrder; });
  uint64_t acked = 0;
  f.sim.spawn(client(f.sim, f, 8, 5000, Duration::milliseconds(100), &acked));
  f.sim.run_until(Time::zero() + Duration::seconds(20));
  REQUIRE(acked == 40'000);
  REQUIRE(f.cluster->current_replica_lag() == Duration());

  f.cluster->break_parts(0, 1);
  CHECK(f.cluster->counters().parts_broken == 1);
  const uint64_t damaged_rows = f.cluster->rows_awaiting_repair();
  CHECK(damaged_rows > 0);
  bool detached = false;
  for (const auto& e : std::filesystem::directory_iterator(f.dir.path() / "cluster" /
                                                           "shard1_replica1" / "detached"))
    detached |= e.path().filename().string().rfind("broken_", 0) == 0;
  CHECK(detached);

  f.sim.run_until(f.sim.now() + Duration::seconds(20));
  CHECK(f.cluster->counters().parts_refetched == 1);
  CHECK(f.cluster->rows_awaiting_repair() == 0);
  CHECK(f.cluster->max_part_repair() > Duration());
  // Answered by n0's replica again, with every row.
  CHECK(tsv(ask_distributed(f, "SELECT count() FROM user_behavior").result) == "40000\n");
  for (const char* sql : kQueries) {
    INFO(sql);
    CHECK(tsv(ask_distributed(f, sql).result) == single_node_answer(f, sql, 40'000));
  }
}

TEST_CASE("without replication a damaged part's rows stay lost", "[cluster][repair]") {
  Fixture f(1, 1, false, InsertMode::kSync);
  uint64_t acked = 0;
  f.sim.spawn(client(f.sim, f, 4, 5000, Duration::milliseconds(100), &acked));
  f.sim.run_until(Time::zero() + Duration::seconds(10));
  REQUIRE(acked == 20'000);
  f.cluster->break_parts(0, 1);
  const uint64_t damaged_rows = f.cluster->rows_awaiting_repair();
  REQUIRE(damaged_rows > 0);
  f.sim.run_until(f.sim.now() + Duration::seconds(20));
  CHECK(f.cluster->counters().parts_refetched == 0);
  CHECK(f.cluster->rows_awaiting_repair() == damaged_rows);
  CHECK(tsv(ask_distributed(f, "SELECT count() FROM user_behavior").result) ==
        fmt::format("{}\n", 20'000 - damaged_rows));
}

TEST_CASE("async inserts: a node loss loses exactly the rows still queued", "[cluster]") {
  Fixture f(2, 1, false, InsertMode::kAsync);
  // Insert continuously into n3, which holds no replica, then lose it mid-stream.
  uint64_t acked = 0;
  f.sim.spawn(stream_into_n3(f, &acked));
  f.sim.run_until(Time::zero() + Duration::milliseconds(555));
  const uint64_t queued = f.cluster->queued_rows();
  f.cluster->crash_node(3, Cluster::CrashKind::kNodeLoss);
  f.sim.run_until(Time::zero() + Duration::seconds(10));
  const ClusterCounters& c = f.cluster->counters();
  // Lost: what was queued at the crash, except a block already on its way that arrived.
  CHECK(c.rows_lost > 0);
  CHECK(c.rows_lost <= queued);
  CHECK(queued - c.rows_lost <= 1000);
  uint64_t stored = 0;
  for (const auto& shard : f.cluster->shard_states()) stored += shard.rows;
  CHECK(stored == c.rows_acknowledged - c.rows_lost);
  CHECK(c.rows_rejected == c.rows_sent - c.rows_acknowledged);
}

TEST_CASE("async inserts: a server sharing its machine dies alone and its queue survives",
          "[cluster]") {
  // n2 and n3 are two servers on one machine; n3 is killed (kill -9), not the machine.
  Fixture f(2, 1, false, InsertMode::kAsync, [](ClusterSpec& spec) {
    spec.nodes[2].machine = "box";
    spec.nodes[3].machine = "box";
  });
  REQUIRE(f.cluster->node(3).shares_machine());
  REQUIRE(&f.cluster->node(3).cpu() == &f.cluster->node(2).cpu());
  uint64_t acked = 0;
  f.sim.spawn(stream_into_n3(f, &acked));
  f.sim.run_until(Time::zero() + Duration::milliseconds(555));
  REQUIRE(f.cluster->queued_rows() > 0);
  f.cluster->crash_node(3, Cluster::CrashKind::kNodeLoss);
  CHECK(f.cluster->node(2).up());
  f.sim.run_until(Time::zero() + Duration::seconds(5));
  CHECK(f.cluster->queued_rows() > 0);  // held in the machine's page cache, not sent while down
  f.cluster->restart_node(3);
  f.sim.run_until(Time::zero() + Duration::seconds(10));
  const ClusterCounters& c = f.cluster->counters();
  CHECK(c.rows_lost == 0);
  CHECK(f.cluster->queued_rows() == 0);
  uint64_t stored = 0;
  for (const auto& shard : f.cluster->shard_states()) stored += shard.rows;
  CHECK(stored == c.rows_acknowledged);
  CHECK(c.rows_acknowledged == acked);
}

TEST_CASE("query templates see the simulated clock to the minute", "[cluster][workload]") {
  const int64_t t = dt::days_from_civil(2024, 5, 8) * 86400 + 13 * 3600 + 5 * 60 + 42;
  const auto expand = [t](const std::string& sql) {
    return workloads::QueryTemplateText(sql).expand(t, workloads::ParameterValues{});
  };
  CHECK(expand("a >= {now-7d} AND a < {now}") ==
        "a >= '2024-05-01 13:05:00' AND a < '2024-05-08 13:05:00'");
  CHECK(expand("d = {today-1d} OR d = {today}") == "d = '2024-05-07' OR d = '2024-05-08'");
  CHECK(expand("{now-90min}") == "'2024-05-08 11:35:00'");
  CHECK_THROWS_WITH(expand("{yesterday}"), Catch::Contains("unknown placeholder {yesterday}"));
  CHECK_THROWS_WITH(expand("{now-7w}"), Catch::Contains("unknown unit 'w'"));
  CHECK_THROWS_WITH(expand("{now"), Catch::Contains("unclosed"));
  CHECK_THROWS_WITH(expand("{now-99999999999d}"), Catch::Contains("at most 100 years"));
}

TEST_CASE("query template parameters come from the generator's distributions",
          "[cluster][workload]") {
  workloads::GeneratorConfig config;
  config.days = 1;
  config.total_rows = 1000;
  config.users = 1000;
  config.items = 100;
  const workloads::RowGenerator generator(config);
  const workloads::ParameterSampler sampler(generator);
  const workloads::QueryTemplateText text(
      "SELECT count() FROM t WHERE user_id = {user} AND province = {province} AND "
      "item_id IN ({item}, {user})");
  REQUIRE(text.parameters().size() == 3);
  CHECK(text.parameters()[0] == workloads::QueryParameter::kUser);
  CHECK_FALSE(text.uses_clock());
  workloads::ParameterValues v;
  v.user = 42;
  v.item = 7;
  v.province = 0;
  const std::string province(workloads::kProvinceNames[0]);
  CHECK(text.expand(0, v) == "SELECT count() FROM t WHERE user_id = 42 AND province = '" +
                                 province + "' AND item_id IN (7, 42)");
  CHECK(text.parameter_key(v) == "user=42,province=" + province + ",item=7");
  // Zipf popularity: user 1 is drawn far more often than user 500.
  sim::RandomStream rng(1, "parameters");
  std::map<uint64_t, int> users;
  std::map<uint8_t, int> provinces;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t bits[4] = {rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()};
    const workloads::ParameterValues drawn = sampler.draw(bits);
    REQUIRE(drawn.user >= 1);
    REQUIRE(drawn.user <= 1000);
    REQUIRE(drawn.item >= 1);
    REQUIRE(drawn.item <= 100);
    REQUIRE(drawn.province < workloads::kProvinceCount);
    ++users[drawn.user];
    ++provinces[drawn.province];
  }
  CHECK(users[1] > 20 * std::max(1, users[500]));
  // Provinces follow population weights: every one is drawn, the largest most often.
  CHECK(provinces.size() == workloads::kProvinceCount);
  const size_t largest = static_cast<size_t>(
      std::max_element(workloads::kProvincePopulationMillions.begin(),
                       workloads::kProvincePopulationMillions.end()) -
      workloads::kProvincePopulationMillions.begin());
  for (const auto& [index, count] : provinces) CHECK(count <= provinces[largest]);
  CHECK_THROWS_WITH(workloads::QueryTemplateText("user_id = {users}"),
                    Catch::Contains("unknown placeholder {users}"));
}

namespace {
struct Recorder : WorkloadObserver {
  uint64_t rows_ok = 0, rows_failed = 0, inserts = 0;
  std::vector<uint64_t> queries_ok = std::vector<uint64_t>(2, 0);
  std::vector<uint64_t> queries_failed = std::vector<uint64_t>(2, 0);
  Duration max_latency;
  void insert_done(Time, uint64_t rows, Duration, bool ok) override {
    ++inserts;
    (ok ? rows_ok : rows_failed) += rows;
  }
  void query_done(Time, size_t query, Duration latency, bool ok) override {
    (ok ? queries_ok : queries_failed)[query]++;
    max_latency = std::max(max_latency, latency);
  }
};
}  // namespace

TEST_CASE("the workload driver inserts due rows in batches and sends queries", "[cluster][workload]") {
  Fixture f(2, 1, false, InsertMode::kSync);
  f.generator.days = 1;
  f.generator.total_rows = 86'400;  // one row per second on average
  IngestLoad ingest;
  ingest.generator = f.generator;
  ingest.rows = 86'400;
  ingest.batch_rows = 5'000;
  ingest.batch_interval = Duration::seconds(600);
  QueryLoad open;
  open.name = "count";
  open.sql = "SELECT count() FROM user_behavior WHERE event_time < {now}";
  open.rate_per_s = 0.01;
  open.clients = 2;
  QueryLoad closed;
  closed.name = "top";
  closed.sql = "SELECT action, count() FROM user_behavior WHERE event_time >= {now-1h} GROUP BY action";
  closed.rate_per_s = 0;
  Recorder recorder;
  WorkloadDriver driver(f.sim, *f.cluster, ingest, {open, closed}, recorder);
  // The closed-loop client sends its next query as soon as an answer arrives: a few thousand a
  // simulated second on this idle cluster, so it runs only for the first ten seconds.
  const Time end = Time::zero() + Duration::seconds(6 * 3600);
  driver.start(end);
  f.sim.run_until(Time::zero() + Duration::seconds(10));
  driver.stop_query(1);
  f.sim.run_until(end + Duration::seconds(60));
  // Rows due in the first six hours, in batches of at most 5000 rows or 10 minutes.
  const uint64_t due = driver.rows_due(end);
  CHECK(recorder.rows_ok + recorder.rows_failed <= due);
  CHECK(recorder.rows_ok + 5'000 >= due);
  CHECK(recorder.rows_failed == 0);
  CHECK(recorder.inserts >= 6 * 6);  // at least one batch per 10 minutes
  CHECK(recorder.queries_ok[0] > 100);
  CHECK(recorder.queries_ok[1] > 100);  // within the ten seconds
  CHECK(recorder.queries_failed[0] + recorder.queries_failed[1] == 0);
  uint64_t stored = 0;
  for (const auto& shard : f.cluster->shard_states()) stored += shard.rows;
  CHECK(stored == recorder.rows_ok);

  QueryLoad bad = open;
  bad.sql = "SELECT nope FROM user_behavior";
  CHECK_THROWS_WITH(WorkloadDriver(f.sim, *f.cluster, ingest, {bad}, recorder),
                    Catch::Contains("query 'count'") && Catch::Contains("unknown column 'nope'"));
}

TEST_CASE("replication: a follower merges itself when the leader goes down after merging",
          "[cluster]") {
  // One shard, replicas on n0 (the leader: first up and current) and n1.
  Fixture f(1, 2, true, InsertMode::kSync);
  uint64_t acked = 0;
  f.sim.spawn(client(f.sim, f, 30, 1000, Duration::milliseconds(300), &acked));
  // Step until the leader logs a merge the follower has not applied, then lose the leader.
  bool caught = false;
  while (!caught && f.sim.now() < Time::zero() + Duration::seconds(20) && f.sim.step()) {
    caught = f.cluster->counters().merges > 0 && f.cluster->replica_lag(0, 1) > Duration() &&
             f.cluster->replica_lag(0, 0) == Duration();
  }
  REQUIRE(caught);
  f.cluster->crash_node(0, Cluster::CrashKind::kNodeLoss);
  f.sim.run_until(f.sim.now() + Duration::seconds(30));
  // The follower applied every entry without the leader: merges on its own copies of the
  // sources (new parts it received directly).
  CHECK(f.cluster->replica_lag(0, 1) == Duration());
  CHECK(f.cluster->replica_lag(0, 0) > Duration());
  auto query = engine::Query::prepare(f.cluster->schema(), "SELECT count() FROM user_behavior");
  CHECK(tsv(f.cluster->query_now(*query)) == std::to_string(acked) + "\n");
  // The leader catches up after its restart.
  f.cluster->restart_node(0);
  f.sim.run_until(f.sim.now() + Duration::seconds(30));
  CHECK(f.cluster->current_replica_lag() == Duration());
}

TEST_CASE("replication: a merge whose rows all expired removes the sources on every replica",
          "[cluster]") {
  // Rows live an hour; simulated time 0 is ten days after the data, so every merge drops all.
  Fixture f(1, 2, true, InsertMode::kSync, [](ClusterSpec& spec) {
    spec.ddl = std::string(engine::kDefaultUserBehaviorDdl) +
               " TTL event_time + INTERVAL 1 HOUR";
    spec.epoch_s += 10 * 86400;
  });
  uint64_t acked = 0;
  f.sim.spawn(client(f.sim, f, 12, 1000, Duration::milliseconds(200), &acked));
  f.sim.run_until(Time::zero() + Duration::seconds(60));
  REQUIRE(acked == 12'000);
  CHECK(f.cluster->counters().merges > 0);
  CHECK(f.cluster->current_replica_lag() == Duration());
  // Both replicas dropped what the leader's merges expired. The count runs on the replica with
  // the most rows, so a follower that kept the expired sources would show all 12000.
  auto query = engine::Query::prepare(f.cluster->schema(), "SELECT count() FROM user_behavior");
  CHECK(tsv(f.cluster->query_now(*query)) != "12000\n");
}

TEST_CASE("replication: a replica cut off from the writer fetches from another replica",
          "[cluster]") {
  // One shard on n0, n1 and n2; n0 and n1 cannot reach each other, both reach n2.
  Fixture f(1, 3, true, InsertMode::kSync);
  f.network->partition({*f.network->find_host("n0")}, {*f.network->find_host("n1")});
  uint64_t acked = 0;
  f.sim.spawn(client(f.sim, f, 6, 1000, Duration::milliseconds(200), &acked));
  f.sim.run_until(Time::zero() + Duration::seconds(30));
  REQUIRE(acked == 6000);
  // Whichever replica took each write, the one cut off from it got the part through n2.
  for (size_t r = 0; r < 3; ++r) CHECK(f.cluster->replica_lag(0, r) == Duration());
}

TEST_CASE("merges keep up while some write is always in flight", "[cluster]") {
  // Slow disks make every write take milliseconds; two clients back to back keep one in flight
  // at almost every instant.
  Fixture f(1, 1, false, InsertMode::kSync, [](ClusterSpec& spec) {
    for (NodeSpec& node : spec.nodes) {
      node.disk.write_bytes_per_s = 0.2e6;
      node.disk.read_bytes_per_s = 2e6;
    }
  });
  uint64_t acked = 0;
  f.sim.spawn(client(f.sim, f, 100, 1000, Duration(), &acked));
  f.sim.spawn(client(f.sim, f, 100, 1000, Duration(), &acked));
  size_t most_parts = 0;
  uint64_t merges_while_writing = 0;
  while (acked < 200'000 && f.sim.now() < Time::zero() + Duration::seconds(60)) {
    f.sim.run_until(f.sim.now() + Duration::milliseconds(250));
    most_parts = std::max(most_parts, f.cluster->shard_states()[0].parts);
    if (acked < 200'000) merges_while_writing = f.cluster->counters().merges;
  }
  REQUIRE(acked == 200'000);
  // Waiting for a moment with no write in flight would merge nothing until the clients stop,
  // leaving one part per insert (over 200).
  CHECK(merges_while_writing >= 2);
  CHECK(most_parts < 170);
}

TEST_CASE("kept merged states answer and cost exactly as merging every part", "[cluster][merged]") {
  // The same inserts and queries twice: every part settled (kept states in use, brought up to
  // date across inserts, merges and a replica crash) and no part settled (every query merges
  // every part). Answers and simulated latencies must not tell them apart.
  struct Run {
    std::vector<std::string> answers;
    std::vector<int64_t> latencies_ns;
    ClusterCounters counters;
    uint64_t rebuilds = 0;
  };
  auto run = [](uint64_t settled_rows) {
    Fixture f(2, 2, true, InsertMode::kSync,
              [&](ClusterSpec& spec) { spec.merged_settled_rows = settled_rows; });
    Run out;
    uint64_t acked = 0;
    for (size_t round = 0; round < 12; ++round) {
      f.sim.spawn(insert_rows(f, round * 4000, 4000, &acked));
      f.sim.run_until(f.sim.now() + Duration::seconds(3));
      if (round == 6) f.cluster->crash_node(2, Cluster::CrashKind::kNodeLoss);
      if (round == 8) f.cluster->restart_node(2);
      for (const char* sql : kQueries) {
        const QueryAnswer answer = ask_distributed(f, sql);
        out.answers.push_back(tsv(answer.result));
        out.latencies_ns.push_back(answer.latency.ns());
      }
    }
    REQUIRE(acked == 12 * 4000);
    for (size_t q = 0; q < std::size(kQueries); ++q)
      CHECK(out.answers[out.answers.size() - std::size(kQueries) + q] ==
            single_node_answer(f, kQueries[q], acked));
    out.counters = f.cluster->counters();
    out.rebuilds = f.cluster->kept_state_rebuilds();
    return out;
  };
  const Run kept = run(0);
  const Run merged_afresh = run(UINT64_MAX);
  CHECK(kept.answers == merged_afresh.answers);
  CHECK(kept.latencies_ns == merged_afresh.latencies_ns);
  CHECK(kept.counters.merges == merged_afresh.counters.merges);
  CHECK(kept.counters.kept_parts_reused > 0);
  CHECK(kept.rebuilds > 0);  // merges took in parts a state had not seen
  CHECK(merged_afresh.counters.kept_parts_reused == 0);
}

TEST_CASE("closed-loop clients pause for their think time between queries", "[cluster][workload]") {
  Fixture f(2, 1, false, InsertMode::kSync);
  IngestLoad ingest;
  ingest.generator = f.generator;
  ingest.rows = 0;
  QueryLoad closed;
  closed.name = "count";
  closed.sql = "SELECT count() FROM user_behavior";
  closed.rate_per_s = 0;
  closed.clients = 2;
  closed.think_time = Duration::seconds(2);
  Recorder recorder;
  WorkloadDriver driver(f.sim, *f.cluster, ingest, {closed}, recorder);
  const Time end = Time::zero() + Duration::seconds(1000);
  driver.start(end);
  f.sim.run_until(end + Duration::seconds(10));
  // Two clients, each one query per think time (2 s mean) plus a latency of milliseconds: about
  // 1000 queries; without the pause it would be hundreds of thousands.
  CHECK(recorder.queries_ok[0] > 850);
  CHECK(recorder.queries_ok[0] < 1150);
}

TEST_CASE("growing: joining shards take later inserts, stored rows stay, answers stay exact",
          "[cluster]") {
  // Two shards on n0 and n1 by hash; n2 and n3 hold two more that join after the first rows.
  Fixture f(2, 1, false, InsertMode::kSync, [](ClusterSpec& spec) {
    spec.joining_placement = {{2}, {3}};
  });
  CHECK(f.cluster->shards() == 2);
  CHECK(f.cluster->total_shards() == 4);
  uint64_t acked = 0;
  f.sim.spawn(client(f.sim, f, 4, 5000, Duration::milliseconds(100), &acked));
  f.sim.run_until(Time::zero() + Duration::seconds(5));
  REQUIRE(acked == 20'000);
  auto states = f.cluster->shard_states();
  CHECK(states[2].rows == 0);
  CHECK(states[3].rows == 0);

  ShardingSpec next = f.cluster->scheme().spec();
  next.shards = 4;
  next.weights.clear();
  f.cluster->grow(next);
  CHECK(f.cluster->shards() == 4);
  // Too few joining shards left, or a shrink: an input error, the cluster unchanged.
  next.shards = 5;
  CHECK_THROWS_AS(f.cluster->grow(next), InputError);
  next.shards = 3;
  CHECK_THROWS_AS(f.cluster->grow(next), InputError);
  CHECK(f.cluster->shards() == 4);

  // Later batches (rows 20000 on) spread over four shards; the first ones stay on two.
  struct Later {
    static Process run(Simulation& sim, Fixture& f, uint64_t* acked) {
      for (size_t b = 4; b < 8; ++b) {
        co_await f.cluster->insert(0, f.rows(b * 5000, 5000));
        *acked += 5000;
        co_await sim.sleep(Duration::milliseconds(100));
      }
    }
  };
  f.sim.spawn(Later::run(f.sim, f, &acked));
  f.sim.run_until(f.sim.now() + Duration::seconds(5));
  REQUIRE(acked == 40'000);
  states = f.cluster->shard_states();
  CHECK(states[0].rows + states[1].rows > 20'000);
  CHECK(states[2].rows > 2'000);
  CHECK(states[3].rows > 2'000);
  for (const char* sql : kQueries) {
    INFO(sql);
    CHECK(tsv(ask_distributed(f, sql).result) == single_node_answer(f, sql, 40'000));
  }
}

TEST_CASE("growing under range sharding: pruning remembers where older rows went", "[cluster]") {
  // The first rows are all of 2024-05-01, on shard 2 (from 2024-04-30 on). After growing, days
  // from 2024-05-01 belong to a new shard 3, but the rows already stored stay on shard 2.
  Fixture f(2, 1, false, InsertMode::kSync, [](ClusterSpec& spec) {
    spec.sharding = ShardingSpec{};
    spec.sharding.kind = ShardingKind::kRange;
    spec.sharding.key = "toYYYYMMDD(event_time)";
    spec.sharding.range_bounds = {"20240430"};
    spec.joining_placement = {{2}};
  });
  uint64_t acked = 0;
  f.sim.spawn(client(f.sim, f, 4, 5000, Duration::milliseconds(100), &acked));
  f.sim.run_until(Time::zero() + Duration::seconds(5));
  REQUIRE(acked == 20'000);
  REQUIRE(f.cluster->shard_states()[1].rows == 20'000);
  ShardingSpec next = f.cluster->scheme().spec();
  next.shards = 3;
  next.weights.clear();
  next.range_bounds = {"20240430", "20240501"};
  f.cluster->grow(next);
  const std::string sql =
      "SELECT count() FROM user_behavior WHERE event_time >= '2024-05-01 00:00:00'";
  // The newest scheme alone would send this query to shard 3 only, which holds nothing yet.
  const std::vector<bool> visit = f.cluster->shards_to_visit(sql);
  REQUIRE(visit.size() == 3);
  CHECK_FALSE(visit[0]);
  CHECK(visit[1]);
  CHECK(visit[2]);
  auto query = engine::Query::prepare(f.cluster->schema(), sql);
  QueryAnswer answer;
  bool failed = false;
  struct Ask {
    static Process run(Cluster& cluster, const engine::Query* query, QueryAnswer* answer,
                       const std::vector<bool>* visit, bool* failed) {
      try {
        co_await cluster.query(0, *query, answer, visit);
      } catch (const SimFault&) {
        *failed = true;
      }
    }
  };
  f.sim.spawn(Ask::run(*f.cluster, query.get(), &answer, &visit, &failed));
  f.sim.run_until(f.sim.now() + Duration::seconds(10));
  REQUIRE_FALSE(failed);
  CHECK(tsv(answer.result) == "20000\n");
}
