// The scenario reader (scenarios/scenario.h) with its overrides: YAML text and --set arguments
// in, validated scenarios (one per variant) or an InputError out.
//
// The input is a scenario file, optionally followed by a line "#--set" and then up to four
// --set arguments, one per line; a line "--smoke" among them asks for the smoke overrides
// instead. The file is read as if it sat in a directory holding the shipped calibration/.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "scenarios/scenario.h"
#include "tests/fuzz/fuzz_input.h"

#ifndef SHARDLAB_SOURCE_DIR
#error "SHARDLAB_SOURCE_DIR must name the source tree (tests/fuzz/CMakeLists.txt)"
#endif

namespace {

constexpr size_t kMaxOverrides = 4;

// Where the scenario is "read from": a scratch directory with a copy of the shipped
// calibration files, so that relative calibration paths of the seeds resolve.
const std::string& scenario_source() {
  static const std::string source = [] {
    namespace fs = std::filesystem;
    const fs::path dir = shardlab::fuzz::scratch_dir() / "scenarios";
    fs::create_directories(dir);
    fs::copy(fs::path(SHARDLAB_SOURCE_DIR) / "scenarios" / "calibration", dir / "calibration",
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    return (dir / "fuzz.yaml").string();
  }();
  return source;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fuzz = shardlab::fuzz;
  const std::vector<std::string_view> sections =
      fuzz::split_at_marker_lines(fuzz::as_text(data, size), "#--set");
  std::vector<std::string> overrides;
  bool smoke = false;
  if (sections.size() > 1) {
    for (std::string& line : fuzz::lines_of(sections[1], kMaxOverrides)) {
      if (line == "--smoke") {
        smoke = true;
      } else {
        overrides.push_back(std::move(line));
      }
    }
  }
  fuzz::expect_clean(
      [&] {
        (void)shardlab::scenarios::parse_scenario_variants(sections[0], scenario_source(),
                                                           overrides, smoke);
      },
      /*data_errors_ok=*/false);
  return 0;
}
