#include "experiment/cache_replay.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <memory>
#include <queue>
#include <unordered_map>
#include <vector>

#include "base/atomic_file.h"
#include "base/errors.h"
#include "experiment/cache_replay_nodes.h"
#include "experiment/cache_trace.h"
#include "sim/cache/byte_lru.h"
#include "sim/cache/key_distribution.h"

namespace shardlab::experiment {

namespace {

using cache_replay::Node;
using cache_replay::NodeTotals;
using cache_replay::ratio;
using cache_replay::slab_classes;
using sim::cache::ByteLru;
using sim::cache::CacheServer;
using sim::cache::KeyDistribution;
using sim::cache::KeyRouter;
using sim::cache::MemcachedModel;

// Gets and hits over a span of the trace, for the hit ratio around a node change.
struct Window {
  uint64_t gets = 0;
  uint64_t hits = 0;
};

struct NodeChange {
  bool removes = false;  // a node leaves; otherwise one joins
  double at_s = 0;
  uint64_t keys_known = 0;
  uint64_t keys_moved = 0;  // ketama/modula: now on another node; round robin: lost
  Window before;
  Window after;
  bool done = false;
};

NodeChange change(bool removes, double at_s) {
  NodeChange out;
  out.removes = removes;
  out.at_s = at_s;
  return out;
}

class Replayer {
 public:
  explicit Replayer(const CacheReplayOptions& options) : options_(options) {
    if (options_.nodes == 0) throw InputError("--nodes must be at least 1");
    for (size_t i = 0; i < options_.nodes; ++i) nodes_.push_back(make_node());
    if (options_.remove_node_at_s) changes_.push_back(change(true, *options_.remove_node_at_s));
    if (options_.add_node_at_s) changes_.push_back(change(false, *options_.add_node_at_s));
    if (options_.remove_node_at_s && options_.nodes < 2) {
      throw InputError("--remove-node-at needs at least 2 nodes");
    }
    track_keys_ = nodes_.size() > 1 || !changes_.empty();
    rebuild_router();
    if (options_.gutter_memory_bytes > 0) {
      if (round_robin()) throw InputError("--gutter-memory needs ketama or modula");
      sim::cache::MemcachedConfig gutter = options_.server;
      gutter.memory_bytes = options_.gutter_memory_bytes;
      gutter.validate();
      gutter_ = std::make_unique<Node>();
      if (options_.policy == CachePolicy::kMemcached) {
        gutter_->memcached = std::make_unique<MemcachedModel>(gutter);
      } else {
        gutter_->lru = std::make_unique<ByteLru>(gutter.memory_bytes);
      }
    }
  }

  void play(const CacheRequest& r) {
    for (NodeChange& change : changes_) {
      if (!change.done && r.time_s >= change.at_s) apply(change);
    }
    finish_queries(r.time_s);
    close_seconds_before(r.time_s);
    const auto now_us = static_cast<uint64_t>(std::min(r.time_s, 4.0e9) * 1e6);
    const uint64_t key = XXH3_64bits(r.key.data(), r.key.size());
    ++requests_;
    switch (r.op) {
      case CacheOp::kGet:
      case CacheOp::kRead: read(key, r, now_us); break;
      case CacheOp::kSet:
      case CacheOp::kAdd: write(key, r, now_us, r.op == CacheOp::kAdd); break;
      case CacheOp::kDelete:
        ++deletes_;
        for_each_holder(key, r.key, [&](Node& node) { node.remove(key, now_us); });
        if (round_robin()) directory_.erase(key);
        break;
      case CacheOp::kTouch:
        for_each_holder(key, r.key, [&](Node& node) { node.touch(key, r.ttl_s, now_us); });
        break;
    }
    last_time_s_ = r.time_s;
  }

  // Lets the queries still running finish, and closes the last second of the series.
  void drain() {
    finish_queries(1e300);
    if (!series_.empty()) series_.back().evictions = evictions_total() - evictions_closed_;
  }

  // second,gets,hits,hit_ratio,backend_queries,evictions, one line per second of the trace.
  std::string series_csv() const {
    std::string out = "second,gets,hits,hit_ratio,backend_queries,evictions\n";
    for (size_t second = 0; second < series_.size(); ++second) {
      const SecondRow& row = series_[second];
      const uint64_t queries = second < queries_per_second_.size() ? queries_per_second_[second] : 0;
      out += fmt::format("{},{},{},{:.6f},{},{}\n", second, row.gets, row.hits,
                         ratio(row.hits, row.gets), queries, row.evictions);
    }
    return out;
  }

