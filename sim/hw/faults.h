// Fault injection: when components fail and recover.
//
// A FaultTarget is anything that can fail and be repaired (a node, a link, a partition, a disk
// that turns slow); helpers below build the common ones. The injector applies them
//  * at given times: outage(target, at, length), or a one-off action with schedule();
//  * at random: random_outages(target, mtbf, mttr), alternating exponential up and down times
//    drawn from the stream "faults/<target name>", so each component's failures are
//    reproducible and independent of every other component's.
// Every transition is logged with its time, for results and for checking runs against each other.
// Outages of one target (by name) may overlap: it fails with the first and is repaired with the
// last, and only those two transitions are logged.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/core/simulation.h"
#include "sim/hw/network.h"

namespace shardlab::sim {

class Node;
class Disk;
class Cpu;

struct FaultTarget {
  std::string name;            // e.g. "node3", "link s0-s1", "partition rack0|rack1"
  std::function<void()> fail;
  std::function<void()> repair;
};

// Node crash (volatile state lost) and restart. `network_state(up)`, when given, marks the node's
// network endpoint down and up (its flows break).
FaultTarget node_crash(Node& node, std::function<void(bool up)> network_state = {});
// The disk's bandwidth scaled by `factor` while the fault lasts.
FaultTarget slow_disk(Disk& disk, std::string node, double factor);
// The CPU speed scaled by `factor` while the fault lasts.
FaultTarget slow_node(Cpu& cpu, std::string node, double factor);
// A link down and up again: the flows crossing it fail, routes avoid it meanwhile.
FaultTarget link_failure(Network& network, LinkId link);
// Traffic between two groups of hosts is cut, then healed.
FaultTarget network_partition(Network& network, std::vector<HostId> a, std::vector<HostId> b,
                              std::string name);
// The `network_state` callback of node_crash() for a node whose endpoint is `host`.
std::function<void(bool up)> network_endpoint(Network& network, HostId host);

class FaultInjector {
 public:
  struct Record {
    Time at;
    std::string target;
    bool up;  // false: failed, true: repaired
  };

  explicit FaultInjector(Simulation& sim) : sim_(sim) {}

  // Fails `target` at `at` and repairs it `length` later (never, for Duration::max()).
  void outage(FaultTarget target, Time at, Duration length);
  // Alternates Exp(mtbf) up-times and Exp(mttr) down-times until `until`.
  // REQUIRES: mtbf and mttr > 0.
  void random_outages(FaultTarget target, Duration mtbf, Duration mttr, Time until);

  const std::vector<Record>& log() const { return log_; }

 private:
  Process run_outage(FaultTarget target, Time at, Duration length);
  Process run_random(FaultTarget target, Duration mtbf, Duration mttr, Time until);
  void apply(const FaultTarget& target, bool up);

  Simulation& sim_;
  std::vector<Record> log_;
  std::map<std::string, int> active_outages_;  // by target name
};

}  // namespace shardlab::sim
