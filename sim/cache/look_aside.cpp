#include "sim/cache/look_aside.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "base/errors.h"

namespace shardlab::sim::cache {

namespace {

constexpr size_t kAccessBins = 10;
// The computation time of a lease's placeholder entry, which holds no answer yet.
constexpr Time kNoValue = Time::max();

// The bytes a client would cache for an answer: every value in a compact binary form (strings
// with a length byte), plus a little framing per column.
uint32_t answer_bytes(const engine::QueryResult& result) {
  uint64_t bytes = 0;
  for (size_t c = 0; c < result.columns.size(); ++c) {
    const engine::Column& column = result.columns[c];
    bytes += 16 + result.names[c].size();
    if (column.type.id == engine::TypeId::kLowCardinality) {
      for (size_t row = 0; row < column.rows; ++row) bytes += column.string_at(row).size() + 1;
    } else {
      bytes += column.data.size() + column.chars.size() + column.offsets.size();
    }
  }
  return static_cast<uint32_t>(std::min<uint64_t>(bytes, std::numeric_limits<uint32_t>::max()));
}

}  // namespace

const char* sync_strategy_name(SyncStrategy strategy) {
  switch (strategy) {
    case SyncStrategy::kTtl:
      return "ttl";
    case SyncStrategy::kAccess:
      return "access";
    case SyncStrategy::kChange:
      return "change";
  }
  return "?";
}

const char* change_delivery_name(ChangeDelivery delivery) {
  switch (delivery) {
    case ChangeDelivery::kClient:
      return "client";
    case ChangeDelivery::kServer:
      return "server";
    case ChangeDelivery::kMiddleware:
      return "middleware";
  }
  return "?";
}

LookAsideCache::LookAsideCache(Simulation& sim, Network& network, cluster::Cluster& cluster,
                               cluster::WorkloadDriver& driver, CacheTier& tier,
                               LookAsideConfig config)
    : sim_(sim),
      network_(network),
      cluster_(cluster),
      tier_(tier),
      config_(std::move(config)),
      stats_(driver.templates()) {
  config_.cached.resize(driver.templates(), false);
  const bool changes = config_.strategy == SyncStrategy::kChange;
  if (changes && config_.delivery == ChangeDelivery::kMiddleware) {
    const std::optional<HostId> broker = network_.find_host(config_.broker_host);
    if (!broker) {
      throw InputError(fmt::format("the change log's host '{}' is not a host", config_.broker_host));
    }
    broker_ = *broker;
    log_.resize(std::max<uint32_t>(1, config_.partitions));
  }
  if (changes && config_.delivery != ChangeDelivery::kClient) {
    cluster_.set_commit_listener([this](size_t shard, size_t node, const engine::Block& rows) {
      auto copy = std::make_shared<const engine::Block>(rows);
      if (config_.delivery == ChangeDelivery::kServer) {
        // The committing replica's node sends the invalidations itself, at once.
        sim_.spawn(deliver(keys_affected(*copy, sim_.now()), cluster_.host(node)));
      } else {
        sim_.spawn(publish(shard, node, std::move(copy)));
      }
    });
  }
}

void LookAsideCache::start(Time end) {
  const bool refreshes = config_.strategy == SyncStrategy::kAccess ||
                         (config_.strategy == SyncStrategy::kTtl &&
                          config_.refresh_interval > Duration());
  if (refreshes) sim_.spawn(refresher(end));
  for (uint32_t partition = 0; partition < log_.size(); ++partition) {
    sim_.spawn(run_consumer(partition, end));
  }
}

void LookAsideCache::bump(std::vector<uint64_t>& bins, size_t bin) {
  if (bins.size() <= bin) bins.resize(bin + 1, 0);
  ++bins[bin];
}

void LookAsideCache::count_cluster_query(size_t template_index) {
  const auto second = static_cast<size_t>(sim_.now().ns() / 1'000'000'000);
  for (std::vector<uint32_t>* per_s :
       {&cluster_per_s_, &stats_[template_index].cluster_queries_per_s}) {
    if (per_s->size() <= second) per_s->resize(second + 1, 0);
    ++(*per_s)[second];
  }
}

Duration LookAsideCache::access_bin_width() const {
  return Duration::nanoseconds(
      std::max<int64_t>(1, config_.access_window.ns() / static_cast<int64_t>(kAccessBins)));
}

void LookAsideCache::note_access(const std::string& key) {
  const Duration width = access_bin_width();
  if (access_bins_.empty()) {
    access_bins_.emplace_back();
    access_bin_start_ = sim_.now();
  }
  while (sim_.now() >= access_bin_start_ + width) {
    access_bins_.emplace_back();
    access_bin_start_ = access_bin_start_ + width;
    if (access_bins_.size() > kAccessBins) access_bins_.pop_front();
  }
  ++access_bins_.back()[key];
}

std::shared_ptr<const AnswerPredicate> LookAsideCache::predicate_for(
    const cluster::QueryRequest& request) {
  auto [it, inserted] = predicates_.try_emplace(request.sql);
  if (inserted) it->second = std::make_shared<const AnswerPredicate>(cluster_.schema(), request.sql);
  return it->second;
}

std::vector<std::string> LookAsideCache::keys_affected(const engine::Block& rows, Time at) {
  std::vector<std::string> keys;
  for (auto& [key, entry] : entries_) {
    if (entry.computed_at > at) continue;
    if (entry.predicate->matches_any(rows)) keys.push_back(key);
  }
  return keys;
}

void LookAsideCache::insert_acknowledged(size_t initiator,
                                         std::shared_ptr<const engine::Block> block) {
  const Time now = sim_.now();
  // Staleness, under every strategy: the answers computed before this INSERT that it affects.
  const bool deliver_here =
      config_.strategy == SyncStrategy::kChange && config_.delivery == ChangeDelivery::kClient;
  std::vector<std::string> keys;
  for (auto& [key, entry] : entries_) {
    if (entry.computed_at > now) continue;
    const bool fresh = !entry.stale_since;
    if (!fresh && !deliver_here) continue;
    if (!entry.predicate->matches_any(*block)) continue;
    if (fresh) entry.stale_since = now;
    if (deliver_here) keys.push_back(key);
  }
  // Kept only while a query that started before it runs: its answer may have missed the rows.
  if (!in_flight_.empty()) recent_changes_.push_back(Change{now, block});
  const Time oldest = in_flight_.empty() ? now : *in_flight_.begin();
  while (!recent_changes_.empty() && recent_changes_.front().acknowledged < oldest) {
    recent_changes_.pop_front();
  }
  if (!keys.empty()) sim_.spawn(deliver(std::move(keys), cluster_.host(initiator)));
}

Process LookAsideCache::deliver(std::vector<std::string> keys, HostId from) {
  if (keys.empty()) co_return;
  std::vector<Future> sent;
  for (std::string& key : keys) {
    const auto it = entries_.find(key);
    if (it == entries_.end()) continue;
    ++stats_[it->second.template_index].invalidations;
    if (config_.action == ChangeAction::kUpdate) {
      sent.push_back(sim_.spawn(recompute(std::move(key), from)));
    } else {
      CacheKey where = cache_key(key, it->second.request);
      entries_.erase(it);
      sent.push_back(sim_.spawn(tier_.remove(from, std::move(where))));
    }
  }
  co_await sim_.all_of(std::move(sent));
}

Process LookAsideCache::publish(size_t shard, size_t node,
                                std::shared_ptr<const engine::Block> rows) {
  const Time committed = sim_.now();
  try {
    co_await network_.transfer(cluster_.host(node), broker_,
                               static_cast<double>(rows->rows() * config_.change_record_bytes));
  } catch (const SimFault&) {
    co_return;  // the producer could not reach the broker: the change is lost to the cache
  }
  log_[shard % log_.size()].push_back(Change{committed, std::move(rows)});
}

Process LookAsideCache::run_consumer(uint32_t partition, Time end) {
  std::deque<Change>& log = log_[partition];
  while (sim_.now() < end) {
    co_await sim_.sleep(config_.batch_interval);
    // The consumer runs `consumer_lag` behind the log's head.
    std::vector<std::string> keys;
    bool any = false;
    while (!log.empty() && log.front().acknowledged + config_.consumer_lag <= sim_.now()) {
      any = true;
      max_change_delay_ = std::max(max_change_delay_, sim_.now() - log.front().acknowledged);
      for (std::string& key : keys_affected(*log.front().rows, log.front().acknowledged)) {
        keys.push_back(std::move(key));
      }
      log.pop_front();
    }
    if (!any) continue;
    ++change_batches_;
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    co_await sim_.spawn(deliver(std::move(keys), broker_));
  }
}

Process LookAsideCache::run_on_cluster(cluster::QueryRequest request, bool* ok) {
  count_cluster_query(request.template_index);
  ++stats_[request.template_index].cluster_queries;
  cluster::QueryAnswer answer;
  const Time started = sim_.now();
  const auto running = in_flight_.insert(started);
  try {
    co_await cluster_.query(request.initiator, *request.query, &answer, request.shards.get());
  } catch (const SimFault&) {
    in_flight_.erase(running);
    throw;
  }
  in_flight_.erase(running);
  *ok = true;
  Entry entry;
  entry.template_index = request.template_index;
  entry.predicate = predicate_for(request);
  entry.computed_at = started;
  entry.value_bytes = answer_bytes(answer.result);
  // An INSERT acknowledged while the query ran, that the answer may have missed.
  for (const Change& change : recent_changes_) {
    if (change.acknowledged >= started && entry.predicate->matches_any(*change.rows)) {
      entry.stale_since = change.acknowledged;
      break;
    }
  }
  const std::string key = request.key;
  entry.request = std::move(request);
  entries_[key] = std::move(entry);
}

Process LookAsideCache::recompute(std::string key, HostId client) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) co_return;
  cluster::QueryRequest request = it->second.request;
  bool ok = false;
  try {
    co_await sim_.spawn(run_on_cluster(std::move(request), &ok));
  } catch (const SimFault&) {
    co_return;  // the cached answer stays as it was
  }
  const auto stored = entries_.find(key);
  if (stored == entries_.end()) co_return;
  co_await sim_.spawn(tier_.set(client, cache_key(key, stored->second.request),
                                stored->second.value_bytes, config_.ttl_s));
}

