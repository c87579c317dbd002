#include "live/live_workload.h"

#include <fmt/format.h>
#include <libmemcached/memcached.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <limits>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "live/clickhouse_client.h"
#include "shardlab/engine/tsv_format.h"
#include "workloads/engine_block.h"
#include "workloads/query_template.h"
#include "workloads/row_generator.h"

namespace shardlab::live {

namespace {

using Clock = std::chrono::steady_clock;

// How long a request may take before it counts as failed: long enough for any query of a
// scenario sized for its machine, short enough that a hung server does not stall the run.
constexpr std::chrono::milliseconds kRequestTimeout{30'000};
// Connections to a server that is down fail at once (connection refused); one that hangs is
// given this long to accept.
constexpr int kInsertWorkers = 4;
constexpr size_t kErrorsKept = 5;

// The run's clock: seconds since the run began, and sleeps that wake up early when the run
// stops.
class RunClock {
 public:
  RunClock() : start_(Clock::now()) {}
  double now_s() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  // Sleeps until run second `t`; false if the run stopped first.
  bool sleep_until(double t, const std::atomic<bool>& stop) const {
    for (;;) {
      if (stop.load() || interrupted()) return false;
      const double left = t - now_s();
      if (left <= 0) return true;
      std::this_thread::sleep_for(std::chrono::duration<double>(std::min(left, 0.1)));
    }
  }

 private:
  Clock::time_point start_;
};

int64_t ns_between(double from_s, double to_s) {
  return std::max<int64_t>(0, std::llround((to_s - from_s) * 1e9));
}

// The rows' schedule on the run's clock (the simulator's WorkloadDriver, with run.speed).
class RowSchedule {
 public:
  explicit RowSchedule(const scenarios::Scenario& s)
      : generator_(s.workload.generator),
        speed_(s.run.speed),
        rows_(std::min(s.workload.rows, generator_.total_rows())) {}

  uint64_t rows() const { return rows_; }
  double due_s(uint64_t row) const {
    return static_cast<double>(generator_.event_time_of(row) - generator_.start()) / speed_;
  }
  uint64_t rows_due(double run_s) const {
    const auto data_s = static_cast<int64_t>(std::floor(run_s * speed_));
    return std::min(rows_, generator_.first_row_at(generator_.start() + data_s + 1));
  }
  int64_t data_clock_s(double run_s) const {
    return generator_.start() + static_cast<int64_t>(std::floor(run_s * speed_));
  }
  const workloads::RowGenerator& generator() const { return generator_; }

 private:
  workloads::RowGenerator generator_;
  double speed_;
  uint64_t rows_;
};

std::vector<std::string> initiators_of(const scenarios::Scenario& s) {
  if (!s.workload.initiators.empty()) return s.workload.initiators;
  std::vector<std::string> names;
  for (const scenarios::NodeConfig& node : s.cluster.nodes) names.push_back(node.name);
  return names;
}

struct Batch {
  std::string initiator;
  uint64_t first_row = 0;
  uint64_t rows = 0;
  double closed_s = 0;
};

// Batches closed by the schedule, sent by a small pool of connections.
class InsertPool {
 public:
  // `out` is updated under `out_mutex`, which the run's other threads hold to read it.
  InsertPool(const scenarios::Scenario& s, const LiveTarget& target, const RunClock& clock,
             WorkloadMeasurement* out, std::mutex& out_mutex)
      : s_(s),
        target_(target),
        clock_(clock),
        out_(out),
        out_mutex_(out_mutex),
        settings_(insert_settings(s)) {
    for (int i = 0; i < kInsertWorkers; ++i) workers_.emplace_back([this] { work(); });
  }
  ~InsertPool() { finish(); }

  void send(Batch batch) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(batch));
    }
    ready_.notify_one();
  }
  // Waits for every batch sent so far, then stops the workers.
  void finish() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
    }
    ready_.notify_all();
    for (std::thread& worker : workers_) {
      if (worker.joinable()) worker.join();
    }
  }

 private:
  void work() {
    workloads::EngineBlockSource source(s_.workload.generator, s_.table.schema);
    std::map<std::string, ClickHouseClient> clients;
    engine::Block block;
    std::string tsv;
    for (;;) {
      Batch batch;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return closing_ || !queue_.empty(); });
        if (queue_.empty()) return;
        batch = std::move(queue_.front());
        queue_.pop_front();
      }
      source.fill(batch.first_row, static_cast<size_t>(batch.rows), &block);
      tsv.clear();
      engine::append_tsv(block.columns, &tsv);
      auto client = clients.find(batch.initiator);
      if (client == clients.end()) {
        client =
            clients
                .emplace(batch.initiator,
                         ClickHouseClient(target_.clickhouse.at(batch.initiator), kRequestTimeout))
                .first;
      }
      bool ok = true;
      std::string error;
      try {
        client->second.insert(target_.tables.distributed, tsv, settings_);
      } catch (const ClickHouseError& e) {
        ok = false;
        error = e.what();
      }
      const double done_s = clock_.now_s();
      const std::lock_guard<std::mutex> lock(out_mutex_);
      if (ok) {
        out_->rows_acknowledged += batch.rows;
        out_->acknowledged_batches.emplace_back(batch.first_row, batch.rows);
        out_->insert_latency.record(ns_between(batch.closed_s, done_s));
      } else {
        out_->rows_rejected += batch.rows;
        if (out_->insert_errors.size() < kErrorsKept) out_->insert_errors.push_back(error);
      }
    }
  }

  const scenarios::Scenario& s_;
  const LiveTarget& target_;
  const RunClock& clock_;
  WorkloadMeasurement* out_;
  std::mutex& out_mutex_;
  std::map<std::string, std::string> settings_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Batch> queue_;
  bool closing_ = false;
  std::vector<std::thread> workers_;
};

