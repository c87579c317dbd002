// The cache model's replay loop on a Zipf trace, against a bare LRU (std::unordered_map plus
// std::list over bytes) written here and run on the same trace. Look-aside: a get, and on a miss
// a set. The trace is built before timing: 10M requests over 1M keys (Zipf 0.9), one value size
// per key (three quarters 50-400 bytes, a quarter 2-16 KiB), at 1M requests per second of trace
// time, against 64 MiB.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <list>
#include <random>
#include <unordered_map>
#include <vector>

#include "base/zipf_sampler.h"
#include "sim/cache/memcached_model.h"

namespace {

using shardlab::sim::cache::MemcachedConfig;
using shardlab::sim::cache::MemcachedModel;

constexpr size_t kRequests = 10'000'000;
constexpr size_t kKeys = 1'000'000;
constexpr uint64_t kMemory = uint64_t{64} << 20;
constexpr uint32_t kKeyBytes = 12;

struct Request {
  uint64_t key;
  uint32_t value_bytes;
  uint64_t time_us;
};

const std::vector<Request>& trace() {
  static const std::vector<Request> requests = [] {
    std::mt19937_64 rng(42);
    std::vector<uint32_t> sizes(kKeys);
    std::uniform_real_distribution<double> unit(0, 1);
    for (auto& size : sizes) {
      const bool small = unit(rng) < 0.75;
      const double lo = small ? 50 : 2048, hi = small ? 400 : 16384;
      size = static_cast<uint32_t>(std::exp(std::log(lo) + unit(rng) * (std::log(hi) - std::log(lo))));
    }
    const shardlab::base::ZipfSampler zipf(kKeys, 0.9);
    const auto view = zipf.view();
    std::vector<Request> out(kRequests);
    for (size_t i = 0; i < kRequests; ++i) {
      const uint64_t rank = view.sample(rng(), rng()) - 1;
      // Keys are hashes of their ranks, as a real key's hash would be.
      const uint64_t key = (rank + 1) * 0x9E3779B97F4A7C15ULL;
      out[i] = {key, sizes[rank], i};
    }
    return out;
  }();
  return requests;
}

void BM_MemcachedModel(benchmark::State& state) {
  const auto& requests = trace();
  uint64_t hits = 0;
  for (auto _ : state) {
    MemcachedConfig config;
    config.memory_bytes = kMemory;
    MemcachedModel model(config);
    hits = 0;
    for (const Request& r : requests) {
      if (model.get(r.key, r.time_us)) {
        ++hits;
      } else {
        model.set(r.key, kKeyBytes, r.value_bytes, 0, r.time_us);
      }
    }
    benchmark::DoNotOptimize(hits);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * requests.size()));
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(requests.size());
}
BENCHMARK(BM_MemcachedModel)->Unit(benchmark::kMillisecond)->Iterations(3);

// The plain LRU a cache simulator would start from: one list over all memory, by bytes.
class BareLru {
 public:
  explicit BareLru(uint64_t capacity) : capacity_(capacity) { index_.reserve(kKeys); }
  bool get(uint64_t key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    order_.splice(order_.begin(), order_, it->second);
    return true;
  }
  void set(uint64_t key, uint64_t bytes) {
    while (used_ + bytes > capacity_ && !order_.empty()) {
      used_ -= order_.back().second;
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    order_.emplace_front(key, bytes);
    index_[key] = order_.begin();
    used_ += bytes;
  }

 private:
  uint64_t capacity_;
  uint64_t used_ = 0;
  std::list<std::pair<uint64_t, uint64_t>> order_;
  std::unordered_map<uint64_t, std::list<std::pair<uint64_t, uint64_t>>::iterator> index_;
};

void BM_BareLru(benchmark::State& state) {
  const auto& requests = trace();
  uint64_t hits = 0;
  for (auto _ : state) {
    BareLru lru(kMemory);
    hits = 0;
    for (const Request& r : requests) {
      if (lru.get(r.key)) {
        ++hits;
      } else {
        lru.set(r.key, MemcachedModel::item_bytes(kKeyBytes, r.value_bytes));
      }
    }
    benchmark::DoNotOptimize(hits);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * requests.size()));
  state.counters["hit_ratio"] = static_cast<double>(hits) / static_cast<double>(requests.size());
}
BENCHMARK(BM_BareLru)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
