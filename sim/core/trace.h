// The optional trace of a run, in Chrome trace-event JSON (opened by Perfetto and
// chrome://tracing): one process per node, one track per node resource, one slice per CPU task,
// disk request and network transfer, plus counter tracks for utilisation.
//
// Slices on one resource overlap when it is shared (processor sharing, parallel flows). Chrome's
// complete ("X") events on one thread must nest, so when the file is written the slices of each
// resource are packed into lanes, "cpu", "cpu #2", ..., by interval partitioning: no two slices
// in a lane overlap and the number of lanes is the peak concurrency.
//
// Instants mark moments (a fault, a repair) on a track; they are drawn as arrows over it.
//
// The trace also keeps a running hash of everything recorded, in recording order, so tests can
// compare two runs without writing files.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/time.h"

namespace shardlab::sim {

class Tracer {
 public:
  // REQUIRES: max_slices > 0. Past it, slices (and, separately, counter samples and instants) are
  // counted and hashed but not kept.
  explicit Tracer(size_t max_slices = 4'000'000) : max_slices_(max_slices) {}

  // The track of `resource` on `node`, created on first use ("node3", "disk").
  uint32_t track(std::string_view node, std::string_view resource);
  void slice(uint32_t track, std::string_view name, Time start, Time end);
  void counter(uint32_t track, std::string_view name, Time at, double value);
  void instant(uint32_t track, std::string_view name, Time at);

  uint64_t hash() const { return hash_; }
  size_t slices() const { return slice_count_; }
  size_t dropped_slices() const { return slice_count_ - slices_.size(); }

  // Streams the trace event by event: memory beyond the kept events stays small at any size.
  void write_json(std::ostream& out) const;

 private:
  struct Track {
    std::string node;
    std::string resource;
  };
  struct Slice {
    uint32_t track;
    uint32_t name;  // index into names_
    int64_t start_ns;
    int64_t end_ns;
  };
  struct Counter {
    uint32_t track;
    uint32_t name;
    int64_t at_ns;
    double value;
  };
  struct Instant {
    uint32_t track;
    uint32_t name;
    int64_t at_ns;
  };
  uint32_t intern(std::string_view name);
  // Each kept slice's lane within its track (the result, by slice index), and the number of
  // lanes of each track (*lanes_of_track).
  std::vector<uint32_t> assign_lanes(std::vector<uint32_t>* lanes_of_track) const;
  void mix(uint64_t value);

  size_t max_slices_;
  std::vector<Track> tracks_;
  std::vector<std::string> names_;
  std::vector<Slice> slices_;
  std::vector<Counter> counters_;
  std::vector<Instant> instants_;
  size_t slice_count_ = 0;
  uint64_t hash_ = 0x6a09e667f3bcc909ULL;
};

}  // namespace shardlab::sim