// The simulator's ingest loop on the wall clock.
void run_ingest(const scenarios::Scenario& s, const RowSchedule& schedule, const RunClock& clock,
                double end_s, const std::atomic<bool>& stop, InsertPool& pool,
                WorkloadMeasurement* out, std::mutex& out_mutex) {
  const std::vector<std::string> initiators = initiators_of(s);
  const double batch_interval_s = s.workload.batch_interval.seconds();
  uint64_t next_row = 0;
  uint64_t batches = 0;
  while (next_row < schedule.rows()) {
    const double first_due = schedule.due_s(next_row);
    if (first_due >= end_s || !clock.sleep_until(first_due, stop)) return;
    const uint64_t full_row = std::min(schedule.rows(), next_row + s.workload.batch_rows) - 1;
    const double close = std::min({schedule.due_s(full_row), first_due + batch_interval_s, end_s});
    if (!clock.sleep_until(close, stop)) return;
    const uint64_t last = std::min(next_row + s.workload.batch_rows,
                                   std::max(next_row + 1, schedule.rows_due(close)));
    {
      const std::lock_guard<std::mutex> lock(out_mutex);
      ++out->batches;
      out->rows_sent += last - next_row;
    }
    pool.send(Batch{initiators[batches++ % initiators.size()], next_row, last - next_row, close});
    next_row = last;
  }
}

