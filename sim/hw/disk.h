// A node's disk: read and write bandwidth, a per-request latency and an IOPS bound.
//
// A request is admitted no sooner than 1/IOPS after the previous one (the device's command
// rate), waits the access latency, then transfers. Concurrent transfers share the device fairly
// in time: a transfer needs bytes / bandwidth seconds of the whole device (read or write
// bandwidth by direction) and n concurrent transfers each get 1/n of it, so a read and a write
// slow each other down as on a real disk. A slow-disk fault scales the bandwidth. A cancelled
// request keeps the admission slot it was given (the command was issued); a crash clears the
// admission queue.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "sim/core/metrics.h"
#include "sim/hw/fluid_set.h"

namespace shardlab::sim {

struct DiskSpec {
  double read_bytes_per_s = 500e6;
  double write_bytes_per_s = 400e6;
  Duration latency = Duration::microseconds(100);
  double iops = 50'000;  // 0: no bound
};

class Disk {
 public:
  enum class Direction : uint8_t { kRead, kWrite };

  // REQUIRES: positive bandwidths, latency >= 0, iops >= 0.
  Disk(Simulation& sim, std::string node, DiskSpec spec);
  ~Disk();
  Disk(const Disk&) = delete;
  Disk& operator=(const Disk&) = delete;

  Future read(uint64_t bytes) { return request(Direction::kRead, bytes); }
  Future write(uint64_t bytes) { return request(Direction::kWrite, bytes); }
  Future request(Direction direction, uint64_t bytes);

  void set_bandwidth_factor(double factor);
  // Fails every request in flight, including those still waiting for admission.
  void fail_all(FaultKind kind, const std::string& message);
  // While unavailable (a crashed node), new requests fail at once with kNodeDown.
  void set_available(bool available) { available_ = available; }

  const DiskSpec& spec() const { return spec_; }
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t requests() const { return requests_; }
  size_t in_flight() const { return in_flight_.size(); }
  const UtilizationSeries& utilization() const { return utilization_; }

 private:
  static Process run_request(std::shared_ptr<Disk*> cell, Simulation& sim, Direction direction,
                             uint64_t bytes, uint64_t id, Duration wait);

  Simulation& sim_;
  // Request processes may outlive the disk (their frames are freed with the simulation); they
  // reach it through this cell, which ~Disk empties.
  std::shared_ptr<Disk*> self_;
  std::string node_;
  DiskSpec spec_;
  double factor_ = 1.0;
  bool available_ = true;
  Time next_admission_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Future> in_flight_;  // by id: fail_all() walks it in admission order
  uint64_t bytes_read_ = 0;
  uint64_t bytes_written_ = 0;
  uint64_t requests_ = 0;
  UtilizationSeries utilization_;
  FluidSet transfers_;  // amount: seconds of exclusive device time
};

}  // namespace shardlab::sim
