// A node's processors: `cores` identical cores at a speed factor, shared by processor sharing.
// With n runnable tasks each runs at speed * min(1, cores / n): a task never uses more than one
// core, and when tasks outnumber cores they share them equally. This is the exact fluid model
// (FluidSet), recomputed when a task arrives or leaves, the M/M/c-PS server of queueing theory.
//
// Work is measured in reference-core seconds: the time one core at speed 1.0 needs. The cost
// model turns an engine work profile into this unit; a faster CPU has speed > 1, and a slow-node
// fault multiplies the speed by a factor < 1 without touching the configured speed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/core/metrics.h"
#include "sim/hw/fluid_set.h"

namespace shardlab::sim {

class Cpu {
 public:
  // REQUIRES: cores >= 1, speed > 0.
  Cpu(Simulation& sim, std::string node, int cores, double speed = 1.0);

  // Runs `work` reference-core seconds. Resolves when done; cancelling withdraws the task. The
  // label names the task's slice in the trace.
  Future compute(double work, std::string_view label = "task");

  // A slow-node fault: speed becomes configured speed * factor (factor 1 restores it).
  void set_speed_factor(double factor);
  // Fails every running task (node crash).
  void fail_all(FaultKind kind, const std::string& message);

  int cores() const { return cores_; }
  double speed() const { return speed_ * factor_; }
  size_t running() const { return tasks_.size(); }
  // Busy cores (0..cores) at this instant.
  double busy_cores() const;
  const UtilizationSeries& utilization() const { return utilization_; }

 private:
  void assign_rates(std::span<FluidActivity> tasks) const;
  void record(const FluidActivity& task);
  void level_changed();

  Simulation& sim_;
  std::string node_;
  int cores_;
  double speed_;
  double factor_ = 1.0;
  std::vector<std::string> labels_;  // trace labels, indexed by FluidActivity::tag
  UtilizationSeries utilization_;
  FluidSet tasks_;
};

}  // namespace shardlab::sim
