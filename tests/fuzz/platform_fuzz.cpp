// The platform reader (scenarios/platform.h): YAML text in, a Platform or an InputError out. A
// platform that loads is built into the simulator's sealed network (experiment/cluster_binding.h)
// and asked for routes between its first hosts, which walks the links the reader described.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "experiment/cluster_binding.h"
#include "scenarios/platform.h"
#include "sim/core/simulation.h"
#include "sim/hw/network.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

// Routes are computed for pairs among this many nodes at most, to keep each run short.
constexpr uint32_t kRouteNodes = 16;

void ask_routes(shardlab::sim::Network& net) {
  namespace sim = shardlab::sim;
  const uint32_t nodes = static_cast<uint32_t>(std::min<size_t>(net.node_count(), kRouteNodes));
  for (uint32_t a = 0; a < nodes; ++a) {
    for (uint32_t b = 0; b < nodes; ++b) {
      const auto src = static_cast<sim::NodeId>(a);
      const auto dst = static_cast<sim::NodeId>(b);
      if (net.is_host(src) && net.is_host(dst)) (void)net.route_latency(src, dst);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fuzz = shardlab::fuzz;
  shardlab::sim::Simulation sim;
  std::unique_ptr<shardlab::sim::Network> net;
  fuzz::expect_clean(
      [&] {
        const auto platform =
            shardlab::scenarios::parse_platform(fuzz::as_text(data, size), "fuzz.yaml");
        net = shardlab::experiment::build_network(sim, platform);
      },
      /*data_errors_ok=*/false);
  if (net) ask_routes(*net);
  return 0;
}
