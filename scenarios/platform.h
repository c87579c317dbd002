// PLATFORM.yaml: the hosts, switches and links of a simulated network, loaded into a sealed
// sim::Network.
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

#include <memory>
#include <string>
#include <string_view>

#include "sim/hw/network.h"

namespace shardlab::scenarios {

// Reads and loads the file at `path`. Throws InputError (also when the file cannot be read).
std::unique_ptr<sim::Network> load_platform(sim::Simulation& sim, const std::string& path);

// Loads YAML text; `source` names it in messages (a file name).
std::unique_ptr<sim::Network> parse_platform(sim::Simulation& sim, std::string_view yaml,
                                             const std::string& source);

// Loads an already parsed mapping, e.g. the `platform:` section of a larger scenario file.
std::unique_ptr<sim::Network> build_platform(sim::Simulation& sim, const YAML::Node& platform,
                                             const std::string& source);

}  // namespace shardlab::scenarios