Process LookAsideCache::read_through(cluster::QueryRequest request, HostId client) {
  TemplateCacheStats& stats = stats_[request.template_index];
  const std::string key = request.key;
  const CacheKey where = cache_key(key, request);
  const Time arrived = sim_.now();
  for (;;) {
    const auto known = entries_.find(key);
    bool hit = false;
    co_await sim_.spawn(
        tier_.get(client, where, known == entries_.end() ? 0 : known->second.value_bytes, &hit));
    const auto entry = entries_.find(key);
    // A miss. With leases, one client recomputes and the others wait for its answer, or take
    // the previous one when there is one.
    const bool lease_out = entry != entries_.end() && entry->second.computing;
    const bool has_value = entry != entries_.end() && entry->second.computed_at != kNoValue;
    const bool take_previous = !hit && config_.leases && config_.lease_stale && lease_out &&
                               has_value;
    if ((hit && entry != entries_.end()) || take_previous) {
      ++stats.hits;
      if (take_previous) ++stats.lease_stale_served;
      bump(stats.hits_per_bin, bin_of(arrived));
      if (entry->second.stale_since) {
        ++stats.stale_hits;
        stats.stale_ages_s.push_back((sim_.now() - *entry->second.stale_since).seconds());
      }
      co_return;
    }
    if (config_.leases && lease_out && sim_.now() - arrived < config_.lease_timeout) {
      ++stats.lease_waits;
      co_await sim_.sleep(config_.lease_retry);
      continue;
    }
    break;
  }
  if (config_.leases) {
    // The lease lives on a placeholder entry until the answer replaces it.
    Entry& holder = entries_[key];
    if (!holder.predicate) {
      holder.template_index = request.template_index;
      holder.predicate = predicate_for(request);
      holder.computed_at = kNoValue;  // never served: no value yet
      holder.request = request;
    }
    holder.computing = true;
  }
  bool ok = false;
  try {
    co_await sim_.spawn(run_on_cluster(std::move(request), &ok));
  } catch (const SimFault&) {
    if (const auto it = entries_.find(key); it != entries_.end()) it->second.computing = false;
    throw;
  }
  const auto stored = entries_.find(key);
  if (stored == entries_.end()) co_return;
  co_await sim_.spawn(tier_.set(client, where, stored->second.value_bytes, config_.ttl_s));
}