// A memcached connection with the scenario's distribution, or none.
class CacheClient {
 public:
  CacheClient(const scenarios::CacheConfig& config, const std::vector<Endpoint>& servers)
      : memc_(memcached_create(nullptr)) {
    for (const Endpoint& server : servers) {
      memcached_server_add_with_weight(memc_, server.host.c_str(), server.port, 1);
    }
    if (config.distribution == "ketama") {
      memcached_behavior_set(memc_, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
    } else {
      memcached_behavior_set(memc_, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_MODULA);
    }
    const auto timeout_ms = static_cast<uint64_t>(config.connect_timeout.seconds() * 1000);
    memcached_behavior_set(memc_, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, timeout_ms);
  }
  ~CacheClient() { memcached_free(memc_); }
  CacheClient(const CacheClient&) = delete;
  CacheClient& operator=(const CacheClient&) = delete;

  bool get(const std::string& key, std::string* value) {
    size_t length = 0;
    uint32_t flags = 0;
    memcached_return_t rc;
    char* found = memcached_get(memc_, key.data(), key.size(), &length, &flags, &rc);
    // An empty answer (a query with no rows) is a hit with no value bytes.
    if (found != nullptr) {
      value->assign(found, length);
      std::free(found);
    }
    return rc == MEMCACHED_SUCCESS;
  }
  void set(const std::string& key, const std::string& value, time_t ttl_s) {
    memcached_set(memc_, key.data(), key.size(), value.data(), value.size(), ttl_s, 0);
  }

 private:
  memcached_st* memc_;
};

// Template queries logged to system.query_log: one in this many.
constexpr uint64_t kLoggedQueryEvery = 8;

// Query ids are unique within the run (ClickHouse refuses a running id twice).
uint64_t next_query_id() {
  static std::atomic<uint64_t> next{0};
  return next++;
}

// One template's clients.
class TemplateClients {
 public:
  TemplateClients(const scenarios::Scenario& s, const scenarios::QueryTemplate& q,
                  const LiveTarget& target, const RowSchedule& schedule, const RunClock& clock,
                  TemplateMeasurement* out)
      : s_(s),
        q_(q),
        target_(target),
        schedule_(schedule),
        clock_(clock),
        out_(out),
        text_(q.sql),
        sampler_(schedule.generator()) {
    cached_ = s.cache && std::find(s.cache->templates.begin(), s.cache->templates.end(), q.name) !=
                             s.cache->templates.end();
    out_->cached = cached_;
  }

  // Starts the clients' connections; `counter` numbers clients across templates, as the
  // simulator assigns initiators.
  void start(uint64_t* counter, double end_s, const std::atomic<bool>& stop) {
    const std::vector<std::string> initiators = initiators_of(s_);
    for (int c = 0; c < q_.clients; ++c) {
      auto client = std::make_unique<Client>();
      client->initiator = initiators[(*counter)++ % initiators.size()];
      client->arrivals.seed(s_.run.seed * 1'000'003 + std::hash<std::string>{}(q_.name) + c);
      const double mean_gap_s = q_.rate_per_s > 0 ? q_.clients / q_.rate_per_s : 0;
      // Every connection's parameter seed is drawn before any connection starts drawing
      // arrivals from the same stream.
      std::vector<uint64_t> seeds;
      for (int k = 0; k < q_.concurrency; ++k) {
        seeds.push_back(client->arrivals() ^ (uint64_t{0x9e3779b97f4a7c15} * (k + 1)));
      }
      for (const uint64_t seed : seeds) {
        threads_.emplace_back([this, cl = client.get(), mean_gap_s, end_s, &stop, seed] {
          connection(*cl, mean_gap_s, end_s, stop, seed);
        });
      }
      clients_.push_back(std::move(client));
    }
  }
  void join() {
    for (std::thread& t : threads_) t.join();
  }

 private:
  struct Client {
    std::string initiator;
    std::mutex mutex;
    std::mt19937_64 arrivals;  // the client's Poisson stream, shared by its connections
    double next_arrival_s = 0;
  };

  // The next arrival of an open client, claimed by one of its connections.
  double claim_arrival(Client& client, double mean_gap_s) {
    const std::lock_guard<std::mutex> lock(client.mutex);
    std::exponential_distribution<double> gap(1.0 / mean_gap_s);
    client.next_arrival_s += gap(client.arrivals);
    return client.next_arrival_s;
  }

