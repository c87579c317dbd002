#include "scenarios/units.h"

#include <catch2/catch.hpp>
#include <string>

#include "base/errors.h"

using shardlab::InputError;
using namespace shardlab::scenarios;
using namespace shardlab::base::time_literals;

namespace {
// The message of the InputError that parsing `text` throws.
template <typename Parse>
std::string error_of(Parse parse, const std::string& text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("'" << text << "' was accepted");
  return {};
}
const auto bandwidth = [](const std::string& text) { return parse_bandwidth(text); };
const auto bytes = [](const std::string& text) { return parse_bytes(text); };
const auto duration = [](const std::string& text) { return parse_duration(text); };
}  // namespace

TEST_CASE("bandwidths: bytes or bits per second, SI and binary prefixes", "[scenarios][units]") {
  CHECK(parse_bandwidth("1.25e9") == 1.25e9);
  CHECK(parse_bandwidth("125") == 125);
  CHECK(parse_bandwidth("10Gbit/s") == 1.25e9);
  CHECK(parse_bandwidth("10Gbps") == 1.25e9);
  CHECK(parse_bandwidth("10 Gbit/s") == 1.25e9);
  CHECK(parse_bandwidth(" 100Mbit/s ") == 12.5e6);
  CHECK(parse_bandwidth("1.25GB/s") == 1.25e9);
  CHECK(parse_bandwidth("125MB/s") == 125e6);
  CHECK(parse_bandwidth("1GiB/s") == 1073741824.0);
  CHECK(parse_bandwidth("8Kibit/s") == 1024);
  CHECK(parse_bandwidth("1kB/s") == 1000);
  CHECK(parse_bandwidth("2B/s") == 2);
  CHECK(parse_bandwidth("800bit/s") == 100);
  CHECK(parse_bandwidth("0") == 0);
  CHECK(parse_bandwidth(".5MB/s") == 500000);
}

TEST_CASE("bandwidths: ambiguous and malformed values are refused", "[scenarios][units]") {
  using Catch::Matchers::Contains;
  CHECK_THAT(error_of(bandwidth, "10G"), Contains("'10G'") && Contains("no unit") &&
                                             Contains("10GB/s") && Contains("10Gbit/s"));
  CHECK_THAT(error_of(bandwidth, "10Gb"), Contains("ambiguous") && Contains("Gbit/s"));
  CHECK_THAT(error_of(bandwidth, "10Gb/s"), Contains("ambiguous") && Contains("GB/s"));
  CHECK_THAT(error_of(bandwidth, "10GBps"), Contains("GB/s") && Contains("Gbps"));
  CHECK_THAT(error_of(bandwidth, "10gbit/s"), Contains("case-sensitive"));
  CHECK_THAT(error_of(bandwidth, "10Kbit/s"), Contains("kbit/s") && Contains("Kibit/s"));
  CHECK_THAT(error_of(bandwidth, "10GB"), Contains("a size, not a bandwidth") && Contains("GB/s"));
  CHECK_THAT(error_of(bandwidth, "-1GB/s"), Contains("negative"));
  CHECK_THAT(error_of(bandwidth, "inf"), Contains("expected a bandwidth"));
  CHECK_THAT(error_of(bandwidth, "nan"), Contains("expected a bandwidth"));
  CHECK_THAT(error_of(bandwidth, "1e999"), Contains("out of range"));
  CHECK_THAT(error_of(bandwidth, ""), Contains("empty"));
  CHECK_THAT(error_of(bandwidth, "fast"), Contains("expected a bandwidth such as 10Gbit/s"));
  CHECK_THAT(error_of(bandwidth, "10 furlongs"), Contains("unknown unit 'furlongs'"));
}

TEST_CASE("sizes: bytes with SI and binary prefixes", "[scenarios][units]") {
  CHECK(parse_bytes("1000") == 1000);
  CHECK(parse_bytes("2TB") == 2e12);
  CHECK(parse_bytes("10GiB") == 10.0 * 1024 * 1024 * 1024);
  CHECK(parse_bytes("512KiB") == 512.0 * 1024);
  CHECK(parse_bytes("1.5kB") == 1500);
  CHECK(parse_bytes("3 MB") == 3e6);
  CHECK(parse_bytes("7B") == 7);
  CHECK(parse_bytes("1e6") == 1e6);

  using Catch::Matchers::Contains;
  CHECK_THAT(error_of(bytes, "10G"), Contains("no unit") && Contains("10GB"));
  CHECK_THAT(error_of(bytes, "10Gb"), Contains("sizes are in bytes") && Contains("GB"));
  CHECK_THAT(error_of(bytes, "10KB"), Contains("ambiguous") && Contains("kB") && Contains("KiB"));
  CHECK_THAT(error_of(bytes, "10gB"), Contains("case-sensitive"));
  CHECK_THAT(error_of(bytes, "10GB/s"), Contains("a bandwidth, not a size"));
  CHECK_THAT(error_of(bytes, "-5"), Contains("negative"));
  CHECK_THAT(error_of(bytes, "many"), Contains("expected a size such as"));
}

TEST_CASE("durations: seconds by default, ns to hours", "[scenarios][units]") {
  CHECK(parse_duration("5.0e-5") == 50_us);
  CHECK(parse_duration("2") == 2_s);
  CHECK(parse_duration("50us") == 50_us);
  CHECK(parse_duration("50\xC2\xB5s") == 50_us);
  CHECK(parse_duration("5ms") == 5_ms);
  CHECK(parse_duration("2s") == 2_s);
  CHECK(parse_duration("100ns") == 100_ns);
  CHECK(parse_duration("1.5min") == 90_s);
  CHECK(parse_duration("1h") == 3600_s);
  CHECK(parse_duration("0") == 0_ns);
  CHECK(parse_duration("1.4ns") == 1_ns);  // nearest nanosecond
  CHECK(parse_duration("0.1") == 100_ms);

  using Catch::Matchers::Contains;
  CHECK_THAT(error_of(duration, "5m"), Contains("ambiguous") && Contains("min") && Contains("ms"));
  CHECK_THAT(error_of(duration, "5sec"), Contains("unknown unit 'sec'") && Contains("ns, us"));
  CHECK_THAT(error_of(duration, "5S"), Contains("unknown unit 'S'"));
  CHECK_THAT(error_of(duration, "-1ms"), Contains("negative"));
  CHECK_THAT(error_of(duration, "0.2ns"), Contains("1 ns resolution"));
  CHECK_THAT(error_of(duration, "1e12h"), Contains("too long"));
  CHECK_THAT(error_of(duration, "soon"), Contains("expected a duration such as"));
}
