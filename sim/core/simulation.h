// The kernel: simulated time, the pending-event set, the ready queue of processes, futures and
// the random streams of one simulation run.
//
// One step of run(): resume every process in the ready queue (FIFO), then take the earliest event
// (ties in scheduling order), set now() to its time and call it. Nothing that affects results
// reads the wall clock (it is read only for the speed counters in KernelStats) or iterates an
// unordered container, so the same seed replays the same run bit for bit.
//
// Two ways to write model code:
//  * processes (process.h), for logic that reads top to bottom: co_await sleep(), resources,
//    any_of(), all_of(), with_timeout();
//  * plain callbacks with schedule_at(), for hot paths; they capture at most 24 bytes.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <string_view>
#include <vector>

#include "sim/core/event_queue.h"
#include "sim/core/future.h"
#include "sim/core/process.h"
#include "sim/core/random.h"
#include "sim/core/time.h"

namespace shardlab::sim {

class Tracer;

struct KernelStats {
  uint64_t events_processed = 0;
  uint64_t processes_resumed = 0;
  uint64_t processes_spawned = 0;
  uint64_t processes_failed = 0;  // ended with a SimFault
  double wall_seconds = 0;        // spent inside run()/run_until()
  double simulated_seconds = 0;   // now() at the end of the last run
  // Simulated seconds per wall second of run(): how much faster than real time the model runs.
  double speedup() const { return wall_seconds > 0 ? simulated_seconds / wall_seconds : 0; }
  double events_per_second() const { return wall_seconds > 0 ? events_processed / wall_seconds : 0; }
};

class Simulation {
 public:
  explicit Simulation(uint64_t seed = 1);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  Time now() const { return now_; }
  uint64_t seed() const { return seed_; }

  // Callbacks. REQUIRES: at >= now().
  EventId schedule_at(Time at, EventFn fn);
  EventId schedule_after(Duration delay, EventFn fn) { return schedule_at(now_ + delay, fn); }
  bool cancel(EventId id) { return events_.cancel(id); }
  size_t pending_events() const { return events_.pending(); }
  void reserve_events(size_t events) { events_.reserve(events); }

  // Runs until no event or ready process is left, or stop() is called.
  void run() { run_until(Time::max()); }
  // Runs every event with time <= limit, then sets now() to limit (unless stopped earlier or
  // limit is Time::max()). Rethrows an exception that escaped a process or callback.
  void run_until(Time limit);
  // Resumes the ready processes, then runs the earliest event. False when none is left.
  bool step();
  // Frees every process still waiting, running the destructors of their locals. Models that
  // processes reference must still exist, so owners call this before destroying their models
  // when processes may be left (the destructor calls it too, for the rest).
  void shutdown();
  // Ends run()/run_until() after the current event.
  void stop() { stopped_ = true; }

  // Processes and futures.
  Future spawn(Process process);
  Future sleep(Duration delay);
  Future make_future();  // pending, for a producer to settle
  // Done with the index of the first child to succeed, cancelling the others; failed with the
  // last fault if every child fails. REQUIRES: at least one child.
  Future any_of(std::vector<Future> children);
  // Done when every child is done; failed with the first fault, cancelling the others.
  Future all_of(std::vector<Future> children);
  template <typename... F>
  Future any_of(F... children) { return any_of(std::vector<Future>{std::move(children)...}); }
  template <typename... F>
  Future all_of(F... children) { return all_of(std::vector<Future>{std::move(children)...}); }
  // `operation`'s outcome, unless `limit` passes first: then `operation` is cancelled and the
  // result fails with FaultKind::kTimeout.
  Future with_timeout(Future operation, Duration limit);
  // Makes the process behind `process_done` (a spawn() result) throw SimFault(kind) from its
  // current or next co_await, cancelling what it waits on. No-op if it has ended.
  void interrupt(const Future& process_done, FaultKind kind = FaultKind::kInterrupted,
                 const std::string& message = {});

  // The random stream of the component called `name` (see random.h).
  RandomStream stream(std::string_view name) const { return RandomStream(seed_, name); }

  // The optional trace sink; models report slices to it when set. Not owned.
  void set_tracer(Tracer* tracer) { tracer_ = tracer; }
  Tracer* tracer() const { return tracer_; }

  const KernelStats& stats() const { return stats_; }

  // Kernel internals used by futures and processes.
  void make_ready(std::coroutine_handle<> handle) { ready_.push_back(handle); }
  FutureState* allocate_state();
  void free_state(FutureState* state);
  void process_started(ProcessPromise* promise);
  void process_ended(ProcessPromise* promise);
  void record_failure(std::exception_ptr error);

 private:
  void drain_ready();
  Future make_combinator(FutureState::Combinator kind, std::vector<Future> children);

  uint64_t seed_;
  Time now_;
  bool stopped_ = false;
  EventQueue events_;
  std::vector<std::coroutine_handle<>> ready_;
  size_t ready_head_ = 0;
  ProcessPromise* processes_ = nullptr;  // live processes, to free their frames at the end
  std::exception_ptr failure_;
  Tracer* tracer_ = nullptr;
  KernelStats stats_;

  std::vector<std::unique_ptr<FutureState[]>> state_chunks_;
  FutureState* free_states_ = nullptr;
};

}  // namespace shardlab::sim
