// The network: hosts and switches joined by full-duplex links, and flow-level bandwidth sharing.
//
// Lifecycle. A Network is built (add_host, add_switch, add_link, set_sharing), then seal()ed;
// after that the topology is fixed and only the state of links and nodes changes. Building
// mistakes (duplicate names, self-loops, non-positive bandwidth) throw InputError at once, and
// misuse of the lifecycle (adding after seal(), transferring before it) throws std::logic_error.
//
// A transfer of `bytes` from host `src` to host `dst` goes through two phases:
//
//     kLatency --(sum of link latencies on the route)--> kSending --(last byte sent)--> done
//
// It holds no bandwidth while in kLatency. In kSending it is one activity of a FluidSet whose
// rates come from max-min fair sharing over every link direction the route crosses; its finish
// time is the instant its last byte is sent. A transfer of 0 bytes takes the route latency.
// A transfer from a host to itself is done at once (it never touches the network), unless the
// host is down.
//
// Sharing. Each direction of a link is one capacity constraint of the link's full bandwidth, so
// opposite directions never compete. Rates are the weighted max-min fair allocation, found by
// progressive filling: repeatedly take the constraint with the smallest fair share
// (remaining capacity / sum of the weights of its unfrozen flows), freeze those flows at
// weight * share, subtract their rates from every constraint they cross, and repeat. The weight
// of a flow is 1 in Sharing::kMaxMin, and 1 / (its route latency) in Sharing::kRtt, which gives
// flows with short round trips a proportionally larger share, as TCP does (the same idea as
// SimGrid's CM02 model; the one-way latency is proportional to the round trip, and a route of
// zero latency counts as 1 ns). Rates are recomputed whenever a flow starts sending, ends, is
// cancelled or fails.
//
// Routing. A route is a shortest path by total latency over live links and live nodes. Only
// switches forward: a host is never in the middle of a route. Ties are broken by fewer hops,
// then by the lexicographically smallest sequence of node ids (ids are given in declaration
// order, hosts and switches counted together). Routes are cached until a link or node changes
// state. A transfer keeps the route it started with; it is not moved when a better route
// appears later.
//
// Failures. A link or node going down fails every transfer whose route crosses it, in either
// phase, with FaultKind::kLinkDown or kNodeDown (a host's own transfers included). Transfers
// started while an endpoint is down fail with kNodeDown, and those with no live route with
// kUnreachable. partition(a, b) cuts traffic between two groups of hosts, as a firewall rule
// would: transfers in flight between the groups fail with kUnreachable, and so do new ones,
// until heal(). Traffic within a group, or with hosts in neither group, is unaffected, and
// routes are not changed by partitions. Failed futures settle in the order their transfers
// started. Nothing comes back up by itself.
//
// Cancelling a transfer's future withdraws it in either phase; the bandwidth it held is shared
// among the others from that instant.
//
// Tracing. With Simulation::tracer() set, every finished transfer is one slice named "to DST"
// on the track (SRC, "net"), from the call to transfer() to the last byte. Failed and cancelled
// transfers leave no slice.
//
// Exactness. Between two changes every rate is constant, so finish instants are exact up to the
// FluidSet's rounding up to whole nanoseconds. Bottlenecks whose fair shares agree to 1e-12
// (relative) are filled as one level, so that symmetric flows get bit-identical rates instead of
// rates a few ulps apart.
#pragma once

#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sim/core/simulation.h"
#include "sim/hw/fluid_set.h"

namespace shardlab::sim {

enum class NodeId : uint32_t {};
enum class LinkId : uint32_t {};
// A host's node id; transfers start and end at hosts.
using HostId = NodeId;
// Names one partition() for heal().
enum class PartitionId : uint32_t {};

enum class Sharing : uint8_t {
  kMaxMin,  // every flow has the same weight
  kRtt,     // a flow's weight is inversely proportional to its route latency
};

// "maxmin" or "rtt".
const char* sharing_name(Sharing sharing);

class Network {
 public:
  // REQUIRES: `sim` outlives the network.
  explicit Network(Simulation& sim, Sharing sharing = Sharing::kMaxMin);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // ---- Building. REQUIRES: !sealed() (else std::logic_error).

  // Names are unique across hosts and switches and non-empty (else InputError).
  HostId add_host(std::string name);
  NodeId add_switch(std::string name);
  // A full-duplex link: each direction carries `bandwidth_bytes_per_s`. InputError unless
  // a != b, no link joins them yet (model a bundle of parallel links as one link with their
  // summed bandwidth), the bandwidth is finite and > 0 and the latency >= 0.
  // REQUIRES: a and b were returned by add_host/add_switch (else std::invalid_argument).
  LinkId add_link(NodeId a, NodeId b, double bandwidth_bytes_per_s, Duration latency);
  void set_sharing(Sharing sharing);
  // Fixes the topology. Idempotent.
  void seal();