Process LookAsideCache::serve(cluster::QueryRequest request) {
  if (!config_.cached[request.template_index]) {
    count_cluster_query(request.template_index);
    cluster::QueryAnswer answer;
    co_await cluster_.query(request.initiator, *request.query, &answer, request.shards.get());
    co_return;
  }
  TemplateCacheStats& stats = stats_[request.template_index];
  ++stats.requests;
  bump(stats.requests_per_bin, bin_of(sim_.now()));
  note_access(request.key);
  const HostId client = cluster_.host(request.initiator);
  co_await sim_.spawn(read_through(std::move(request), client));
}

Process LookAsideCache::refresher(Time end) {
  for (;;) {
    if (sim_.now() + config_.refresh_interval >= end) co_return;
    co_await sim_.sleep(config_.refresh_interval);
    // The hot set: the most requested keys over the window (for ttl, over the bins that cover
    // the last interval).
    std::unordered_map<std::string, uint64_t> counts;
    const auto interval_bins = static_cast<size_t>(
        (config_.refresh_interval.ns() + access_bin_width().ns() - 1) / access_bin_width().ns());
    const size_t bins =
        config_.strategy == SyncStrategy::kAccess ? access_bins_.size() : interval_bins;
    for (size_t b = access_bins_.size() - std::min(bins, access_bins_.size());
         b < access_bins_.size(); ++b) {
      for (const auto& [key, count] : access_bins_[b]) counts[key] += count;
    }
    std::vector<std::pair<uint64_t, std::string>> ranked;
    ranked.reserve(counts.size());
    for (auto& [key, count] : counts) ranked.emplace_back(count, key);
    const size_t top = std::min(config_.refresh_keys, ranked.size());
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(top), ranked.end(),
                      [](const auto& a, const auto& b) {
                        return a.first != b.first ? a.first > b.first : a.second < b.second;
                      });
    std::vector<Future> refreshes;
    for (size_t idx = 0; idx < top; ++idx) {
      const auto it = entries_.find(ranked[idx].second);
      if (it == entries_.end()) continue;
      ++stats_[it->second.template_index].refreshes;
      refreshes.push_back(sim_.spawn(
          recompute(ranked[idx].second, cluster_.host(it->second.request.initiator))));
    }
    co_await sim_.all_of(std::move(refreshes));
  }
}

}  // namespace shardlab::sim::cache
