#include "sim/core/trace.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <functional>
#include <queue>

#include "base/counter_rng.h"

namespace shardlab::sim {

uint32_t Tracer::track(std::string_view node, std::string_view resource) {
  for (size_t i = 0; i < tracks_.size(); ++i) {
    if (tracks_[i].node == node && tracks_[i].resource == resource) return static_cast<uint32_t>(i);
  }
  tracks_.push_back(Track{std::string(node), std::string(resource)});
  return static_cast<uint32_t>(tracks_.size() - 1);
}

uint32_t Tracer::intern(std::string_view name) {
  // Few distinct names (task kinds), so a linear scan from the most recent is cheap.
  for (size_t i = names_.size(); i-- > 0;) {
    if (names_[i] == name) return static_cast<uint32_t>(i);
  }
  names_.emplace_back(name);
  return static_cast<uint32_t>(names_.size() - 1);
}

void Tracer::mix(uint64_t value) { hash_ = base::mix64(hash_ ^ value) + base::kGamma; }

void Tracer::slice(uint32_t track, std::string_view name, Time start, Time end) {
  const uint32_t name_id = intern(name);
  mix(track);
  mix(name_id);
  mix(static_cast<uint64_t>(start.ns()));
  mix(static_cast<uint64_t>(end.ns()));
  ++slice_count_;
  if (slices_.size() < max_slices_) slices_.push_back(Slice{track, name_id, start.ns(), end.ns()});
}

void Tracer::counter(uint32_t track, std::string_view name, Time at, double value) {
  const uint32_t name_id = intern(name);
  mix(track);
  mix(name_id);
  mix(static_cast<uint64_t>(at.ns()));
  mix(std::bit_cast<uint64_t>(value));
  if (counters_.size() < max_slices_) counters_.push_back(Counter{track, name_id, at.ns(), value});
}

void Tracer::instant(uint32_t track, std::string_view name, Time at) {
  const uint32_t name_id = intern(name);
  mix(track);
  mix(name_id);
  mix(static_cast<uint64_t>(at.ns()));
  if (instants_.size() < max_slices_) instants_.push_back(Instant{track, name_id, at.ns()});
}

namespace {
// Microseconds with nanosecond precision, the unit of the trace-event format.
double micros(int64_t ns) { return static_cast<double>(ns) / 1000.0; }
}  // namespace

std::vector<uint32_t> Tracer::assign_lanes(std::vector<uint32_t>* lanes_of_track) const {
  // Interval partitioning per track: slices by start time, each into the lane that freed up
  // first (or a new lane).
  std::vector<uint32_t> order(slices_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) {
    const Slice& x = slices_[a];
    const Slice& y = slices_[b];
    return x.track != y.track ? x.track < y.track : x.start_ns < y.start_ns;
  });
  std::vector<uint32_t> lane_of(slices_.size());
  lanes_of_track->assign(tracks_.size(), 0);
  using LaneFree = std::pair<int64_t, uint32_t>;  // (free from, lane)
  std::priority_queue<LaneFree, std::vector<LaneFree>, std::greater<>> free_lanes;
  uint32_t current_track = UINT32_MAX;
  for (uint32_t index : order) {
    const Slice& s = slices_[index];
    if (s.track != current_track) {
      current_track = s.track;
      free_lanes = {};
    }
    uint32_t lane;
    if (!free_lanes.empty() && free_lanes.top().first <= s.start_ns) {
      lane = free_lanes.top().second;
      free_lanes.pop();
    } else {
      lane = (*lanes_of_track)[s.track]++;
    }
    lane_of[index] = lane;
    free_lanes.emplace(s.end_ns, lane);
  }
  return lane_of;
}

void Tracer::write_json(std::ostream& out) const {
  // Nodes become trace processes (pid), resource lanes become threads (tid).
  std::vector<std::string> nodes;
  std::vector<uint32_t> node_of_track(tracks_.size());
  for (size_t t = 0; t < tracks_.size(); ++t) {
    auto it = std::find(nodes.begin(), nodes.end(), tracks_[t].node);
    if (it == nodes.end()) it = nodes.insert(nodes.end(), tracks_[t].node);
    node_of_track[t] = static_cast<uint32_t>(it - nodes.begin());
  }
  std::vector<uint32_t> lanes_of_track;
  const std::vector<uint32_t> lane_of = assign_lanes(&lanes_of_track);
  // Thread ids: tracks in order, each with its lanes (a counter-only track gets one).
  std::vector<uint32_t> first_tid(tracks_.size());
  uint32_t next_tid = 1;
  for (size_t t = 0; t < tracks_.size(); ++t) {
    first_tid[t] = next_tid;
    next_tid += std::max<uint32_t>(1, lanes_of_track[t]);
  }

  // The document's keys in nlohmann's (sorted) order, then one event at a time.
  out << "{\"displayTimeUnit\":\"ns\",";
  if (dropped_slices() > 0) {
    out << "\"otherData\":" << nlohmann::json{{"dropped_slices", dropped_slices()}}.dump() << ',';
  }
  out << "\"traceEvents\":[";
  bool first = true;
  const auto emit = [&](const nlohmann::json& event) {
    out << (first ? "" : ",") << event.dump();
    first = false;
  };
  for (size_t n = 0; n < nodes.size(); ++n) {
    emit({{"ph", "M"}, {"name", "process_name"}, {"pid", n + 1}, {"tid", 0},
          {"args", {{"name", nodes[n]}}}});
  }
  for (size_t t = 0; t < tracks_.size(); ++t) {
    const uint32_t lanes = std::max<uint32_t>(1, lanes_of_track[t]);
    for (uint32_t lane = 0; lane < lanes; ++lane) {
      const std::string name =
          lane == 0 ? tracks_[t].resource : fmt::format("{} #{}", tracks_[t].resource, lane + 1);
      emit({{"ph", "M"}, {"name", "thread_name"}, {"pid", node_of_track[t] + 1},
            {"tid", first_tid[t] + lane}, {"args", {{"name", name}}}});
    }
  }
  for (size_t i = 0; i < slices_.size(); ++i) {
    const Slice& s = slices_[i];
    emit({{"ph", "X"}, {"name", names_[s.name]}, {"pid", node_of_track[s.track] + 1},
          {"tid", first_tid[s.track] + lane_of[i]}, {"ts", micros(s.start_ns)},
          {"dur", micros(s.end_ns - s.start_ns)}});
  }
  for (const Counter& c : counters_) {
    emit({{"ph", "C"},
          {"name", fmt::format("{} {}", tracks_[c.track].resource, names_[c.name])},
          {"pid", node_of_track[c.track] + 1}, {"ts", micros(c.at_ns)},
          {"args", {{names_[c.name], c.value}}}});
  }
  for (const Instant& i : instants_) {
    emit({{"ph", "i"}, {"s", "t"}, {"name", names_[i.name]}, {"pid", node_of_track[i.track] + 1},
          {"tid", first_tid[i.track]}, {"ts", micros(i.at_ns)}});
  }
  out << "]}\n";
}

}  // namespace shardlab::sim