  // ---- Running. REQUIRES: sealed() (else std::logic_error).

  // Sends `bytes` from `src` to `dst`; the future resolves when the last byte is sent and fails
  // as described at the top of this file. Cancelling it withdraws the transfer.
  // REQUIRES: src and dst are hosts; bytes is finite and >= 0 (else std::invalid_argument).
  Future transfer(HostId src, HostId dst, double bytes);

  // Changing the state of a link or node: see "Failures" above. Setting the current state again
  // does nothing.
  void set_link_up(LinkId link, bool up);
  void set_node_up(NodeId node, bool up);
  // Blocks traffic between hosts of `a` and hosts of `b`. REQUIRES: both non-empty, hosts only,
  // no host in both (else std::invalid_argument).
  PartitionId partition(const std::vector<HostId>& a, const std::vector<HostId>& b);
  // Lifts a partition. REQUIRES: `id` is active (else std::invalid_argument).
  void heal(PartitionId id);

  // ---- Inspection.

  bool sealed() const { return sealed_; }
  Sharing sharing() const { return sharing_; }
  size_t node_count() const { return nodes_.size(); }
  size_t link_count() const { return links_.size(); }
  std::optional<NodeId> find_node(std::string_view name) const;
  // The id of host `name`, or nullopt when there is no such host (a switch is not a host).
  std::optional<HostId> find_host(std::string_view name) const;
  std::optional<LinkId> find_link(NodeId a, NodeId b) const;  // either order
  const std::string& name(NodeId node) const { return nodes_[index(node)].name; }
  bool is_host(NodeId node) const { return nodes_[index(node)].is_host; }
  bool node_up(NodeId node) const { return nodes_[index(node)].up; }
  bool link_up(LinkId link) const { return links_[index(link)].up; }
  NodeId link_a(LinkId link) const { return links_[index(link)].a; }
  NodeId link_b(LinkId link) const { return links_[index(link)].b; }
  double link_bandwidth(LinkId link) const { return links_[index(link)].bandwidth; }
  Duration link_latency(LinkId link) const { return links_[index(link)].latency; }

  // The route a transfer started now would take, as nodes from src to dst; empty when there is
  // none (an endpoint down, no live path, or a partition between them). REQUIRES: sealed().
  std::vector<NodeId> route(HostId src, HostId dst);
  // Its total latency, or nullopt when there is no route. Zero when src == dst.
  std::optional<Duration> route_latency(HostId src, HostId dst);
  // Sum of the current rates of the flows sending from `from` over `link`, divided by the
  // bandwidth: 0..1. REQUIRES: `from` is an end of `link`.
  double link_utilization(LinkId link, NodeId from) const;
  // A transfer in flight, for reports and tests.
  struct FlowInfo {
    HostId src{};
    HostId dst{};
    double bytes = 0;
    Time start;
    bool sending = false;  // false: still in its latency phase
    double rate = 0;       // bytes per second, while sending
  };
  // The transfers in flight, in start order.
  std::vector<FlowInfo> flows() const;
  // Transfers in flight, in either phase.
  size_t active_flows() const { return active_flows_; }
  // Transfers in the sending phase (holding bandwidth).
  size_t sending_flows() const { return fluid_.size(); }

 private:
  // Routing cost: latency first, then hops. Compared lexicographically.
  struct Cost {
    int64_t latency_ns = 0;
    uint32_t hops = 0;
    friend bool operator==(const Cost&, const Cost&) = default;
    friend auto operator<=>(const Cost&, const Cost&) = default;
  };
  struct Route {
    std::vector<NodeId> nodes;   // src ... dst
    std::vector<uint32_t> arcs;  // link directions crossed: 2 * link + (0 if a->b, 1 if b->a)
    Duration latency;
    double weight = 1;  // the flow's sharing weight
  };
  struct Node {
    std::string name;
    bool is_host = false;
    bool up = true;
  };
  struct Link {
    NodeId a;
    NodeId b;
    double bandwidth = 0;
    Duration latency;
    bool up = true;
  };
  enum class Phase : uint8_t { kFree, kLatency, kSending };
  struct Flow {
    Phase phase = Phase::kFree;
    uint64_t serial = 0;  // start order, for deterministic failure order
    NodeId src{};
    NodeId dst{};
    double bytes = 0;
    Time start;
    std::shared_ptr<const Route> route;
    Future done;     // the caller's future
    Future sending;  // the FluidSet activity, in kSending
    EventId latency_timer;
    uint32_t next_free = 0;
  };
  struct Partition {
    bool active = false;
    std::vector<uint8_t> side;  // per node: 0 neither, 1 group a, 2 group b
  };
  // The directed graph used by routing: two arcs per link, arc index 2 * link + direction.
  using Graph =
      boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                            boost::property<boost::edge_index_t, uint32_t>>;
  struct RoutingFilter;

