#include "sim/cluster/workload.h"

#include <fmt/format.h>

#include <charconv>

#include "shardlab/engine/date_time.h"
#include "base/errors.h"

namespace shardlab::sim::cluster {

namespace {

// "{now-7d}" -> seconds to subtract; throws for anything else.
int64_t parse_offset(std::string_view spec, std::string_view placeholder) {
  if (spec.empty()) return 0;
  if (spec.front() != '-') {
    throw InputError(fmt::format("placeholder {{{}}}: expected '-N' and a unit after the name",
                                 placeholder));
  }
  spec.remove_prefix(1);
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), n);
  const std::string_view unit(end, static_cast<size_t>(spec.data() + spec.size() - end));
  if (ec != std::errc() || n < 0) {
    throw InputError(fmt::format("placeholder {{{}}}: expected a whole number of units", placeholder));
  }
  if (unit == "s") return n;
  if (unit == "min") return n * 60;
  if (unit == "h") return n * 3600;
  if (unit == "d") return n * 86400;
  throw InputError(fmt::format("placeholder {{{}}}: unknown unit '{}' (expected s, min, h or d)",
                               placeholder, unit));
}

}  // namespace

std::string expand_time_placeholders(const std::string& sql, int64_t now_s) {
  const int64_t minute = now_s - (now_s % 60 + 60) % 60;
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t open = sql.find('{', pos);
    if (open == std::string::npos) break;
    const size_t close = sql.find('}', open);
    if (close == std::string::npos) {
      throw InputError(fmt::format("unclosed '{{' at position {} of the query", open + 1));
    }
    out.append(sql, pos, open - pos);
    const std::string_view inner(sql.data() + open + 1, close - open - 1);
    if (inner.starts_with("now")) {
      out += "'" + dt::date_time_to_string(minute - parse_offset(inner.substr(3), inner)) + "'";
    } else if (inner.starts_with("today")) {
      const int64_t t = minute - parse_offset(inner.substr(5), inner);
      out += "'" + dt::date_to_string(dt::day_of(t)) + "'";
    } else {
      throw InputError(fmt::format("unknown placeholder {{{}}} (expected {{now}}, {{now-7d}}, "
                                   "{{today}} or {{today-1d}})",
                                   inner));
    }
    pos = close + 1;
  }
  out.append(sql, pos, std::string::npos);
  return out;
}

WorkloadDriver::WorkloadDriver(Simulation& sim, Cluster& cluster, IngestLoad ingest,
                               std::vector<QueryLoad> queries, WorkloadObserver& observer)
    : sim_(sim),
      cluster_(cluster),
      ingest_(std::move(ingest)),
      source_(ingest_.generator, cluster.schema()),
      observer_(observer) {
  if (ingest_.batch_rows == 0) throw InputError("ingest batch size must be at least one row");
  ingest_.rows = std::min(ingest_.rows, source_.generator().total_rows());
  uint64_t counter = 0;
  for (QueryLoad& load : queries) {
    auto t = std::make_unique<Template>();
    t->load = std::move(load);
    if (t->load.concurrency == 0 || t->load.clients == 0) {
      throw InputError(
          fmt::format("query '{}': clients and concurrency must be at least 1", t->load.name));
    }
    try {
      // Validated once at the data's start; other times change only literals.
      engine::Query::prepare(cluster_.schema(),
                             expand_time_placeholders(t->load.sql, ingest_.generator.start));
    } catch (const InputError& e) {
      throw InputError(fmt::format("query '{}': {}", t->load.name, e.what()));
    }
    t->clients.resize(t->load.clients);
    for (Client& client : t->clients) {
      client.initiator = initiator_for(t->load.initiators, counter++);
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
  const int64_t t = generator.start() + at.ns() / 1'000'000'000;
  // Rows whose event second has fully begun by `at`: first_row_at(t + 1) counts seconds <= t.
  return std::min(ingest_.rows, generator.first_row_at(t + 1));
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
    const Time first_due =
        Time::zero() + Duration::seconds(generator.event_time_of(next_row) - generator.start());
    if (first_due >= end) co_return;
    if (first_due > sim_.now()) co_await sim_.sleep(first_due - sim_.now());
    // ...and closes when batch_rows rows are due or batch_interval has passed.
    const uint64_t full_row = std::min(ingest_.rows, next_row + ingest_.batch_rows) - 1;
    const Time full_at =
        Time::zero() + Duration::seconds(generator.event_time_of(full_row) - generator.start());
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
  const Time started = sim_.now();
  bool ok = true;
  try {
    co_await cluster_.insert(initiator, std::move(block));
  } catch (const SimFault&) {
    ok = false;
  }
  observer_.insert_done(sim_.now(), rows, sim_.now() - started, ok);
}

std::shared_ptr<const engine::Query> WorkloadDriver::prepare(Template& t) {
  const int64_t now_s = cluster_.spec().epoch_s + sim_.now().ns() / 1'000'000'000;
  std::string sql = expand_time_placeholders(t.load.sql, now_s);
  if (!t.cached || sql != t.cached_sql) {
    t.cached = engine::Query::prepare(cluster_.schema(), sql);
    t.cached_sql = std::move(sql);
    t.shards.reset();
  }
  // The shards to visit change when the cluster grows.
  if (!t.shards || t.shards->size() != cluster_.shards()) {
    t.shards = std::make_shared<const std::vector<bool>>(cluster_.shards_to_visit(t.cached_sql));
  }
  return t.cached;
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
  const std::shared_ptr<const engine::Query> query = prepare(t);
  const std::shared_ptr<const std::vector<bool>> shards = t.shards;
  QueryAnswer answer;
  bool ok = true;
  try {
    co_await cluster_.query(client.initiator, *query, &answer, shards.get());
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
