#include "sim/hw/disk.h"

#include <algorithm>
#include <vector>

#include "sim/core/trace.h"

namespace shardlab::sim {

Disk::Disk(Simulation& sim, std::string node, DiskSpec spec)
    : sim_(sim),
      self_(std::make_shared<Disk*>(this)),
      node_(std::move(node)),
      spec_(spec),
      utilization_(node_, "disk", 1.0),
      transfers_(sim, [this](std::span<FluidActivity> active) {
        for (FluidActivity& t : active) t.rate = factor_ / static_cast<double>(active.size());
      }) {
  SHARDLAB_ASSERT(spec.read_bytes_per_s > 0 && spec.write_bytes_per_s > 0 &&
                      spec.latency >= Duration() && spec.iops >= 0,
                  "invalid disk spec for {}", node_);
  // Utilisation is the fraction of time the device is busy, whatever its speed (as for the CPU,
  // whose level is busy cores).
  transfers_.on_change([this] {
    const double busy = transfers_.size() > 0 ? 1.0 : 0.0;
    if (busy == utilization_.level()) return;
    utilization_.set_level(sim_.now(), busy);
    if (Tracer* tracer = sim_.tracer()) {
      tracer->counter(tracer->track(node_, "disk"), "busy", sim_.now(), busy);
    }
  });
}

Disk::~Disk() {
  *self_ = nullptr;
  fail_all(FaultKind::kCancelled, node_ + ": disk removed");
}

Future Disk::request(Direction direction, uint64_t bytes) {
  if (!available_) {
    Future refused = sim_.make_future();
    refused.fail(FaultKind::kNodeDown, node_ + ": disk unavailable");
    return refused;
  }
  const Time admitted = std::max(sim_.now(), next_admission_);
  if (spec_.iops > 0) next_admission_ = admitted + Duration::from_seconds(1.0 / spec_.iops);
  const uint64_t id = next_id_++;
  ++requests_;
  Future done = sim_.spawn(
      run_request(self_, sim_, direction, bytes, id, (admitted - sim_.now()) + spec_.latency));
  in_flight_.emplace(id, done);
  return done;
}

// Static, and reaching the disk only through its cell: the frame may run (or be destroyed)
// after the disk is gone, so the disk is looked up again after every suspension.
Process Disk::run_request(std::shared_ptr<Disk*> cell, Simulation& sim, Direction direction,
                          uint64_t bytes, uint64_t id, Duration wait) {
  const Time start = sim.now();
  struct Forget {  // leaves in_flight_ however the request ends
    const std::shared_ptr<Disk*>& cell;
    uint64_t id;
    ~Forget() {
      if (*cell) (*cell)->in_flight_.erase(id);
    }
  } forget{cell, id};
  co_await sim.sleep(wait);
  if (!*cell) throw SimFault(FaultKind::kCancelled, "disk removed");
  Disk& disk = **cell;
  const double bandwidth = direction == Direction::kRead ? disk.spec_.read_bytes_per_s
                                                         : disk.spec_.write_bytes_per_s;
  co_await disk.transfers_.add(static_cast<double>(bytes) / bandwidth);
  if (!*cell) throw SimFault(FaultKind::kCancelled, "disk removed");
  (direction == Direction::kRead ? disk.bytes_read_ : disk.bytes_written_) += bytes;
  if (Tracer* tracer = sim.tracer()) {
    tracer->slice(tracer->track(disk.node_, "disk"),
                  direction == Direction::kRead ? "read" : "write", start, sim.now());
  }
}

void Disk::set_bandwidth_factor(double factor) {
  SHARDLAB_ASSERT(factor > 0, "bandwidth factor must be positive, got {}", factor);
  factor_ = factor;
  transfers_.rates_changed();
}

void Disk::fail_all(FaultKind kind, const std::string& message) {
  // The queue of requests waiting for admission is gone with them.
  next_admission_ = sim_.now();
  std::vector<Future> victims;
  for (auto& [id, done] : in_flight_) victims.push_back(done);
  for (const Future& done : victims) done.cancel(kind, message);
}

}  // namespace shardlab::sim