  static uint32_t index(NodeId id) { return static_cast<uint32_t>(id); }
  static uint32_t index(LinkId id) { return static_cast<uint32_t>(id); }
  void require_building(const char* what) const;
  void require_sealed(const char* what) const;
  void require_host(NodeId node, const char* what) const;
  NodeId add_node(std::string name, bool is_host);

  // Routing.
  const std::vector<Cost>& costs_to(NodeId dst);
  std::shared_ptr<const Route> find_route(HostId src, HostId dst);
  void invalidate_routes();
  bool partitioned(NodeId a, NodeId b) const;
  bool arc_usable(uint32_t arc) const;

  // Flows.
  uint32_t allocate_flow();
  void free_flow(uint32_t slot);
  void start_sending(uint32_t slot);
  void finish(uint32_t slot);
  // Sets each activity's rate to its weighted max-min fair share (see "Sharing" above).
  void compute_rates(std::span<FluidActivity> activities);
  template <typename Pred>
  void fail_flows(Pred pred, FaultKind kind, const std::string& message);
  static void cancel_hook(void* context, uint64_t slot);
  void trace(const Flow& flow);

  Simulation& sim_;
  Sharing sharing_;
  bool sealed_ = false;
  std::vector<Node> nodes_;
  std::vector<Link> links_;
  std::unordered_map<std::string, NodeId> by_name_;
  std::unordered_map<uint64_t, LinkId> by_ends_;  // key: (min id << 32) | max id
  Graph graph_;

  // Route cache, emptied on every change of link or node state. Looked up, never iterated.
  std::unordered_map<uint32_t, std::vector<Cost>> costs_to_;
  std::unordered_map<uint64_t, std::shared_ptr<const Route>> routes_;

  std::vector<Partition> partitions_;

  std::vector<Flow> flows_;  // slots; FluidActivity::tag is the slot
  uint32_t free_flows_ = UINT32_MAX;
  uint64_t next_serial_ = 1;
  size_t active_flows_ = 0;

  // Scratch of compute_rates(), kept to avoid allocating on every recompute. Indexed by arc.
  struct ArcState {
    double remaining = 0;  // capacity not yet given to frozen flows
    double weight = 0;     // sum of the weights of unfrozen flows
    uint32_t unfrozen = 0;
    uint32_t version = 0;  // bumped when remaining/weight change; stale heap entries differ
    uint32_t first = 0;    // this arc's flows: members_[first, first + count)
    uint32_t count = 0;
    bool touched = false;
  };
  std::vector<ArcState> arcs_;
  std::vector<uint32_t> touched_;
  std::vector<const std::vector<uint32_t>*> routes_of_;  // per activity: its route's arcs
  std::vector<uint32_t> members_;                        // activity indices grouped by arc
  std::vector<uint8_t> frozen_;
  struct HeapEntry {
    double share;
    uint32_t arc;
    uint32_t version;
  };
  // A min-heap on (share, arc): equal shares pop in arc order, so the run is deterministic.
  struct HeapLater {
    bool operator()(const HeapEntry& x, const HeapEntry& y) const {
      return x.share > y.share || (x.share == y.share && x.arc > y.arc);
    }
  };
  std::vector<HeapEntry> heap_;
  // compute_rates' steps, over the scratch above. collect_arcs resets the arcs the activities
  // cross and sums their weights; group_by_arc lists each arc's activities in members_.
  void collect_arcs(std::span<const FluidActivity> activities);
  void group_by_arc(size_t activity_count);
  void seed_heap();
  HeapEntry pop_share();
  // Pushes `arc` keyed by its current fair share.
  void push_share(uint32_t arc);
  // Gives every unfrozen activity on `arc` the rate weight * level, and takes it from the
  // capacity and weight of every arc the activity crosses.
  void freeze(std::span<FluidActivity> activities, uint32_t arc, double level);

  FluidSet fluid_;  // last member: destroyed first, while the flows it refers to still exist
};

}  // namespace shardlab::sim