  void connection(Client& client, double mean_gap_s, double end_s, const std::atomic<bool>& stop,
                  uint64_t seed) {
    ClickHouseClient clickhouse(target_.clickhouse.at(client.initiator), kRequestTimeout,
                                target_.tables.database);
    std::unique_ptr<CacheClient> cache;
    if (cached_) cache = std::make_unique<CacheClient>(*s_.cache, target_.memcached);
    std::mt19937_64 rng(seed);
    for (;;) {
      double arrival_s = clock_.now_s();
      if (mean_gap_s > 0) {
        arrival_s = claim_arrival(client, mean_gap_s);
        if (arrival_s >= end_s || !clock_.sleep_until(arrival_s, stop)) return;
      } else if (arrival_s >= end_s || stop.load() || interrupted()) {
        return;
      }
      const bool ok = execute(clickhouse, cache.get(), rng);
      const double done_s = clock_.now_s();
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (ok) {
          out_->latency.record(ns_between(arrival_s, done_s));
        } else {
          ++out_->errors;
        }
      }
      if (mean_gap_s == 0 && q_.think_time.ns() > 0) {
        std::exponential_distribution<double> think(1.0 / q_.think_time.seconds());
        if (!clock_.sleep_until(clock_.now_s() + think(rng), stop)) return;
      }
    }
  }

