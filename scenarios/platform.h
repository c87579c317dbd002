// PLATFORM.yaml: the hosts, switches and links of a simulated network, read into plain values
// (Platform); experiment/cluster_binding.h builds the simulator's sealed network from them.
//
//     sharing: rtt            # or maxmin (the default): see sim/hw/network.h
//     hosts: [h0, h1, h2]     # required; node ids follow declaration order, hosts first
//     switches: [s0]          # optional
//     links:                  # optional; each needs all four fields
//       - {a: h0, b: s0, bandwidth: 1.25e9, latency: 5.0e-5}   # bytes/s and seconds
//       - {a: h1, b: s0, bandwidth: 10Gbit/s, latency: 50us}    # or units (scenarios/units.h)
//
// Names are letters, digits and `_ . : -`, unique across hosts and switches. Every mistake is an
// InputError that starts with file:line:col and says what was expected: YAML syntax, unknown or
// repeated keys, missing fields, unknown or duplicate names, a link joining a node to itself or
// repeating another, bad units, a bandwidth that is not > 0, a negative latency, a bad `sharing`.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/units.h"

namespace shardlab::scenarios {

// How concurrent flows share a link (sim/hw/network.h has the model of each).
enum class Sharing : uint8_t {
  kMaxMin,  // every flow has the same weight
  kRtt,     // a flow's weight is inversely proportional to its route latency
};

// "maxmin" or "rtt", as the files spell them.
const char* sharing_name(Sharing sharing);

// A full-duplex link: `bandwidth_bytes_per_s` in each direction, `latency` one way.
struct TopologyLink {
  std::string a;
  std::string b;
  double bandwidth_bytes_per_s = 0;
  Duration latency;
};

// A validated network: names unique and valid, links between declared distinct nodes, at most
// one link per pair, bandwidths finite and > 0, latencies >= 0. Node ids follow the order here:
// hosts, then switches.
struct Platform {
  Sharing sharing = Sharing::kMaxMin;
  std::vector<std::string> hosts;
  std::vector<std::string> switches;
  std::vector<TopologyLink> links;
};

// Reads the file at `path`. Throws InputError (also when the file cannot be read).
Platform load_platform(const std::string& path);

// Reads YAML text; `source` names it in messages (a file name).
Platform parse_platform(std::string_view yaml, const std::string& source);

// Reads an already parsed mapping, e.g. the `platform:` section of a larger file.
Platform read_platform(const YAML::Node& platform, const std::string& source);

// Checks the rules above on values built elsewhere (the racks shorthand); throws InputError
// without a place, since the values have none.
void validate_platform(const Platform& platform);

}  // namespace shardlab::scenarios