  nlohmann::json report() const;

 private:
  bool round_robin() const { return options_.distribution == CacheDistribution::kRoundRobin; }
  KeyDistribution hashing() const {
    return options_.distribution == CacheDistribution::kModula ? KeyDistribution::kModula
                                                               : KeyDistribution::kKetama;
  }

  std::unique_ptr<Node> make_node() const {
    auto node = std::make_unique<Node>();
    if (options_.policy == CachePolicy::kMemcached) {
      node->memcached = std::make_unique<MemcachedModel>(options_.server);
    } else {
      node->lru = std::make_unique<ByteLru>(options_.server.memory_bytes);
    }
    return node;
  }

  void rebuild_router() {
    if (round_robin()) return;
    std::vector<CacheServer> servers;
    // Node i is 10.0.0.(i+1) on memcached's port: names the ring hashes, as a client would.
    for (size_t i = 0; i < nodes_.size(); ++i) servers.push_back({fmt::format("10.0.0.{}", i + 1)});
    router_ = std::make_unique<KeyRouter>(hashing(), std::move(servers));
  }

  // The node a hashed key lives on; remembers the key's hash for later node changes.
  size_t place(uint64_t key, std::string_view text) {
    if (!track_keys_) return 0;
    auto [it, fresh] = key_hash_.try_emplace(key, 0);
    if (fresh) it->second = KeyRouter::key_hash(hashing(), text);
    return router_->server_of_hash(it->second);
  }

  // The node a hashed key is on: its own, or the gutter pool while its own has failed.
  Node& holder(uint64_t key, std::string_view text) {
    const size_t node = place(key, text);
    return node == failed_node_ ? *gutter_ : *nodes_[node];
  }

  template <typename F>
  void for_each_holder(uint64_t key, std::string_view text, F&& f) {
    if (!round_robin()) {
      f(holder(key, text));
    } else if (options_.round_robin_lookup == RoundRobinLookup::kFanout) {
      for (auto& node : nodes_) f(*node);
    } else if (const auto it = directory_.find(key); it != directory_.end()) {
      f(*nodes_[it->second]);
    }
  }

  void read(uint64_t key, const CacheRequest& r, uint64_t now_us) {
    ++gets_;
    bool hit = false;
    for_each_holder(key, r.key, [&](Node& node) { hit = node.get(key, now_us) || hit; });
    hits_ += hit;
    SecondRow& row = second_row(r.time_s);
    ++row.gets;
    row.hits += hit;
    for (NodeChange& change : changes_) {
      Window& w = change.done ? change.after : change.before;
      if (change.done ? r.time_s < change.at_s + options_.storm_window_s
                      : r.time_s >= change.at_s - options_.storm_window_s) {
        ++w.gets;
        w.hits += hit;
      }
    }
    if (!hit && r.op == CacheOp::kGet) query_backend(key, r, now_us);
  }

  // A missed look-aside get: the query runs, and its answer is set once it is done. With
  // leases, a key whose lease is held waits for that set instead of querying again.
  void query_backend(uint64_t key, const CacheRequest& r, uint64_t now_us) {
    if (options_.backend_latency_s <= 0) {
      count_query(r.time_s);
      write(key, r, now_us, false);
      return;
    }
    if (options_.leases) {
      auto [lease, fresh] = lease_until_.try_emplace(key, 0.0);
      if (!fresh && lease->second > r.time_s) {
        ++lease_waits_;
        return;
      }
      lease->second = r.time_s + options_.backend_latency_s;
    }
    count_query(r.time_s);
    running_.push({r.time_s + options_.backend_latency_s, std::string(r.key), r.value_bytes,
                   r.ttl_s});
  }

  // Sets the answers of the queries done by `time_s`, in the order they finished.
  void finish_queries(double time_s) {
    while (!running_.empty() && running_.top().done_s <= time_s) {
      const RunningQuery& q = running_.top();
      CacheRequest answer;
      answer.time_s = q.done_s;
      answer.op = CacheOp::kSet;
      answer.key = q.key;
      answer.value_bytes = q.value_bytes;
      answer.ttl_s = q.ttl_s;
      const uint64_t key = XXH3_64bits(q.key.data(), q.key.size());
      write(key, answer, static_cast<uint64_t>(std::min(q.done_s, 4.0e9) * 1e6), false);
      if (options_.leases) lease_until_.erase(key);
      running_.pop();
    }
  }

