#include "sim/hw/fluid_set.h"

#include <algorithm>
#include <cmath>

namespace shardlab::sim {

FluidSet::FluidSet(Simulation& sim, RateFunction rates)
    : sim_(sim), rates_(std::move(rates)), last_update_(sim.now()) {}

FluidSet::~FluidSet() {
  sim_.cancel(timer_);
  // Activities still running can no longer finish; their futures must not call back into us.
  for (FluidActivity& activity : activities_) {
    activity.done.set_cancel_hook(nullptr, nullptr, 0);
  }
}

Future FluidSet::add(double amount, double weight, uint64_t tag) {
  Future done = sim_.make_future();
  if (!(amount > 0)) {
    done.resolve();
    return done;
  }
  advance();
  FluidActivity activity;
  activity.id = next_id_++;
  activity.amount = amount;
  activity.remaining = amount;
  activity.weight = weight;
  activity.tag = tag;
  activity.start = sim_.now();
  activity.done = done;
  done.set_cancel_hook(&FluidSet::cancel_hook, this, activity.id);
  activities_.push_back(std::move(activity));
  update();
  return done;
}

void FluidSet::cancel_hook(void* context, uint64_t id) {
  auto* set = static_cast<FluidSet*>(context);
  set->advance();
  set->remove(id);
  set->update();
}

void FluidSet::remove(uint64_t id) {
  // Activities are kept in arrival order so that rate functions see a deterministic order.
  const auto it = std::find_if(activities_.begin(), activities_.end(),
                               [id](const FluidActivity& a) { return a.id == id; });
  if (it != activities_.end()) activities_.erase(it);
}

void FluidSet::fail_if(const std::function<bool(const FluidActivity&)>& pred, FaultKind kind,
                       const std::string& message) {
  advance();
  std::vector<Future> failed;
  std::erase_if(activities_, [&](FluidActivity& activity) {
    if (!pred(activity)) return false;
    activity.done.set_cancel_hook(nullptr, nullptr, 0);
    failed.push_back(std::move(activity.done));
    return true;
  });
  update();
  for (const Future& f : failed) f.fail(kind, message);
}

double FluidSet::total_rate() const {
  double total = 0;
  for (const FluidActivity& activity : activities_) total += activity.rate;
  return total;
}

void FluidSet::advance() {
  const double elapsed = (sim_.now() - last_update_).seconds();
  last_update_ = sim_.now();
  if (elapsed <= 0) return;
  for (FluidActivity& activity : activities_) {
    activity.remaining = std::max(0.0, activity.remaining - activity.rate * elapsed);
  }
}

void FluidSet::update() {
  advance();
  sim_.cancel(timer_);
  timer_ = EventId{};
  if (!activities_.empty()) rates_(activities_);
  if (on_change_) on_change_();
  if (activities_.empty()) return;
  Time earliest = Time::max();
  for (FluidActivity& activity : activities_) {
    if (activity.rate > 0) {
      // Whole nanoseconds, rounded up, except that a value within 1e-3 ns above an integer is
      // taken as that integer: it is floating-point residue of earlier advances, and rounding
      // it up would move analytic finish times by a spurious nanosecond.
      const double ns = activity.remaining / activity.rate * 1e9;
      activity.finish = ns < 9e18 ? sim_.now() + Duration::nanoseconds(static_cast<int64_t>(
                                                     std::ceil(std::max(0.0, ns - 1e-3))))
                                  : Time::max();
    } else {
      activity.finish = Time::max();  // starved (e.g. its path is down): waits for a change
    }
    earliest = std::min(earliest, activity.finish);
  }
  if (earliest != Time::max()) {
    timer_ = sim_.schedule_at(earliest, [this] { on_timer(); });
  }
}

void FluidSet::on_timer() {
  timer_ = EventId{};
  advance();
  const Time now = sim_.now();
  // The scratch vector keeps its capacity between timers: no allocation per completion.
  std::vector<FluidActivity> finished;
  finished.swap(finished_scratch_);
  std::erase_if(activities_, [&](FluidActivity& activity) {
    if (activity.finish > now) return false;
    activity.remaining = 0;
    finished.push_back(std::move(activity));
    return true;
  });
  update();
  for (FluidActivity& activity : finished) {
    // An earlier completion in this batch may have cancelled this one (an any_of sibling).
    if (!activity.done.pending()) continue;
    activity.done.set_cancel_hook(nullptr, nullptr, 0);
    if (on_completion_) on_completion_(activity);
    activity.done.resolve();
  }
  finished.clear();
  finished.swap(finished_scratch_);
}

}  // namespace shardlab::sim