  bool execute(ClickHouseClient& clickhouse, CacheClient* cache, std::mt19937_64& rng) {
    const int64_t now_s = schedule_.data_clock_s(clock_.now_s());
    workloads::ParameterValues values;
    if (!text_.parameters().empty()) {
      const uint64_t bits[4] = {rng(), rng(), rng(), rng()};
      values = sampler_.draw(bits);
    }
    const std::string sql = text_.expand(now_s, values);
    std::string key;
    if (cache) {
      key = q_.name;
      if (!text_.parameters().empty()) key += "|" + text_.parameter_key(values);
      if (text_.uses_clock()) {
        const int64_t bucket = std::max<int64_t>(1, s_.cache->clock_bucket.ns() / 1'000'000'000);
        key += fmt::format("|t={}", now_s - now_s % bucket);
      }
      // memcached keys hold no spaces or control characters and at most 250 bytes.
      std::replace(key.begin(), key.end(), ' ', '_');
      std::string answer;
      bool hit = false;
      if (key.size() <= 250) hit = cache->get(key, &answer);
      const std::lock_guard<std::mutex> lock(mutex_);
      ++out_->cache_requests;
      if (hit) {
        ++out_->cache_hits;
        return true;
      }
    }
    try {
      // One query in kLoggedQueryEvery is logged under an id of this run, so that the servers'
      // memory accounting of it and of its shards' subqueries can be read back
      // (query_id_prefix()); logging them all would load the servers with query_log's writes.
      const uint64_t id = next_query_id();
      Settings logged;
      if (id % kLoggedQueryEvery == 0) {
        logged = {{"log_queries", "1"},
                  {"query_id", fmt::format("{}{}", query_id_prefix(target_.tables), id)}};
      }
      const std::string answer = clickhouse.query(sql, logged);
      if (cache && key.size() <= 250) {
        cache->set(key, answer, static_cast<time_t>(s_.cache->ttl.seconds()));
      }
      return true;
    } catch (const ClickHouseError&) {
      return false;
    }
  }

  const scenarios::Scenario& s_;
  const scenarios::QueryTemplate& q_;
  const LiveTarget& target_;
  const RowSchedule& schedule_;
  const RunClock& clock_;
  TemplateMeasurement* out_;
  workloads::QueryTemplateText text_;
  workloads::ParameterSampler sampler_;
  bool cached_ = false;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<std::thread> threads_;
};

// node_crash and process_restart on the loopback servers, at the scenario's instants.
void run_faults(const scenarios::Scenario& s, const LiveTarget& target, const RunClock& clock,
                const std::atomic<bool>& stop, WorkloadMeasurement* out, std::mutex& out_mutex,
                const std::function<void(const std::string&)>& log) {
  struct Step {
    double at_s;
    std::string node;
    enum Kind { kKill, kTerminate, kStart } kind;
  };
  std::vector<Step> steps;
  for (const scenarios::ScheduledFault& fault : s.faults) {
    for (const std::string& node : fault.targets) {
      steps.push_back(
          {fault.at.seconds(), node, fault.kind == "node_crash" ? Step::kKill : Step::kTerminate});
      if (fault.duration != scenarios::Duration::max()) {
        steps.push_back({(fault.at + fault.duration).seconds(), node, Step::kStart});
      }
    }
  }
  std::stable_sort(steps.begin(), steps.end(),
                   [](const Step& a, const Step& b) { return a.at_s < b.at_s; });
  for (const Step& step : steps) {
    if (!clock.sleep_until(step.at_s, stop)) return;
    const double at_s = clock.now_s();
    try {
      switch (step.kind) {
        case Step::kKill:
          target.servers->kill(step.node);
          break;
        case Step::kTerminate:
          target.servers->terminate(step.node);
          break;
        case Step::kStart:
          target.servers->start(step.node);
          break;
      }
    } catch (const std::exception& e) {
      // A server that does not come back stays down; the run goes on and says so.
      log(fmt::format("{:.1f} s: {}: {}", at_s, step.node, e.what()));
      const std::lock_guard<std::mutex> lock(out_mutex);
      out->faults.push_back({at_s, step.node, "error"});
      continue;
    }
    const char* event = step.kind == Step::kStart ? "repaired" : "failed";
    log(fmt::format("{:.1f} s: {} {}", at_s, step.node,
                    step.kind == Step::kKill        ? "killed (kill -9)"
                    : step.kind == Step::kTerminate ? "stopped (SIGTERM)"
                                                    : "started again"));
    const std::lock_guard<std::mutex> lock(out_mutex);
    out->faults.push_back({at_s, step.node, event});
  }
}

// Each server's largest replica delay, once a second.
void sample_lag(const scenarios::Scenario& s, const LiveTarget& target, const RunClock& clock,
                double end_s, const std::atomic<bool>& stop, LagSeries* out) {
  if (s.cluster.replicas < 2) return;
  std::map<std::string, std::unique_ptr<ClickHouseClient>> clients;
  for (const auto& [node, endpoint] : target.clickhouse) {
    clients[node] = std::make_unique<ClickHouseClient>(endpoint, std::chrono::milliseconds(1000));
  }
  // A replica that is read-only or lost its ZooKeeper session (after a restart, until its old
  // session expires) is not replicating: it counts as not answering.
  const std::string database = sql_quote(target.tables.database);
  const std::string sql = fmt::format(
      "SELECT (SELECT max(absolute_delay) FROM system.replicas WHERE database = {0}), "
      "(SELECT max(is_readonly OR is_session_expired) FROM system.replicas WHERE database = {0}), "
      "(SELECT sum(rows) FROM system.parts WHERE database = {0} AND active)",
      database);
  // A server that does not answer is behind by at least the time since it last answered: the
  // simulator's lag of a replica that is down.
  std::map<std::string, double> last_answer;
  for (double t = 0; t < end_s; t += 1.0) {
    if (!clock.sleep_until(t, stop)) return;
    out->time_s.push_back(t);
    for (auto& [node, client] : clients) {
      double lag = t - last_answer[node];
      double rows = std::numeric_limits<double>::quiet_NaN();
      try {
        const std::string answer = client->query(sql);
        double delay = 0;
        int inactive = 1;
        if (std::sscanf(answer.c_str(), "%lf\t%d\t%lf", &delay, &inactive, &rows) == 3 &&
            inactive == 0) {
          lag = delay;
          last_answer[node] = t;
        }
      } catch (const std::exception&) {
      }
      out->lag[node].push_back(lag);
      out->rows[node].push_back(rows);
    }
  }
}

// User + system CPU seconds process `pid` has used, from /proc/PID/stat; empty once it is gone.
std::optional<double> process_cpu_s(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) stime = std::stoull(field);
  }
  static const double ticks_per_s = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return static_cast<double>(utime + stime) / ticks_per_s;
}