  // The series' row of the second `time_s` falls in.
  struct SecondRow {
    uint64_t gets = 0;
    uint64_t hits = 0;
    uint64_t evictions = 0;
  };
  SecondRow& second_row(double time_s) {
    const auto second = static_cast<size_t>(time_s);
    if (series_.size() <= second) series_.resize(second + 1);
    return series_[second];
  }

  // Evictions are read from the servers' counters as each second of the trace ends.
  void close_seconds_before(double time_s) {
    const auto second = static_cast<size_t>(time_s);
    if (series_.empty() || second < series_.size()) return;
    const uint64_t total = evictions_total();
    series_.back().evictions = total - evictions_closed_;
    evictions_closed_ = total;
    second_row(time_s);
  }

  uint64_t evictions_total() const {
    uint64_t total = 0;
    const auto add = [&](const Node& node) {
      total += node.memcached ? node.memcached->stats().evictions : node.lru->evictions();
    };
    for (const auto& node : nodes_) add(*node);
    for (const auto& node : removed_) add(*node);
    if (gutter_) add(*gutter_);
    return total;
  }

  void count_query(double time_s) {
    ++backend_queries_;
    const auto second = static_cast<size_t>(time_s);
    if (queries_per_second_.size() <= second) queries_per_second_.resize(second + 1, 0);
    ++queries_per_second_[second];
  }

  void write(uint64_t key, const CacheRequest& r, uint64_t now_us, bool add_only) {
    ++writes_;
    if (!round_robin()) {
      Node& node = holder(key, r.key);
      if (&node == gutter_.get() && (r.ttl_s == 0 || r.ttl_s > options_.gutter_ttl_s)) {
        CacheRequest short_lived = r;  // gutter entries expire soon: they may go stale
        short_lived.ttl_s = options_.gutter_ttl_s;
        node.set(key, short_lived, now_us, add_only);
      } else {
        node.set(key, r, now_us, add_only);
      }
      return;
    }
    // A key the directory knows is written where it is; a new one goes to the next node.
    size_t node = next_node_ % nodes_.size();
    if (const auto it = directory_.find(key); it != directory_.end()) {
      node = it->second;
    } else {
      ++next_node_;
    }
    if (options_.round_robin_lookup == RoundRobinLookup::kDirectory) directory_[key] = static_cast<uint32_t>(node);
    nodes_[node]->set(key, r, now_us, add_only);
  }

  void apply(NodeChange& change);

