#include "scenarios/platform.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/errors.h"
#include "experiment/cluster_binding.h"
#include "sim/core/simulation.h"
#include "sim/hw/network.h"

using shardlab::InputError;
using namespace shardlab::scenarios;
using namespace shardlab::sim;
using namespace shardlab::sim::time_literals;
using Catch::Matchers::Contains;

namespace {

// A PLATFORM.yaml in a fresh temporary file, removed at the end of the test.
class TempPlatform {
 public:
  explicit TempPlatform(const std::string& text) {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("shardlab_platform_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) +
             ".yaml");
    std::ofstream(path_) << text;
  }
  ~TempPlatform() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// The message of loading `text` from a file, which must fail, with the file's temporary path
// written as "PLATFORM.yaml".
std::string load_error(const std::string& text) {
  TempPlatform file(text);
  try {
    load_platform(file.path());
  } catch (const InputError& e) {
    std::string message = e.what();
    for (size_t at = message.find(file.path()); at != std::string::npos;
         at = message.find(file.path())) {
      message.replace(at, file.path().size(), "PLATFORM.yaml");
    }
    return message;
  }
  FAIL("the platform was accepted:\n" << text);
  return {};
}

}  // namespace

TEST_CASE("platform: a valid file becomes a sealed network", "[scenarios][platform]") {
  using shardlab::experiment::build_network;
  TempPlatform file(
      "sharing: rtt            # or maxmin\n"
      "hosts: [h0, h1, h2]\n"
      "switches: [s0]\n"
      "links:\n"
      "  - {a: h0, b: s0, bandwidth: 1.25e9, latency: 5.0e-5}\n"
      "  - {a: h1, b: s0, bandwidth: 10Gbit/s, latency: 50us}\n"
      "  - a: h2\n"
      "    b: s0\n"
      "    bandwidth: 1GiB/s\n"
      "    latency: 1ms\n");
  const Platform platform = load_platform(file.path());
  CHECK(platform.hosts == std::vector<std::string>{"h0", "h1", "h2"});
  CHECK(platform.switches == std::vector<std::string>{"s0"});
  REQUIRE(platform.links.size() == 3);
  CHECK(platform.links[0].latency == 50_us);
  Simulation sim;
  const std::unique_ptr<Network> net = build_network(sim, platform);
  CHECK(net->sealed());
  CHECK(net->sharing() == shardlab::sim::Sharing::kRtt);
  CHECK(net->node_count() == 4);
  CHECK(net->link_count() == 3);
  const HostId h0 = *net->find_host("h0");
  const HostId h1 = *net->find_host("h1");
  const HostId h2 = *net->find_host("h2");
  CHECK(net->route_latency(h0, h1) == 100_us);
  CHECK(net->route_latency(h0, h2) == 1050_us);
  const LinkId link = *net->find_link(h1, *net->find_node("s0"));
  CHECK(net->link_bandwidth(link) == 1.25e9);
  CHECK(net->link_bandwidth(*net->find_link(h2, *net->find_node("s0"))) == 1073741824.0);

  Simulation sim2;
  const std::unique_ptr<Network> defaults =
      build_network(sim2, parse_platform("hosts: [only]\n", "inline.yaml"));
  CHECK(defaults->sharing() == shardlab::sim::Sharing::kMaxMin);
  CHECK(defaults->link_count() == 0);
}

TEST_CASE("platform: every mistake names file:line:col and what was expected",
          "[scenarios][platform]") {
  SECTION("YAML syntax") {
    const std::string message = load_error("hosts: [h0, h1\nlinks: []\n");
    CHECK_THAT(message, Contains("PLATFORM.yaml:") && Contains("invalid YAML"));
  }
  SECTION("not a mapping") {
    CHECK_THAT(load_error("- h0\n- h1\n"),
               Contains("PLATFORM.yaml:1:1") && Contains("expected a mapping with the keys"));
  }
  SECTION("empty") {
    CHECK_THAT(load_error(""), Contains("PLATFORM.yaml") && Contains("the platform is empty"));
  }
  SECTION("unknown key") {
    CHECK_THAT(load_error("hosts: [h0]\nhostz: [h1]\n"),
               Contains("PLATFORM.yaml:2:1") && Contains("unknown key 'hostz'") &&
                   Contains("expected one of sharing, hosts, switches, links"));
  }
  SECTION("repeated key") {
    CHECK_THAT(load_error("hosts: [h0]\nhosts: [h1]\n"),
               Contains("PLATFORM.yaml:2:1") && Contains("duplicate key 'hosts'"));
  }
  SECTION("missing hosts") {
    CHECK_THAT(load_error("switches: [s0]\n"),
               Contains("PLATFORM.yaml:1:1") && Contains("no 'hosts'"));
  }
  SECTION("hosts not a list") {
    CHECK_THAT(load_error("hosts: h0\n"),
               Contains("PLATFORM.yaml:1:8") && Contains("expected a list of host names"));
  }
  SECTION("bad name") {
    CHECK_THAT(load_error("hosts: [h0, 'h 1']\n"), Contains("PLATFORM.yaml:1:13") &&
                                                       Contains("bad host name 'h 1'") &&
                                                       Contains("letters, digits"));
  }
  SECTION("duplicate names across hosts and switches") {
    CHECK_THAT(load_error("hosts: [h0, s0]\nswitches: [s1, s0]\n"),
               Contains("PLATFORM.yaml:2:16") && Contains("duplicate name 's0'") &&
                   Contains("first declared at PLATFORM.yaml:1:13"));
  }
  SECTION("unknown host in a link") {
    CHECK_THAT(load_error("hosts: [h0]\nswitches: [s0]\nlinks:\n"
                          "  - {a: h0, b: s1, bandwidth: 1e9, latency: 1ms}\n"),
               Contains("PLATFORM.yaml:4:16") && Contains("unknown node 's1'") &&
                   Contains("declared under hosts or switches"));
  }
  SECTION("missing field in a link") {
    CHECK_THAT(load_error("hosts: [h0, h1]\nlinks:\n  - {a: h0, b: h1, bandwidth: 1e9}\n"),
               Contains("PLATFORM.yaml:3:5") && Contains("no 'latency'") &&
                   Contains("a, b, bandwidth, latency"));
  }
  SECTION("unknown field in a link") {
    CHECK_THAT(load_error("hosts: [h0, h1]\nlinks:\n"
                          "  - {a: h0, b: h1, bandwidth: 1e9, latency: 0, mtu: 9000}\n"),
               Contains("PLATFORM.yaml:3:48") && Contains("unknown key 'mtu' in a link"));
  }
  SECTION("ambiguous bandwidth unit") {
    CHECK_THAT(
        load_error("hosts: [h0, h1]\nlinks:\n"
                   "  - {a: h0, b: h1, bandwidth: 10G, latency: 1ms}\n"),
        Contains("PLATFORM.yaml:3:31") && Contains("bad bandwidth '10G'") && Contains("10Gbit/s"));
  }
  SECTION("negative bandwidth") {
    CHECK_THAT(load_error("hosts: [h0, h1]\nlinks:\n"
                          "  - {a: h0, b: h1, bandwidth: -1e9, latency: 1ms}\n"),
               Contains("PLATFORM.yaml:3:31") && Contains("must not be negative"));
  }
  SECTION("zero bandwidth") {
    CHECK_THAT(load_error("hosts: [h0, h1]\nlinks:\n"
                          "  - {a: h0, b: h1, bandwidth: 0, latency: 1ms}\n"),
               Contains("PLATFORM.yaml:3:31") && Contains("must be > 0"));
  }
  SECTION("negative latency") {
    CHECK_THAT(
        load_error("hosts: [h0, h1]\nlinks:\n"
                   "  - {a: h0, b: h1, bandwidth: 1e9, latency: -5us}\n"),
        Contains("PLATFORM.yaml:3:45") && Contains("bad duration '-5us'") && Contains("negative"));
  }
  SECTION("bad latency unit") {
    CHECK_THAT(load_error("hosts: [h0, h1]\nlinks:\n"
                          "  - {a: h0, b: h1, bandwidth: 1e9, latency: 5m}\n"),
               Contains("PLATFORM.yaml:3:45") && Contains("'m' is ambiguous"));
  }
  SECTION("a link to itself and a repeated link") {
    CHECK_THAT(load_error("hosts: [h0, h1]\nlinks:\n"
                          "  - {a: h0, b: h0, bandwidth: 1e9, latency: 0}\n"),
               Contains("PLATFORM.yaml:3:5") && Contains("cannot join 'h0' to itself"));
    CHECK_THAT(load_error("hosts: [h0, h1]\nlinks:\n"
                          "  - {a: h0, b: h1, bandwidth: 1e9, latency: 0}\n"
                          "  - {a: h1, b: h0, bandwidth: 1e9, latency: 0}\n"),
               Contains("PLATFORM.yaml:4:5") && Contains("already linked"));
  }
  SECTION("bad sharing") {
    CHECK_THAT(load_error("sharing: fair\nhosts: [h0]\n"), Contains("PLATFORM.yaml:1:10") &&
                                                               Contains("unknown sharing 'fair'") &&
                                                               Contains("'maxmin' or 'rtt'"));
  }
  SECTION("unreadable file") {
    CHECK_THROWS_WITH(load_platform("/nonexistent/platform.yaml"),
                      Contains("cannot read the platform file '/nonexistent/platform.yaml'"));
  }
}

TEST_CASE("platform: validate_platform refuses what a network cannot hold", "[scenarios][platform]") {
  Platform platform;
  platform.hosts = {"h0", "h1"};
  platform.switches = {"s0"};
  platform.links = {{"h0", "s0", 1e9, 10_us}, {"h1", "s0", 1e9, 10_us}};
  CHECK_NOTHROW(validate_platform(platform));
  Platform twice = platform;
  twice.switches.push_back("h1");
  CHECK_THROWS_WITH(validate_platform(twice), Contains("duplicate node name 'h1'"));
  Platform unknown = platform;
  unknown.links.push_back({"h0", "s9", 1e9, 10_us});
  CHECK_THROWS_WITH(validate_platform(unknown), Contains("unknown node 's9'"));
  Platform repeated = platform;
  repeated.links.push_back({"s0", "h0", 1e9, 10_us});
  CHECK_THROWS_WITH(validate_platform(repeated), Contains("'s0' and 'h0' are already linked"));
  Platform slow = platform;
  slow.links[0].bandwidth_bytes_per_s = 0;
  CHECK_THROWS_WITH(validate_platform(slow), Contains("finite and > 0"));
}
