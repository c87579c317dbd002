#include "sim/hw/faults.h"

#include <memory>
#include <optional>

#include "sim/hw/node.h"

namespace shardlab::sim {

FaultTarget node_crash(Node& node, std::function<void(bool up)> network_state) {
  return FaultTarget{
      node.name(),
      [&node, network_state] {
        node.crash();
        if (network_state) network_state(false);
      },
      [&node, network_state] {
        node.restart();
        if (network_state) network_state(true);
      }};
}

FaultTarget slow_disk(Disk& disk, std::string node, double factor) {
  return FaultTarget{node + " disk", [&disk, factor] { disk.set_bandwidth_factor(factor); },
                     [&disk] { disk.set_bandwidth_factor(1.0); }};
}

FaultTarget slow_node(Cpu& cpu, std::string node, double factor) {
  return FaultTarget{node + " cpu", [&cpu, factor] { cpu.set_speed_factor(factor); },
                     [&cpu] { cpu.set_speed_factor(1.0); }};
}

FaultTarget link_failure(Network& network, LinkId link) {
  const std::string name =
      "link " + network.name(network.link_a(link)) + "-" + network.name(network.link_b(link));
  return FaultTarget{name, [&network, link] { network.set_link_up(link, false); },
                     [&network, link] { network.set_link_up(link, true); }};
}

FaultTarget network_partition(Network& network, std::vector<HostId> a, std::vector<HostId> b,
                              std::string name) {
  // The partition's id lives between fail and repair; shared by the two closures.
  auto id = std::make_shared<std::optional<PartitionId>>();
  return FaultTarget{"partition " + name,
                     [&network, a = std::move(a), b = std::move(b), id] {
                       *id = network.partition(a, b);
                     },
                     [&network, id] {
                       if (*id) network.heal(**id);
                       id->reset();
                     }};
}

std::function<void(bool up)> network_endpoint(Network& network, HostId host) {
  return [&network, host](bool up) { network.set_node_up(host, up); };
}

void FaultInjector::apply(const FaultTarget& target, bool up) {
  // Outages of one target may overlap (a scheduled one during a random one): the target fails
  // with the first and is repaired with the last.
  int& active = active_outages_[target.name];
  if (up) {
    if (--active > 0) return;
  } else if (active++ > 0) {
    return;
  }
  log_.push_back(Record{sim_.now(), target.name, up});
  (up ? target.repair : target.fail)();
}

void FaultInjector::outage(FaultTarget target, Time at, Duration length) {
  SHARDLAB_ASSERT(at >= sim_.now(), "fault '{}' scheduled in the past", target.name);
  sim_.spawn(run_outage(std::move(target), at, length));
}

Process FaultInjector::run_outage(FaultTarget target, Time at, Duration length) {
  co_await sim_.sleep(at - sim_.now());
  apply(target, false);
  if (length == Duration::max()) co_return;
  co_await sim_.sleep(length);
  apply(target, true);
}

void FaultInjector::random_outages(FaultTarget target, Duration mtbf, Duration mttr, Time until) {
  SHARDLAB_ASSERT(mtbf > Duration() && mttr > Duration(), "MTBF and MTTR must be positive for {}",
                  target.name);
  sim_.spawn(run_random(std::move(target), mtbf, mttr, until));
}

Process FaultInjector::run_random(FaultTarget target, Duration mtbf, Duration mttr, Time until) {
  RandomStream rng = sim_.stream("faults/" + target.name);
  for (;;) {
    const auto up_for = Duration::from_seconds(rng.exponential(mtbf.seconds()));
    if (sim_.now() + up_for >= until) co_return;
    co_await sim_.sleep(up_for);
    apply(target, false);
    // Repair always happens, even past `until`, so that the run does not end with a component
    // stuck in a state the random process put it in.
    co_await sim_.sleep(Duration::from_seconds(rng.exponential(mttr.seconds())));
    apply(target, true);
  }
}

}  // namespace shardlab::sim
