// Simulated time: base::Duration and base::Time (base/time.h) under the simulator's names. They
// live in base/ because the scenario reader, which must not depend on the simulator, states its
// durations in the same units.
#pragma once

#include "base/time.h"

namespace shardlab::sim {

using base::Duration;
using base::Time;

namespace time_literals {
using namespace base::time_literals;
}  // namespace time_literals

}  // namespace shardlab::sim
