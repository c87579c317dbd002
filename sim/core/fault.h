// What a waiting process gets when the thing it waits on fails. Simulated faults are ordinary
// outcomes of a model (a crashed node, a broken link, a timeout), not bugs: they travel as
// SimFault exceptions out of co_await so that cluster logic reads top to bottom with try/catch.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace shardlab::sim {

enum class FaultKind : uint8_t {
  kCancelled,    // the consumer withdrew the request (any_of loser, explicit cancel)
  kTimeout,      // with_timeout() expired first
  kInterrupted,  // Simulation::interrupt() on the waiting process
  kNodeDown,     // the node the work ran on crashed
  kLinkDown,     // a link on the flow's path failed
  kUnreachable,  // no live route between the endpoints
  kRefused,      // a resource refused the request (memory limit)
  kFailed,       // a process ended with a fault of its own
};

const char* fault_kind_name(FaultKind kind);

class SimFault : public std::runtime_error {
 public:
  SimFault(FaultKind kind, const std::string& message)
      : std::runtime_error(message.empty() ? std::string(fault_kind_name(kind)) : message),
        kind_(kind) {}
  FaultKind kind() const { return kind_; }

 private:
  FaultKind kind_;
};

}  // namespace shardlab::sim
