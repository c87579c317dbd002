// The kernel's event loop on the classic hold model: `pending` events wait; each processed event
// schedules one new event at now + Exp(1 ms). Items processed = events. BM_BareHeap is the floor:
// a std::priority_queue of (time, sequence) pairs doing the same hold model with no callbacks,
// no cancellation support and no kernel around it.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <queue>
#include <utility>
#include <vector>

#include "sim/core/simulation.h"

namespace shardlab::sim {
namespace {

constexpr double kMeanHoldNs = 1e6;  // Exp(1 ms)

struct Hold {
  Simulation* sim;
  RandomStream* rng;
};

void hold_event(Hold* hold) {
  const auto delay = Duration::nanoseconds(static_cast<int64_t>(hold->rng->exponential(kMeanHoldNs)));
  hold->sim->schedule_after(delay, [hold] { hold_event(hold); });
}

void BM_EventLoop(benchmark::State& state) {
  const auto pending = static_cast<size_t>(state.range(0));
  Simulation sim(1);
  RandomStream rng(1, "hold");
  Hold hold{&sim, &rng};
  sim.reserve_events(pending);
  for (size_t i = 0; i < pending; ++i) hold_event(&hold);
  for (auto _ : state) sim.step();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventLoop)->Arg(1000)->Arg(100000)->Arg(1000000);

void BM_BareHeap(benchmark::State& state) {
  const auto pending = static_cast<size_t>(state.range(0));
  using Entry = std::pair<int64_t, uint64_t>;  // (time ns, sequence)
  std::vector<Entry> storage;
  storage.reserve(pending + 1);
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap(std::greater<>(),
                                                                      std::move(storage));
  RandomStream rng(1, "hold");
  uint64_t seq = 0;
  int64_t now = 0;
  for (size_t i = 0; i < pending; ++i) {
    heap.emplace(static_cast<int64_t>(rng.exponential(kMeanHoldNs)), seq++);
  }
  for (auto _ : state) {
    now = heap.top().first;
    heap.pop();
    heap.emplace(now + static_cast<int64_t>(rng.exponential(kMeanHoldNs)), seq++);
  }
  benchmark::DoNotOptimize(now);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BareHeap)->Arg(1000)->Arg(100000)->Arg(1000000);

// The same hold model written as processes: `pending` coroutines each loop on
// co_await sleep(Exp(1 ms)). Items = wake-ups. Shows what a coroutine and a future cost per event.
Process holder(Simulation& sim, RandomStream& rng) {
  for (;;) {
    co_await sim.sleep(Duration::nanoseconds(static_cast<int64_t>(rng.exponential(kMeanHoldNs))));
  }
}

void BM_ProcessSleep(benchmark::State& state) {
  const auto pending = static_cast<size_t>(state.range(0));
  Simulation sim(1);
  RandomStream rng(1, "hold");
  sim.reserve_events(pending);
  for (size_t i = 0; i < pending; ++i) sim.spawn(holder(sim, rng));
  for (auto _ : state) sim.step();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ProcessSleep)->Arg(1000)->Arg(1000000);

}  // namespace
}  // namespace shardlab::sim
