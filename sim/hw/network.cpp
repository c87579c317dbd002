#include "sim/hw/network.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/graph/filtered_graph.hpp>
#include <boost/property_map/function_property_map.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "base/errors.h"
#include "sim/core/trace.h"

namespace shardlab::sim {

namespace {

// Two fair shares closer than this (relative) are one bottleneck level: their flows are frozen
// together at the same rate. Without it, rounding in the remaining capacities would give
// symmetric flows rates a few ulps apart and finish times 1 ns apart.
constexpr double kTieTolerance = 1e-12;

// In Sharing::kRtt a route of zero latency is weighted as if it had this one, so that weights
// stay finite.
constexpr double kMinRttSeconds = 1e-9;

// The key of the link between a and b, in either order.
uint64_t ends_key(NodeId a, NodeId b) {
  const auto x = static_cast<uint32_t>(a);
  const auto y = static_cast<uint32_t>(b);
  return (uint64_t{std::min(x, y)} << 32) | std::max(x, y);
}

}  // namespace

const char* sharing_name(Sharing sharing) {
  switch (sharing) {
    case Sharing::kMaxMin:
      return "maxmin";
    case Sharing::kRtt:
      return "rtt";
  }
  return "unknown";
}

// Which arcs a route may use: live links between live nodes, and only the route's own end host
// (`root`) may forward onto a link, so hosts are never transit nodes.
struct Network::RoutingFilter {
  const Network* net = nullptr;
  uint32_t root = 0;
  bool operator()(Graph::edge_descriptor edge) const {
    const uint32_t arc = boost::get(boost::edge_index, net->graph_, edge);
    if (!net->arc_usable(arc)) return false;
    const auto from = static_cast<uint32_t>(boost::source(edge, net->graph_));
    return from == root || !net->nodes_[from].is_host;
  }
};

Network::Network(Simulation& sim, Sharing sharing)
    : sim_(sim),
      sharing_(sharing),
      fluid_(sim, [this](std::span<FluidActivity> activities) { compute_rates(activities); }) {
  fluid_.on_completion([this](const FluidActivity& activity) {
    // FluidSet reports every activity due at this instant, even one whose transfer was
    // cancelled meanwhile by a consumer woken by an earlier completion in the same batch: its
    // slot is then free, or already reused by a new transfer.
    const Flow& flow = flows_[activity.tag];
    if (flow.phase == Phase::kSending && flow.sending.state() == activity.done.state()) {
      finish(static_cast<uint32_t>(activity.tag));
    }
  });
}

Network::~Network() {
  // Futures still held by processes must not call back into a destroyed network.
  for (Flow& flow : flows_) {
    if (flow.phase == Phase::kFree) continue;
    if (flow.phase == Phase::kLatency) sim_.cancel(flow.latency_timer);
    flow.done.set_cancel_hook(nullptr, nullptr, 0);
  }
}

// ---- Building --------------------------------------------------------------------------------

void Network::require_building(const char* what) const {
  if (sealed_) throw std::logic_error(fmt::format("Network::{} after seal()", what));
}

void Network::require_sealed(const char* what) const {
  if (!sealed_) throw std::logic_error(fmt::format("Network::{} before seal()", what));
}

void Network::require_host(NodeId node, const char* what) const {
  if (index(node) >= nodes_.size() || !nodes_[index(node)].is_host) {
    throw std::invalid_argument(
        fmt::format("Network::{}: node id {} is not a host", what, index(node)));
  }
}

NodeId Network::add_node(std::string name, bool is_host) {
  require_building(is_host ? "add_host" : "add_switch");
  if (name.empty()) throw InputError("a node name must not be empty");
  const auto id = NodeId{static_cast<uint32_t>(nodes_.size())};
  if (!by_name_.emplace(name, id).second) {
    throw InputError(fmt::format("duplicate node name '{}'", name));
  }
  nodes_.push_back(Node{std::move(name), is_host, true});
  return id;
}

HostId Network::add_host(std::string name) { return add_node(std::move(name), true); }

NodeId Network::add_switch(std::string name) { return add_node(std::move(name), false); }

LinkId Network::add_link(NodeId a, NodeId b, double bandwidth_bytes_per_s, Duration latency) {
  require_building("add_link");
  if (index(a) >= nodes_.size() || index(b) >= nodes_.size()) {
    throw std::invalid_argument("Network::add_link: unknown node id");
  }
  if (a == b) throw InputError(fmt::format("a link cannot join '{}' to itself", name(a)));
  if (find_link(a, b)) {
    throw InputError(fmt::format(
        "'{}' and '{}' are already linked (model parallel links as one link with their summed "
        "bandwidth)",
        name(a), name(b)));
  }
  if (!std::isfinite(bandwidth_bytes_per_s) || !(bandwidth_bytes_per_s > 0)) {
    throw InputError(fmt::format("the bandwidth of a link must be finite and > 0, got {}",
                                 bandwidth_bytes_per_s));
  }
  if (latency < Duration()) {
    throw InputError(fmt::format("the latency of a link must be >= 0, got {} ns", latency.ns()));
  }
  const auto id = LinkId{static_cast<uint32_t>(links_.size())};
  links_.push_back(Link{a, b, bandwidth_bytes_per_s, latency, true});
  by_ends_.emplace(ends_key(a, b), id);
  return id;
}

void Network::set_sharing(Sharing sharing) {
  require_building("set_sharing");
  sharing_ = sharing;
}

void Network::seal() {
  if (sealed_) return;
  // Built in place: assigning a whole adjacency_list trips a GCC false positive in Boost.
  for (size_t node_idx = 0; node_idx < nodes_.size(); ++node_idx) boost::add_vertex(graph_);
  for (uint32_t link_idx = 0; link_idx < links_.size(); ++link_idx) {
    const Link& link = links_[link_idx];
    boost::add_edge(index(link.a), index(link.b), 2 * link_idx, graph_);
    boost::add_edge(index(link.b), index(link.a), 2 * link_idx + 1, graph_);
  }
  arcs_.assign(2 * links_.size(), ArcState{});
  sealed_ = true;
}

// ---- Inspection ------------------------------------------------------------------------------

std::optional<NodeId> Network::find_node(std::string_view name) const {
  const auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<HostId> Network::find_host(std::string_view name) const {
  const std::optional<NodeId> node = find_node(name);
  if (!node || !is_host(*node)) return std::nullopt;
  return node;
}

std::optional<LinkId> Network::find_link(NodeId a, NodeId b) const {
  const auto it = by_ends_.find(ends_key(a, b));
  if (it == by_ends_.end()) return std::nullopt;
  return it->second;
}

std::vector<NodeId> Network::route(HostId src, HostId dst) {
  require_sealed("route");
  require_host(src, "route");
  require_host(dst, "route");
  if (!node_up(src) || !node_up(dst)) return {};
  if (src == dst) return {src};
  if (partitioned(src, dst)) return {};
  const std::shared_ptr<const Route> found = find_route(src, dst);
  return found ? found->nodes : std::vector<NodeId>{};
}

std::optional<Duration> Network::route_latency(HostId src, HostId dst) {
  require_sealed("route_latency");
  require_host(src, "route_latency");
  require_host(dst, "route_latency");
  if (!node_up(src) || !node_up(dst)) return std::nullopt;
  if (src == dst) return Duration();
  if (partitioned(src, dst)) return std::nullopt;
  const std::shared_ptr<const Route> found = find_route(src, dst);
  if (!found) return std::nullopt;
  return found->latency;
}

double Network::link_utilization(LinkId link, NodeId from) const {
  const Link& l = links_[index(link)];
  if (from != l.a && from != l.b) {
    throw std::invalid_argument("Network::link_utilization: the node is not an end of the link");
  }
  const uint32_t arc = 2 * index(link) + (from == l.a ? 0 : 1);
  double used = 0;
  for (const FluidActivity& activity : fluid_.activities()) {
    const std::vector<uint32_t>& arcs = flows_[activity.tag].route->arcs;
    if (std::find(arcs.begin(), arcs.end(), arc) != arcs.end()) used += activity.rate;
  }
  return used / l.bandwidth;
}

std::vector<Network::FlowInfo> Network::flows() const {
  std::vector<uint32_t> slots;
  for (uint32_t slot = 0; slot < flows_.size(); ++slot) {
    if (flows_[slot].phase != Phase::kFree) slots.push_back(slot);
  }
  std::sort(slots.begin(), slots.end(),
            [this](uint32_t x, uint32_t y) { return flows_[x].serial < flows_[y].serial; });
  std::vector<double> rates(flows_.size(), 0.0);
  for (const FluidActivity& activity : fluid_.activities()) rates[activity.tag] = activity.rate;
  std::vector<FlowInfo> infos;
  infos.reserve(slots.size());
  for (const uint32_t slot : slots) {
    const Flow& flow = flows_[slot];
    infos.push_back(FlowInfo{flow.src, flow.dst, flow.bytes, flow.start,
                             flow.phase == Phase::kSending, rates[slot]});
  }
  return infos;
}

// ---- Routing ---------------------------------------------------------------------------------

bool Network::arc_usable(uint32_t arc) const {
  const Link& link = links_[arc / 2];
  return link.up && nodes_[index(link.a)].up && nodes_[index(link.b)].up;
}

void Network::invalidate_routes() {
  costs_to_.clear();
  routes_.clear();
}

bool Network::partitioned(NodeId a, NodeId b) const {
  for (const Partition& partition : partitions_) {
    if (!partition.active) continue;
    const uint8_t side_a = partition.side[index(a)];
    const uint8_t side_b = partition.side[index(b)];
    if (side_a != 0 && side_b != 0 && side_a != side_b) return true;
  }
  return false;
}

// The cost of the best route from every node to `dst`, by one Dijkstra rooted at `dst`. Every
// link has the same latency both ways, so a path dst -> v read backwards is a path v -> dst; the
// filter lets only `dst` among the hosts forward, so the paths found have no host in the middle.
const std::vector<Network::Cost>& Network::costs_to(NodeId dst) {
  auto [it, inserted] = costs_to_.try_emplace(index(dst));
  if (!inserted) return it->second;
  static constexpr Cost kInfinite{std::numeric_limits<int64_t>::max(),
                                  std::numeric_limits<uint32_t>::max()};
  std::vector<Cost>& costs = it->second;
  costs.assign(nodes_.size(), kInfinite);
  const boost::filtered_graph<Graph, RoutingFilter> live(graph_, RoutingFilter{this, index(dst)});
  const auto weight = boost::make_function_property_map<Graph::edge_descriptor, Cost>(
      [this](Graph::edge_descriptor edge) {
        const uint32_t arc = boost::get(boost::edge_index, graph_, edge);
        return Cost{links_[arc / 2].latency.ns(), 1};
      });
  const auto combine = [](const Cost& a, const Cost& b) {
    if (a == kInfinite || b == kInfinite) return kInfinite;
    return Cost{a.latency_ns + b.latency_ns, a.hops + b.hops};
  };
  boost::dijkstra_shortest_paths(live, boost::vertex(index(dst), graph_),
                                 boost::weight_map(weight)
                                     .distance_map(boost::make_iterator_property_map(
                                         costs.begin(), boost::get(boost::vertex_index, graph_)))
                                     .distance_compare(std::less<Cost>())
                                     .distance_combine(combine)
                                     .distance_inf(kInfinite)
                                     .distance_zero(Cost{}));
  return costs;
}

// Walks from src towards dst, each time to the smallest-id neighbour that stays on a shortest
// path. Every shortest-path prefix extends to a whole shortest path, so the greedy choice gives
// the lexicographically smallest node sequence among the shortest paths.
std::shared_ptr<const Network::Route> Network::find_route(HostId src, HostId dst) {
  const uint64_t key = (uint64_t{index(src)} << 32) | index(dst);
  if (const auto it = routes_.find(key); it != routes_.end()) return it->second;
  const std::vector<Cost>& costs = costs_to(dst);
  std::shared_ptr<Route> found;
  if (costs[index(src)].hops != std::numeric_limits<uint32_t>::max()) {
    found = std::make_shared<Route>();
    found->latency = Duration::nanoseconds(costs[index(src)].latency_ns);
    found->nodes.push_back(src);
    uint32_t at = index(src);
    while (at != index(dst)) {
      uint32_t best_node = UINT32_MAX;
      uint32_t best_arc = 0;
      for (const auto edge : boost::make_iterator_range(boost::out_edges(at, graph_))) {
        const uint32_t arc = boost::get(boost::edge_index, graph_, edge);
        const auto next = static_cast<uint32_t>(boost::target(edge, graph_));
        if (!arc_usable(arc) || (next != index(dst) && nodes_[next].is_host)) continue;
        const Cost& rest = costs[next];
        if (rest.hops == std::numeric_limits<uint32_t>::max()) continue;
        const Cost through{rest.latency_ns + links_[arc / 2].latency.ns(), rest.hops + 1};
        if (through == costs[at] && next < best_node) {
          best_node = next;
          best_arc = arc;
        }
      }
      SHARDLAB_ASSERT(best_node != UINT32_MAX, "no shortest-path step from node {} to {}",
                      name(NodeId{at}), name(dst));
      found->nodes.push_back(NodeId{best_node});
      found->arcs.push_back(best_arc);
      at = best_node;
    }
    found->weight =
        sharing_ == Sharing::kRtt ? 1.0 / std::max(found->latency.seconds(), kMinRttSeconds) : 1.0;
  }
  routes_.emplace(key, found);
  return found;
}

// ---- Transfers -------------------------------------------------------------------------------

uint32_t Network::allocate_flow() {
  ++active_flows_;
  if (free_flows_ != UINT32_MAX) {
    const uint32_t slot = free_flows_;
    free_flows_ = flows_[slot].next_free;
    return slot;
  }
  flows_.emplace_back();
  return static_cast<uint32_t>(flows_.size() - 1);
}

void Network::free_flow(uint32_t slot) {
  --active_flows_;
  flows_[slot] = Flow{};
  flows_[slot].next_free = free_flows_;
  free_flows_ = slot;
}

Future Network::transfer(HostId src, HostId dst, double bytes) {
  require_sealed("transfer");
  require_host(src, "transfer");
  require_host(dst, "transfer");
  if (!std::isfinite(bytes) || bytes < 0) {
    throw std::invalid_argument(
        fmt::format("Network::transfer: bytes must be finite and >= 0, got {}", bytes));
  }
  Future done = sim_.make_future();
  for (const NodeId end : {src, dst}) {
    if (!node_up(end)) {
      done.fail(FaultKind::kNodeDown, fmt::format("host {} is down", name(end)));
      return done;
    }
  }
  if (src == dst) {
    done.resolve();
    return done;
  }
  if (partitioned(src, dst)) {
    done.fail(FaultKind::kUnreachable,
              fmt::format("hosts {} and {} are partitioned", name(src), name(dst)));
    return done;
  }
  std::shared_ptr<const Route> found = find_route(src, dst);
  if (!found) {
    done.fail(FaultKind::kUnreachable,
              fmt::format("no live route from {} to {}", name(src), name(dst)));
    return done;
  }
  const uint32_t slot = allocate_flow();
  Flow& flow = flows_[slot];
  flow.phase = Phase::kLatency;
  flow.serial = next_serial_++;
  flow.src = src;
  flow.dst = dst;
  flow.bytes = bytes;
  flow.start = sim_.now();
  flow.latency_timer =
      sim_.schedule_at(sim_.now() + found->latency, [this, slot] { start_sending(slot); });
  flow.route = std::move(found);
  flow.done = done;
  done.set_cancel_hook(&Network::cancel_hook, this, slot);
  return done;
}

void Network::start_sending(uint32_t slot) {
  Flow& flow = flows_[slot];
  flow.latency_timer = EventId{};
  if (!(flow.bytes > 0)) {
    finish(slot);
    return;
  }
  flow.phase = Phase::kSending;
  flow.sending = fluid_.add(flow.bytes, flow.route->weight, slot);
}

void Network::finish(uint32_t slot) {
  Flow& flow = flows_[slot];
  trace(flow);
  Future done = std::move(flow.done);
  done.set_cancel_hook(nullptr, nullptr, 0);
  free_flow(slot);
  done.resolve();
}

void Network::cancel_hook(void* context, uint64_t token) {
  auto* net = static_cast<Network*>(context);
  const auto slot = static_cast<uint32_t>(token);
  Flow& flow = net->flows_[slot];
  if (flow.phase == Phase::kLatency) {
    net->sim_.cancel(flow.latency_timer);
    net->free_flow(slot);
  } else if (flow.phase == Phase::kSending) {
    const Future sending = std::move(flow.sending);
    net->free_flow(slot);
    sending.cancel();  // the FluidSet withdraws the activity and shares its bandwidth out
  }
}

void Network::trace(const Flow& flow) {
  Tracer* tracer = sim_.tracer();
  if (tracer == nullptr) return;
  // Named after the destination only: the track already names the source, and the tracer
  // interns names by linear search, so there are at most as many names as hosts.
  const uint32_t track = tracer->track(name(flow.src), "net");
  tracer->slice(track, fmt::format("to {}", name(flow.dst)), flow.start, sim_.now());
}

// Fails every transfer in flight for which pred(flow) holds. The futures are settled last, in
// start order, once the network is consistent: a woken combinator may cancel other transfers.
template <typename Pred>
void Network::fail_flows(Pred pred, FaultKind kind, const std::string& message) {
  bool any_sending = false;
  for (const Flow& flow : flows_) {
    any_sending = any_sending || (flow.phase == Phase::kSending && pred(flow));
  }
  if (any_sending) {
    // The FluidSet's own futures have no consumer; ours are failed below.
    fluid_.fail_if([&](const FluidActivity& activity) { return pred(flows_[activity.tag]); }, kind,
                   message);
  }
  std::vector<uint32_t> victims;
  for (uint32_t slot = 0; slot < flows_.size(); ++slot) {
    const Flow& flow = flows_[slot];
    if (flow.phase != Phase::kFree && pred(flow)) victims.push_back(slot);
  }
  std::sort(victims.begin(), victims.end(),
            [this](uint32_t x, uint32_t y) { return flows_[x].serial < flows_[y].serial; });
  std::vector<Future> failed;
  failed.reserve(victims.size());
  for (const uint32_t slot : victims) {
    Flow& flow = flows_[slot];
    if (flow.phase == Phase::kLatency) sim_.cancel(flow.latency_timer);
    flow.done.set_cancel_hook(nullptr, nullptr, 0);
    failed.push_back(std::move(flow.done));
    free_flow(slot);
  }
  for (const Future& done : failed) done.fail(kind, message);
}

void Network::set_link_up(LinkId link, bool up) {
  require_sealed("set_link_up");
  Link& l = links_[index(link)];
  if (l.up == up) return;
  l.up = up;
  invalidate_routes();
  if (up) return;
  const uint32_t forward = 2 * index(link);
  fail_flows(
      [forward](const Flow& flow) {
        for (const uint32_t arc : flow.route->arcs) {
          if (arc == forward || arc == forward + 1) return true;
        }
        return false;
      },
      FaultKind::kLinkDown, fmt::format("link {}-{} went down", name(l.a), name(l.b)));
}

void Network::set_node_up(NodeId node, bool up) {
  require_sealed("set_node_up");
  Node& n = nodes_[index(node)];
  if (n.up == up) return;
  n.up = up;
  invalidate_routes();
  if (up) return;
  fail_flows(
      [node](const Flow& flow) {
        const std::vector<NodeId>& nodes = flow.route->nodes;
        return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
      },
      FaultKind::kNodeDown, fmt::format("node {} went down", n.name));
}

PartitionId Network::partition(const std::vector<HostId>& a, const std::vector<HostId>& b) {
  require_sealed("partition");
  if (a.empty() || b.empty()) {
    throw std::invalid_argument("Network::partition: both groups must have hosts");
  }
  Partition cut;
  cut.active = true;
  cut.side.assign(nodes_.size(), 0);
  for (const auto& [group, side] : {std::pair{&a, uint8_t{1}}, std::pair{&b, uint8_t{2}}}) {
    for (const HostId host : *group) {
      require_host(host, "partition");
      if (cut.side[index(host)] != 0 && cut.side[index(host)] != side) {
        throw std::invalid_argument(
            fmt::format("Network::partition: host {} is in both groups", name(host)));
      }
      cut.side[index(host)] = side;
    }
  }
  const auto id = PartitionId{static_cast<uint32_t>(partitions_.size())};
  partitions_.push_back(std::move(cut));
  const std::vector<uint8_t>& side = partitions_.back().side;
  fail_flows(
      [&side](const Flow& flow) {
        const uint8_t s = side[index(flow.src)];
        const uint8_t d = side[index(flow.dst)];
        return s != 0 && d != 0 && s != d;
      },
      FaultKind::kUnreachable, "the hosts were partitioned");
  return id;
}

void Network::heal(PartitionId id) {
  require_sealed("heal");
  const uint32_t idx = static_cast<uint32_t>(id);
  if (idx >= partitions_.size() || !partitions_[idx].active) {
    throw std::invalid_argument(fmt::format("Network::heal: partition {} is not active", idx));
  }
  partitions_[idx].active = false;
  partitions_[idx].side.clear();
  partitions_[idx].side.shrink_to_fit();
}

// ---- Sharing ---------------------------------------------------------------------------------

// Weighted progressive filling (see the top of network.h). Per call: O(sum of route lengths)
// to build each arc's member list and freeze the flows, plus O(log A) per heap operation over
// the A arcs in use: one pop per bottleneck and one re-key per stale entry that reaches the top.
void Network::collect_arcs(std::span<const FluidActivity> activities) {
  touched_.clear();
  routes_of_.clear();
  for (const FluidActivity& activity : activities) {
    routes_of_.push_back(&flows_[activity.tag].route->arcs);
    for (const uint32_t arc : *routes_of_.back()) {
      ArcState& state = arcs_[arc];
      if (!state.touched) {
        state.touched = true;
        state.remaining = links_[arc / 2].bandwidth;
        state.weight = 0;
        state.unfrozen = 0;
        state.count = 0;
        touched_.push_back(arc);
      }
      state.weight += activity.weight;
      ++state.unfrozen;
      ++state.count;
    }
  }
}

void Network::group_by_arc(size_t activity_count) {
  uint32_t offset = 0;
  for (const uint32_t arc : touched_) {
    arcs_[arc].first = offset;
    offset += arcs_[arc].count;
    arcs_[arc].count = 0;
  }
  members_.resize(offset);
  for (uint32_t activity_idx = 0; activity_idx < activity_count; ++activity_idx) {
    for (const uint32_t arc : *routes_of_[activity_idx]) {
      ArcState& state = arcs_[arc];
      members_[state.first + state.count++] = activity_idx;
    }
  }
  frozen_.assign(activity_count, 0);
}

void Network::seed_heap() {
  heap_.clear();
  for (const uint32_t arc : touched_) {
    const ArcState& state = arcs_[arc];
    heap_.push_back({state.remaining / state.weight, arc, state.version});
  }
  std::make_heap(heap_.begin(), heap_.end(), HeapLater{});
}

Network::HeapEntry Network::pop_share() {
  std::pop_heap(heap_.begin(), heap_.end(), HeapLater{});
  const HeapEntry entry = heap_.back();
  heap_.pop_back();
  return entry;
}

void Network::push_share(uint32_t arc) {
  const ArcState& state = arcs_[arc];
  heap_.push_back({state.remaining / state.weight, arc, state.version});
  std::push_heap(heap_.begin(), heap_.end(), HeapLater{});
}

void Network::freeze(std::span<FluidActivity> activities, uint32_t arc, double level) {
  const ArcState& bottleneck = arcs_[arc];
  for (uint32_t member = bottleneck.first; member < bottleneck.first + bottleneck.count; ++member) {
    const uint32_t activity_idx = members_[member];
    if (frozen_[activity_idx]) continue;
    frozen_[activity_idx] = 1;
    FluidActivity& activity = activities[activity_idx];
    activity.rate = activity.weight * level;
    for (const uint32_t crossed : *routes_of_[activity_idx]) {
      ArcState& state = arcs_[crossed];
      state.remaining = std::max(0.0, state.remaining - activity.rate);
      if (--state.unfrozen == 0) {
        state.weight = 0;
      } else {
        state.weight -= activity.weight;
      }
      ++state.version;
    }
  }
}

void Network::compute_rates(std::span<FluidActivity> activities) {
  collect_arcs(activities);
  group_by_arc(activities.size());
  seed_heap();
  // A heap entry is a lower bound of its arc's fair share: freezing flows at the current level,
  // which is at most the arc's share, leaves (R - w * level) / (W - w) >= R / W. So an entry made
  // stale by a freeze is re-keyed only when it reaches the top (one push, not one per change),
  // and an up-to-date entry on top is the true minimum. `level` never goes down either, so
  // rounding in `remaining` cannot starve a flow.
  double level = 0;
  const auto tied = [&level](double share) { return share <= level * (1 + kTieTolerance); };
  while (!heap_.empty()) {
    const HeapEntry top = pop_share();
    if (arcs_[top.arc].unfrozen == 0) continue;
    if (top.version != arcs_[top.arc].version) {
      push_share(top.arc);
      continue;
    }
    level = std::max(level, top.share);
    freeze(activities, top.arc, level);
    // Every other constraint at the same level (to rounding) is a bottleneck too.
    while (!heap_.empty() && tied(heap_.front().share)) {
      const HeapEntry next = pop_share();
      const ArcState& state = arcs_[next.arc];
      if (state.unfrozen == 0) continue;
      if (next.version == state.version || tied(state.remaining / state.weight)) {
        freeze(activities, next.arc, level);
      } else {
        push_share(next.arc);
      }
    }
  }
  for (const uint32_t arc : touched_) arcs_[arc].touched = false;
}

}  // namespace shardlab::sim
