// Activities that share a capacity as a fluid: each has an amount of work left and a current
// rate; the owning model decides the rates. Used by the CPU (processor sharing), the disk (fair
// bandwidth) and the network (max-min over links).
//
// The model follows SimGrid's two-method contract, specialised to one event: whenever the set
// changes (an activity arrives, leaves or is cancelled, or the capacity changes), every activity
// is advanced to now at its old rate, the owner recomputes all rates, and each activity's finish
// instant is predicted as now + ceil(remaining / rate) in whole nanoseconds. One kernel event
// waits for the earliest prediction. At that instant every activity whose prediction has arrived
// completes, exactly then, with no epsilon comparison of leftover work. Between changes rates are
// constant, so the fluid model is exact up to the 1 ns rounding at each change.
//
// Futures are settled after the set and the rates are consistent again, so a woken process or a
// combinator that cancels a sibling activity finds the model in a clean state.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "sim/core/simulation.h"

namespace shardlab::sim {

struct FluidActivity {
  uint64_t id = 0;
  double amount = 0;     // the whole work, in the model's unit (core-seconds, bytes)
  double remaining = 0;  // left at the set's last update
  double rate = 0;       // units per second, set by the owner's rate function
  double weight = 1;     // the owner's sharing weight
  uint64_t tag = 0;      // the owner's data (a route index, a trace id)
  Time start;
  Time finish = Time::max();  // predicted from the current rate
  Future done;
};

class FluidSet {
 public:
  // Recomputes `rate` for every activity (all of them, each time).
  using RateFunction = std::function<void(std::span<FluidActivity>)>;
  // Called for each activity as it completes, before its future is resolved.
  using CompletionFunction = std::function<void(const FluidActivity&)>;

  FluidSet(Simulation& sim, RateFunction rates);
  ~FluidSet();
  FluidSet(const FluidSet&) = delete;
  FluidSet& operator=(const FluidSet&) = delete;

  void on_completion(CompletionFunction fn) { on_completion_ = std::move(fn); }
  // Called after every recomputation, when the set or the rates changed (utilisation tracking).
  void on_change(std::function<void()> fn) { on_change_ = std::move(fn); }

  // Adds `amount` of work. The future resolves when it is done; cancelling it withdraws the
  // activity. An amount of zero (or less) is done at once.
  Future add(double amount, double weight = 1, uint64_t tag = 0);
  // Fails every activity for which `pred` holds with `kind`, e.g. the flows crossing a failed
  // link or everything on a crashed node.
  void fail_if(const std::function<bool(const FluidActivity&)>& pred, FaultKind kind,
               const std::string& message);
  // Recompute after a change the set cannot see (capacity, speed factor, a link's state).
  void rates_changed() { update(); }

  size_t size() const { return activities_.size(); }
  std::span<const FluidActivity> activities() const { return activities_; }
  // Sum of the current rates: the capacity in use.
  double total_rate() const;

 private:
  void advance();
  void update();  // advance, recompute rates, predict finishes, reschedule
  void on_timer();
  void remove(uint64_t id);
  static void cancel_hook(void* context, uint64_t id);

  Simulation& sim_;
  RateFunction rates_;
  CompletionFunction on_completion_;
  std::function<void()> on_change_;
  std::vector<FluidActivity> activities_;
  std::vector<FluidActivity> finished_scratch_;
  Time last_update_;
  EventId timer_;
  uint64_t next_id_ = 1;
};

}  // namespace shardlab::sim
