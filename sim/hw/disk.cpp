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
  transfers_.on_change([this] {
    utilization_.set_level(sim_.now(), transfers_.size() > 0 ? factor_ : 0.0);
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
  Time admitted = std::max(sim_.now(), next_admission_);
  if (spec_.iops > 0) next_admission_ = admitted + Duration::from_seconds(1.0 / spec_.iops);
  const uint64_t id = next_id_++;
  ++requests_;
  Future done = sim_.spawn(run_request(direction, bytes, id, (admitted - sim_.now()) + spec_.latency));
  if (done.pending()) in_flight_.emplace(id, done);
  return done;
}

Process Disk::run_request(Direction direction, uint64_t bytes, uint64_t id, Duration wait) {
  const Time start = sim_.now();
  struct Forget {  // leaves in_flight_ however the request ends
    std::shared_ptr<Disk*> disk;
    uint64_t id;
    ~Forget() {
      if (*disk) (*disk)->in_flight_.erase(id);
    }
  } forget{self_, id};
  co_await sim_.sleep(wait);
  const double bandwidth =
      direction == Direction::kRead ? spec_.read_bytes_per_s : spec_.write_bytes_per_s;
  co_await transfers_.add(static_cast<double>(bytes) / bandwidth);
  (direction == Direction::kRead ? bytes_read_ : bytes_written_) += bytes;
  if (Tracer* tracer = sim_.tracer()) {
    tracer->slice(tracer->track(node_, "disk"), direction == Direction::kRead ? "read" : "write",
                  start, sim_.now());
  }
}

void Disk::set_bandwidth_factor(double factor) {
  SHARDLAB_ASSERT(factor > 0, "bandwidth factor must be positive, got {}", factor);
  factor_ = factor;
  transfers_.rates_changed();
}

void Disk::fail_all(FaultKind kind, const std::string& message) {
  std::vector<Future> victims;
  for (auto& [id, done] : in_flight_) victims.push_back(done);
  for (const Future& done : victims) done.cancel(kind, message);
}

}  // namespace shardlab::sim
