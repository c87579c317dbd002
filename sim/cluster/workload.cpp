#include "sim/cluster/workload.h"

#include <fmt/format.h>

#include <cmath>

#include "base/errors.h"

namespace shardlab::sim::cluster {

WorkloadDriver::WorkloadDriver(Simulation& sim, Cluster& cluster, IngestLoad ingest,
                               std::vector<QueryLoad> queries, WorkloadObserver& observer)
    : sim_(sim),
      cluster_(cluster),
      ingest_(std::move(ingest)),
      source_(ingest_.generator, cluster.schema()),
      observer_(observer),
      parameters_(source_.generator()) {
  if (ingest_.batch_rows == 0) throw InputError("ingest batch size must be at least one row");
  ingest_.rows = std::min(ingest_.rows, source_.generator().total_rows());
  uint64_t counter = 0;
  for (QueryLoad& load : queries) {
    if (load.concurrency == 0 || load.clients == 0) {
      throw InputError(
          fmt::format("query '{}': clients and concurrency must be at least 1", load.name));
    }
    std::unique_ptr<Template> t;
    try {
      workloads::QueryTemplateText text(load.sql);
      // Validated once at the data's start with the most popular values; other queries change
      // only literals.
      engine::Query::prepare(cluster_.schema(),
                             text.expand(ingest_.generator.start, workloads::ParameterValues{}));
      t = std::make_unique<Template>(std::move(load), std::move(text));
    } catch (const InputError& e) {
      throw InputError(fmt::format("query '{}': {}", load.name, e.what()));
    }
    t->clients.resize(t->load.clients);
    for (size_t c = 0; c < t->clients.size(); ++c) {
      t->clients[c].initiator = initiator_for(t->load.initiators, counter++);
      t->clients[c].parameters = sim_.stream("parameters/" + t->load.name).child(c);
    }
    templates_.push_back(std::move(t));
  }
}

size_t WorkloadDriver::initiator_for(const std::vector<size_t>& initiators,
                                     uint64_t counter) const {
  if (initiators.empty()) return counter % cluster_.node_count();
  return initiators[counter % initiators.size()];
}

uint64_t WorkloadDriver::rows_due(Time at) const {
  const auto& generator = source_.generator();
  const int64_t t = cluster_.data_clock_s(at) - cluster_.spec().epoch_s + generator.start();
  // Rows whose event second has fully begun by `at`: first_row_at(t + 1) counts seconds <= t.
  return std::min(ingest_.rows, generator.first_row_at(t + 1));
}

Time WorkloadDriver::due_at(int64_t event_time) const {
  const int64_t data_s = event_time - source_.generator().start();
  const double speed = cluster_.spec().data_seconds_per_s;
  if (speed == 1.0) return Time::zero() + Duration::seconds(data_s);
  return Time::zero() + Duration::nanoseconds(static_cast<int64_t>(
                            std::llround(static_cast<long double>(data_s) * 1e9L / speed)));
}

void WorkloadDriver::start(Time end) {
  sim_.spawn(run_ingest(end));
  for (size_t i = 0; i < templates_.size(); ++i) {
    for (size_t c = 0; c < templates_[i]->clients.size(); ++c) {
      if (templates_[i]->load.rate_per_s > 0) {
        sim_.spawn(run_open_client(i, c, end));
      } else {
        sim_.spawn(run_closed_client(i, c, end));
      }
    }
  }
}

Process WorkloadDriver::run_ingest(Time end) {
  const auto& generator = source_.generator();
  uint64_t next_row = 0;
  while (next_row < ingest_.rows) {
    // The batch opens when its first row is due...
    const Time first_due = due_at(generator.event_time_of(next_row));
    if (first_due >= end) co_return;
    if (first_due > sim_.now()) co_await sim_.sleep(first_due - sim_.now());
    // ...and closes when batch_rows rows are due or batch_interval has passed.
    const uint64_t full_row = std::min(ingest_.rows, next_row + ingest_.batch_rows) - 1;
    const Time full_at = due_at(generator.event_time_of(full_row));
    const Time close = std::min({full_at, first_due + ingest_.batch_interval, end});
    if (close > sim_.now()) co_await sim_.sleep(close - sim_.now());
    const uint64_t last = std::min(next_row + ingest_.batch_rows, std::max(next_row + 1, rows_due(close)));
    sim_.spawn(run_insert(initiator_for(ingest_.initiators, batches_sent_++), next_row,
                          last - next_row));
    next_row = last;
  }
}

Process WorkloadDriver::run_insert(size_t initiator, uint64_t first_row, uint64_t rows) {
  engine::Block block;
  source_.fill(first_row, static_cast<size_t>(rows), &block);
  // The frontend learns of the rows once they are acknowledged: it needs its own copy.
  std::shared_ptr<const engine::Block> copy;
  if (frontend_ != nullptr) copy = std::make_shared<const engine::Block>(block);
  const Time started = sim_.now();
  bool ok = true;
  try {
    co_await cluster_.insert(initiator, std::move(block));
  } catch (const SimFault&) {
    ok = false;
  }
  if (ok && frontend_ != nullptr) frontend_->insert_acknowledged(initiator, std::move(copy));
  observer_.insert_done(sim_.now(), rows, sim_.now() - started, ok);
}

QueryRequest WorkloadDriver::make_request(size_t index, size_t initiator, std::string key,
                                          std::string sql) {
  Template& t = *templates_[index];
  if (!t.cached || sql != t.cached_sql) {
    t.cached = engine::Query::prepare(cluster_.schema(), sql);
    t.cached_sql = sql;
    t.shards.reset();
  }
  // The shards to visit change when the cluster grows.
  if (!t.shards || t.shards->size() != cluster_.shards()) {
    t.shards = std::make_shared<const std::vector<bool>>(cluster_.shards_to_visit(t.cached_sql));
  }
  return QueryRequest{.template_index = index,
                      .initiator = initiator,
                      .key = std::move(key),
                      .values = {},
                      .parameters = 0,
                      .sql = std::move(sql),
                      .query = t.cached,
                      .shards = t.shards};
}

QueryRequest WorkloadDriver::next_request(size_t index, size_t initiator, RandomStream& rng) {
  const Template& t = *templates_[index];
  const int64_t now_s = cluster_.data_clock_s(sim_.now());
  workloads::ParameterValues values;
  if (!t.text.parameters().empty()) {
    const uint64_t bits[4] = {rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()};
    values = parameters_.draw(bits);
  }
  std::string key = t.load.name;
  if (!t.text.parameters().empty()) key += "|" + t.text.parameter_key(values);
  if (t.text.uses_clock()) {
    key += fmt::format("|t={}", now_s - (now_s % clock_bucket_s_ + clock_bucket_s_) % clock_bucket_s_);
  }
  QueryRequest request =
      make_request(index, initiator, std::move(key), t.text.expand(now_s, values));
  request.values = values;
  for (const workloads::QueryParameter parameter : t.text.parameters()) {
    request.parameters |= static_cast<uint8_t>(1u << static_cast<unsigned>(parameter));
  }
  return request;
}

Process WorkloadDriver::run_open_client(size_t index, size_t client, Time end) {
  Template& t = *templates_[index];
  RandomStream rng = sim_.stream("queries/" + t.load.name).child(client);
  const double mean_gap_s = static_cast<double>(t.clients.size()) / t.load.rate_per_s;
  for (;;) {
    const Duration gap = Duration::from_seconds(rng.exponential(mean_gap_s));
    if (sim_.now() + gap >= end) co_return;
    co_await sim_.sleep(gap);
    if (t.stopped) co_return;
    sim_.spawn(run_query(index, client, nullptr));
  }
}

Process WorkloadDriver::run_closed_client(size_t index, size_t client, Time end) {
  const Template& t = *templates_[index];
  RandomStream rng = sim_.stream("think/" + t.load.name).child(client);
  while (sim_.now() < end && !t.stopped) {
    bool done = false;
    co_await sim_.spawn(run_query(index, client, &done));
    // A query that fails at once (the initiator is down) must not spin: wait a little.
    if (!done) co_await sim_.sleep(Duration::milliseconds(100));
    if (t.load.think_time > Duration()) {
      co_await sim_.sleep(Duration::from_seconds(rng.exponential(t.load.think_time.seconds())));
    }
  }
}

Process WorkloadDriver::run_query(size_t index, size_t client_index, bool* done) {
  Template& t = *templates_[index];
  Client& client = t.clients[client_index];
  const Time arrival = sim_.now();
  if (client.busy >= t.load.concurrency) {
    Future turn = sim_.make_future();
    client.waiting.push_back(turn);
    co_await turn;  // the slot is handed over with busy unchanged
  } else {
    ++client.busy;
  }
  QueryRequest request = next_request(index, client.initiator, client.parameters);
  const auto second = static_cast<size_t>(sim_.now().ns() / 1'000'000'000);
  if (queries_sent_per_s_.size() <= second) queries_sent_per_s_.resize(second + 1, 0);
  ++queries_sent_per_s_[second];
  QueryAnswer answer;
  bool ok = true;
  try {
    if (frontend_ != nullptr) {
      co_await sim_.spawn(frontend_->serve(std::move(request)));
    } else {
      co_await cluster_.query(client.initiator, *request.query, &answer, request.shards.get());
    }
  } catch (const SimFault&) {
    ok = false;
  }
  if (!client.waiting.empty()) {
    const Future next = client.waiting.front();
    client.waiting.erase(client.waiting.begin());
    next.resolve();
  } else {
    --client.busy;
  }
  if (done) *done = ok;
  observer_.query_done(sim_.now(), index, sim_.now() - arrival, ok);
}

}  // namespace shardlab::sim::cluster
