// The flows reader and the network model behind `shardlab flows` (experiment/flows.h).
//
// An input with a line "#--flows" is a platform file (before it) and a flows CSV (after it);
// an input without one is a flows CSV for a fixed two-rack platform. Both are written to files
// and run as the command runs them; the result must be finish times or an InputError.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "experiment/flows.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

constexpr std::string_view kFixedPlatform = R"(sharing: maxmin
hosts: [a0, a1, b0, b1, client]
switches: [tor-a, tor-b, spine]
links:
  - {a: a0, b: tor-a, bandwidth: 10Gbit/s, latency: 20us}
  - {a: a1, b: tor-a, bandwidth: 1.25e9, latency: 2.0e-5}
  - {a: b0, b: tor-b, bandwidth: 10Gbit/s, latency: 20us}
  - {a: b1, b: tor-b, bandwidth: 10Gbit/s, latency: 20us}
  - {a: tor-a, b: spine, bandwidth: 25Gbit/s, latency: 50us}
  - {a: tor-b, b: spine, bandwidth: 25Gbit/s, latency: 50us}
  - {a: client, b: spine, bandwidth: 1Gbit/s, latency: 1ms}
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fuzz = shardlab::fuzz;
  const std::vector<std::string_view> sections =
      fuzz::split_at_marker_lines(fuzz::as_text(data, size), "#--flows");
  const bool own_platform = sections.size() > 1;
  const auto platform = fuzz::scratch_dir() / "platform.yaml";
  const auto flows = fuzz::scratch_dir() / "flows.csv";
  const auto output = fuzz::scratch_dir() / "finish.csv";
  fuzz::write_file(platform, own_platform ? sections[0] : kFixedPlatform);
  fuzz::write_file(flows, own_platform ? sections[1] : sections[0]);
  fuzz::expect_clean(
      [&] { shardlab::experiment::run_flows(platform, flows, output, /*trace_path=*/""); },
      /*data_errors_ok=*/false);
  return 0;
}
