// The kernel's hot paths do not allocate per event once warmed up: events, coroutine frames,
// futures and CPU tasks all come from recycled storage. Counted by replacing the global operator new in this
// test binary; the counter only runs inside the measured window.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <new>

#include "sim/core/simulation.h"
#include "sim/hw/cpu.h"

namespace {
bool counting = false;
uint64_t allocations = 0;
}  // namespace

// Every unaligned form is replaced together, so that no allocation made by one family is freed
// by another (AddressSanitizer checks the pairing). Over-aligned forms keep the library's pair.
namespace {
void* counted_malloc(size_t bytes) {
  if (counting) ++allocations;
  return std::malloc(bytes ? bytes : 1);
}
}  // namespace

void* operator new(size_t bytes) {
  if (void* p = counted_malloc(bytes)) return p;
  throw std::bad_alloc();
}
void* operator new[](size_t bytes) {
  if (void* p = counted_malloc(bytes)) return p;
  throw std::bad_alloc();
}
void* operator new(size_t bytes, const std::nothrow_t&) noexcept { return counted_malloc(bytes); }
void* operator new[](size_t bytes, const std::nothrow_t&) noexcept { return counted_malloc(bytes); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace shardlab::sim;

namespace {
Process client(Simulation& sim, Cpu& cpu, RandomStream& rng, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    co_await sim.sleep(Duration::from_seconds(rng.exponential(1e-3)));
    co_await cpu.compute(rng.exponential(1e-4));
  }
}
}  // namespace

TEST_CASE("steady-state processes, sleeps and CPU tasks allocate nothing", "[sim][kernel]") {
  Simulation sim(1);
  Cpu cpu(sim, "n0", 4);
  RandomStream rng(1, "load");
  // The peak number of pending events creeps up as the load fluctuates; reserving past it keeps
  // the slot arrays from growing, so any allocation left would be a per-event one.
  sim.reserve_events(4096);
  for (int i = 0; i < 100; ++i) sim.spawn(client(sim, cpu, rng, 4000));
  // Warm up: pools, the heap, the ready queue and the CPU's vectors reach their peak sizes.
  sim.run_until(Time::from_seconds(1.0));
  const uint64_t events_before = sim.stats().events_processed;
  allocations = 0;
  counting = true;
  sim.run_until(Time::from_seconds(3.0));
  counting = false;
  const uint64_t events = sim.stats().events_processed - events_before;
  // What may still allocate grows with simulated time or with a new peak, never with events: a
  // utilisation series adds a bucket per simulated second, and a vector reaches a new peak when
  // more tasks than ever finish at one instant. Measured: 3 allocations in 160,000 events.
  CHECK(events > 100'000);
  CHECK(allocations * 10'000 < events);
  sim.run();
}