  const CacheReplayOptions& options_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Node>> removed_;  // kept for their counters
  std::unique_ptr<Node> gutter_;                // the gutter pool's server, when configured
  size_t failed_node_ = SIZE_MAX;               // with a gutter: the node that left
  std::unique_ptr<KeyRouter> router_;
  bool track_keys_ = false;
  std::unordered_map<uint64_t, uint32_t> key_hash_;   // ketama/modula: key -> its ring hash
  std::unordered_map<uint64_t, uint32_t> directory_;  // round robin: key -> node
  uint64_t next_node_ = 0;
  std::vector<NodeChange> changes_;
  uint64_t requests_ = 0;
  uint64_t gets_ = 0;
  uint64_t hits_ = 0;
  uint64_t writes_ = 0;
  uint64_t deletes_ = 0;
  double last_time_s_ = 0;
  // Queries behind misses: those running, by when they finish; held leases; per-second counts.
  struct RunningQuery {
    double done_s;
    std::string key;
    uint32_t value_bytes;
    uint32_t ttl_s;
    bool operator>(const RunningQuery& other) const { return done_s > other.done_s; }
  };
  std::priority_queue<RunningQuery, std::vector<RunningQuery>, std::greater<>> running_;
  std::unordered_map<uint64_t, double> lease_until_;
  std::vector<uint64_t> queries_per_second_;
  uint64_t backend_queries_ = 0;
  uint64_t lease_waits_ = 0;
  std::vector<SecondRow> series_;  // by second of the trace
  uint64_t evictions_closed_ = 0;  // evictions counted into closed seconds
};

void Replayer::apply(NodeChange& change) {
  change.done = true;
  std::vector<size_t> before(0);
  if (!round_robin()) {
    before.reserve(key_hash_.size());
    for (const auto& [key, hash] : key_hash_) before.push_back(router_->server_of_hash(hash));
  }
  const bool removing = change.removes;
  if (removing && gutter_) {
    // The ring stays as it is; the leaving node's keys go to the gutter.
    failed_node_ = nodes_.size() - 1;
    change.keys_known = key_hash_.size();
    for (const size_t node : before) change.keys_moved += node == failed_node_;
    return;
  }
  if (removing) {
    const size_t leaving = nodes_.size() - 1;
    removed_.push_back(std::move(nodes_.back()));
    nodes_.pop_back();
    if (round_robin()) {
      change.keys_known = directory_.size();
      for (auto it = directory_.begin(); it != directory_.end();) {
        if (it->second == leaving) {
          ++change.keys_moved;
          it = directory_.erase(it);
        } else {
          ++it;
        }
      }
    }
  } else {
    nodes_.push_back(make_node());
  }
  if (round_robin()) return;
  rebuild_router();
  change.keys_known = key_hash_.size();
  size_t i = 0;
  for (const auto& [key, hash] : key_hash_) change.keys_moved += router_->server_of_hash(hash) != before[i++];
}

nlohmann::json Replayer::report() const {
  NodeTotals totals;
  for (const auto& node : nodes_) totals.add(*node, true);
  for (const auto& node : removed_) totals.add(*node, false);
  nlohmann::json out = {
      {"policy", options_.policy == CachePolicy::kMemcached ? "memcached" : "byte_lru"},
      {"requests", requests_},
      {"gets", gets_},
      {"hits", hits_},
      {"misses", gets_ - hits_},
      {"hit_ratio", ratio(hits_, gets_)},
      {"writes", writes_},
      {"deletes", deletes_},
      {"evictions", totals.evictions},
      {"reassign_evictions", totals.reassign_evictions},
      {"expired", totals.expired},
      {"too_large", totals.too_large},
      {"pages_moved", totals.pages_moved},
      {"memory_bytes", totals.memory},
      {"duration_s", last_time_s_},
      {"slab_classes", slab_classes(totals.servers)}};
  if (totals.per_node.size() > 1 || round_robin()) {
    out["distribution"] = round_robin() ? "round_robin"
                                        : sim::cache::key_distribution_name(hashing());
    out["nodes"] = totals.per_node;
    out["node_requests_per_request"] = ratio(totals.requests, requests_);
    // Round robin: a directory read asks one node (none for a key it never saw), a fan-out read
    // asks them all.
    out["node_gets_per_read"] = ratio(totals.gets, gets_);
    if (round_robin()) {
      out["round_robin_lookup"] =
          options_.round_robin_lookup == RoundRobinLookup::kFanout ? "fanout" : "directory";
      out["directory_entries"] = directory_.size();
    }
  }
  nlohmann::json changes = nlohmann::json::array();
  for (const NodeChange& change : changes_) {
    if (!change.done) continue;
    changes.push_back({{"kind", change.removes ? "remove" : "add"},
                       {"at_s", change.at_s},
                       {"keys_known", change.keys_known},
                       {round_robin() ? "keys_lost" : gutter_ ? "keys_to_gutter" : "keys_moved",
                        change.keys_moved},
                       {"moved_share", ratio(change.keys_moved, change.keys_known)},
                       {"window_s", options_.storm_window_s},
                       {"hit_ratio_before", ratio(change.before.hits, change.before.gets)},
                       {"hit_ratio_after", ratio(change.after.hits, change.after.gets)},
                       {"misses_after", change.after.gets - change.after.hits}});
  }
  if (!changes.empty()) out["node_changes"] = changes;
  if (gutter_) {
    out["gutter"] = {{"memory_bytes", options_.gutter_memory_bytes},
                     {"ttl_s", options_.gutter_ttl_s},
                     {"requests", gutter_->requests},
                     {"gets", gutter_->gets},
                     {"hits", gutter_->hits},
                     {"hit_ratio", ratio(gutter_->hits, gutter_->gets)}};
  }
  out["backend"] = {
      {"latency_s", options_.backend_latency_s},
      {"leases", options_.leases},
      {"queries", backend_queries_},
      {"peak_queries_per_s",
       queries_per_second_.empty()
           ? 0
           : *std::max_element(queries_per_second_.begin(), queries_per_second_.end())},
      {"lease_waits", lease_waits_}};
  return out;
}

}  // namespace

nlohmann::json replay_cache_trace(const CacheReplayOptions& options) {
  if (options.policy == CachePolicy::kMemcached) options.server.validate();
  Replayer replayer(options);
  CacheTraceReader reader(options.trace_path);
  std::vector<CacheRequest> block;
  while (true) {
    reader.read(&block);
    if (block.empty()) break;
    for (const CacheRequest& request : block) replayer.play(request);
  }
  replayer.drain();
  if (!options.series_path.empty()) {
    base::write_file_atomically(options.series_path, replayer.series_csv());
  }
  return replayer.report();
}

}  // namespace shardlab::experiment