// The CPU the servers used from the run's start to its end (see the file comment).
double sample_server_cpu(const LiveTarget& target, const RunClock& clock, double end_s,
                         const std::atomic<bool>& stop) {
  struct Process {
    pid_t pid = 0;
    double at_start = 0;  // its CPU when the run (or the process) started
    double last = 0;      // at its last sample
  };
  std::map<std::string, Process> current;
  double ended = 0;  // the CPU of processes that are gone, up to their last sample
  const auto sample = [&](bool run_start) {
    for (const auto& [node, endpoint] : target.clickhouse) {
      const pid_t pid = target.servers->pid(node);
      Process& p = current[node];
      if (pid != p.pid) {
        ended += p.last - p.at_start;
        p = Process{pid, 0, 0};
        // A server running when the run starts counts from here; one started during the run,
        // from its own start (its restart is part of the run).
        if (pid != 0 && run_start) p.at_start = p.last = process_cpu_s(pid).value_or(0);
      }
      if (pid != 0) p.last = process_cpu_s(pid).value_or(p.last);
    }
  };
  sample(true);
  for (double t = 1; t < end_s && clock.sleep_until(t, stop); t += 1.0) sample(false);
  sample(false);
  double total = ended;
  for (const auto& [node, p] : current) total += p.last - p.at_start;
  return total;
}

}  // namespace

std::string query_id_prefix(const LiveTables& tables) {
  return tables.database + "-" + tables.run_id + "-query-";
}

std::map<std::string, std::string> insert_settings(const scenarios::Scenario& s) {
  std::map<std::string, std::string> settings{
      {"allow_experimental_low_cardinality_type", "1"},
      {"insert_distributed_sync",
       s.cluster.insert_mode == scenarios::InsertMode::kSync ? "1" : "0"}};
  if (s.cluster.insert_quorum > 0) {
    settings["insert_quorum"] = std::to_string(s.cluster.insert_quorum);
    settings["insert_quorum_timeout"] =
        std::to_string(s.cluster.settings.insert_quorum_timeout.ns() / 1'000'000);
  }
  return settings;
}

WorkloadMeasurement play_workload(const scenarios::Scenario& s, const LiveTarget& target,
                                  const std::function<void(const std::string&)>& log) {
  WorkloadMeasurement out;
  const double end_s = s.run.duration.seconds();
  const RowSchedule schedule(s);
  std::atomic<bool> stop{false};
  std::mutex out_mutex;
  out.templates.resize(s.workload.queries.size());
  std::vector<std::unique_ptr<TemplateClients>> templates;
  const RunClock clock;
  uint64_t counter = 0;
  for (size_t i = 0; i < s.workload.queries.size(); ++i) {
    const scenarios::QueryTemplate& q = s.workload.queries[i];
    out.templates[i].name = q.name;
    out.templates[i].target_s = q.target_latency_s;
    templates.push_back(
        std::make_unique<TemplateClients>(s, q, target, schedule, clock, &out.templates[i]));
    templates.back()->start(&counter, end_s, stop);
  }
  std::thread faults;
  if (target.servers != nullptr && !s.faults.empty()) {
    faults = std::thread([&] { run_faults(s, target, clock, stop, &out, out_mutex, log); });
  }
  std::thread lag([&] { sample_lag(s, target, clock, end_s, stop, &out.lag); });
  std::thread cpu;
  if (target.servers != nullptr) {
    cpu = std::thread([&] { out.server_cpu_s = sample_server_cpu(target, clock, end_s, stop); });
  }
  std::thread progress([&] {
    for (double t = 10; t < end_s; t += 10) {
      if (!clock.sleep_until(t, stop)) return;
      const std::lock_guard<std::mutex> lock(out_mutex);
      log(fmt::format("{:.0f}/{:.0f} s: {} rows sent, {} acknowledged, {} rejected", t, end_s,
                      out.rows_sent, out.rows_acknowledged, out.rows_rejected));
    }
  });
  {
    InsertPool pool(s, target, clock, &out, out_mutex);
    run_ingest(s, schedule, clock, end_s, stop, pool, &out, out_mutex);
    clock.sleep_until(end_s, stop);
    stop = true;
    pool.finish();
  }
  for (auto& t : templates) t->join();
  if (faults.joinable()) faults.join();
  lag.join();
  if (cpu.joinable()) cpu.join();
  progress.join();
  out.run_s = std::min(end_s, clock.now_s());
  return out;
}

}  // namespace shardlab::live
