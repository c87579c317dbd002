#include "sim/hw/cpu.h"

#include <algorithm>

#include "sim/core/trace.h"

namespace shardlab::sim {

Cpu::Cpu(Simulation& sim, std::string node, int cores, double speed)
    : sim_(sim),
      node_(std::move(node)),
      cores_(cores),
      speed_(speed),
      utilization_(node_, "cpu", cores),
      tasks_(sim, [this](std::span<FluidActivity> tasks) { assign_rates(tasks); }) {
  SHARDLAB_ASSERT(cores >= 1 && speed > 0, "a CPU needs cores >= 1 and speed > 0, got {} and {}",
                  cores, speed);
  tasks_.on_completion([this](const FluidActivity& task) { record(task); });
  tasks_.on_change([this] { level_changed(); });
}

void Cpu::assign_rates(std::span<FluidActivity> tasks) const {
  const double share =
      speed() * std::min(1.0, static_cast<double>(cores_) / static_cast<double>(tasks.size()));
  for (FluidActivity& task : tasks) task.rate = share;
}

double Cpu::busy_cores() const {
  return std::min(static_cast<double>(cores_), static_cast<double>(tasks_.size()));
}

void Cpu::level_changed() {
  const double busy = busy_cores();
  if (busy == utilization_.level()) return;
  utilization_.set_level(sim_.now(), busy);
  if (Tracer* tracer = sim_.tracer()) {
    tracer->counter(tracer->track(node_, "cpu"), "busy cores", sim_.now(), busy);
  }
}

Future Cpu::compute(double work, std::string_view label) {
  uint64_t tag = 0;
  if (sim_.tracer()) {
    const auto it = std::find(labels_.begin(), labels_.end(), label);
    tag = static_cast<uint64_t>(it - labels_.begin());
    if (it == labels_.end()) labels_.emplace_back(label);
  }
  return tasks_.add(work, 1.0, tag);
}

void Cpu::record(const FluidActivity& task) {
  Tracer* tracer = sim_.tracer();
  if (tracer && task.tag < labels_.size()) {
    tracer->slice(tracer->track(node_, "cpu"), labels_[task.tag], task.start, sim_.now());
  }
}

void Cpu::set_speed_factor(double factor) {
  SHARDLAB_ASSERT(factor > 0, "speed factor must be positive, got {}", factor);
  factor_ = factor;
  tasks_.rates_changed();
}

void Cpu::fail_all(FaultKind kind, const std::string& message) {
  tasks_.fail_if([](const FluidActivity&) { return true; }, kind, message);
}

}  // namespace shardlab::sim
