// calibrate --live's fit on probes made from known costs: it must give them back.
#include "calibration/live_fit.h"

#include <catch2/catch.hpp>

namespace shardlab::calibration {
namespace {

using sim::cluster::CostCoefficients;
using sim::cluster::CostModel;

// A subquery's profile scanning `rows` rows (one part, two columns) and grouping them.
engine::WorkProfile scan_profile(uint64_t rows, uint64_t groups) {
  engine::WorkProfile p;
  p.parts_total = p.parts_selected = 1;
  p.granules_total = p.granules_selected = p.granules_read = rows / 8192 + 1;
  p.rows_read = rows;
  p.rows_passed = rows / 3;
  p.rows_aggregated = rows / 3;
  p.groups = groups;
  p.result_rows = std::min<uint64_t>(groups, 10);
  p.result_bytes = groups * 16;
  p.columns["user_id"] = {rows * 3, rows * 8};
  p.columns["action"] = {rows / 4, rows};
  return p;
}

TEST_CASE("fit_live gives back a server that is k times the engine plus fixed costs",
          "[calibration]") {
  const CostCoefficients engine = CostModel::defaults();
  const CostModel engine_model(engine);
  constexpr double kSetup = 0.0003;
  constexpr double kFactor = 3.0;
  constexpr double kInitiator = 0.002;
  constexpr double kInsertFixed = 0.04;
  constexpr double kInsertPerRow = 4e-7;
  LiveMeasurements m;
  m.server_version = "test";
  m.select_one_s = kSetup;
  for (const auto& [rows, groups] : {std::pair<uint64_t, uint64_t>{100'000, 4},
                                     {400'000, 4},
                                     {100'000, 5'000},
                                     {400'000, 20'000}}) {
    const engine::WorkProfile profile = scan_profile(rows, groups);
    const double local =
        kSetup + kFactor * (engine_model.subquery(profile).cpu_s - engine.query_setup_s);
    m.queries.push_back({"q", local, local + kInitiator, profile});
  }
  for (const uint64_t rows : {100, 1'000, 10'000}) {
    m.inserts.push_back({rows, rows * 30, 1, kInsertFixed + kInsertPerRow * rows});
  }
  const LiveFit fit = fit_live(m, engine);
  const CostCoefficients& c = fit.coefficients;
  CHECK(c.row_read_s == Approx(kFactor * engine.row_read_s).epsilon(0.02));
  CHECK(c.row_grouped_s == Approx(kFactor * engine.row_grouped_s).epsilon(0.02));
  CHECK(c.query_setup_s == Approx(kSetup + engine.query_setup_s).epsilon(0.02));
  CHECK(c.initiator_query_s == Approx(engine.initiator_query_s + kInitiator).epsilon(0.02));
  // What the model then charges a 10,000-row INSERT is what the probe took.
  const double per_row = c.split_row_s + c.insert_row_s + c.insert_byte_s * 30;
  CHECK(per_row == Approx(kInsertPerRow).epsilon(0.02));
  CHECK(c.split_batch_s + c.insert_part_s == Approx(kInsertFixed).epsilon(0.02));
  CHECK(fit.about["probes"].size() == 1 + 2 * 4 + 3);
}

}  // namespace
}  // namespace shardlab::calibration
