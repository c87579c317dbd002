// The planner's findings and how they are written: plan.json (machine-readable), plan.md and
// plan.html (for people), pareto.png/.svg.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "planner/capacity_model.h"
#include "planner/plan_space.h"

namespace shardlab::planner {

// One constraint checked on a simulated candidate: its bound, the confidence bound of what the
// runs measured, and the margin (bound - value) / bound, negative when violated.
struct ConstraintCheck {
  std::string name;    // "p99 top_items", "ingest delay p99", "rows lost under a crash", ...
  std::string metric;  // the summary metric it reads ("queries.top_items.p99_s")
  double bound = 0;
  double value = 0;    // the one-sided upper confidence bound (the value itself for one run)
  double predicted = NAN;  // the screen's prediction of the same, where it makes one
  double margin = 0;
  bool holds = false;
  // Reported for context, never refuting: peak utilisation (a merge may fill a disk for a
  // minute without harming any SLO; the latency and ingest constraints see the harm).
  bool informational = false;
};

enum class CandidateStatus { kInvalid, kScreenedOut, kNotSimulated, kRefuted, kConfirmed };
const char* status_name(CandidateStatus status);

struct CandidateResult {
  Candidate candidate;
  CandidateStatus status = CandidateStatus::kNotSimulated;
  std::string reason;  // why invalid, screened out or refuted
  Prediction prediction;
  std::vector<ConstraintCheck> checks;  // when simulated
  std::string binding;                  // the constraint with the smallest margin
  double simulated_lead_p99 = NAN;      // the lead template's simulated p99 (mean over runs)
};

// The winner's metric at each scale it ran at, fitted as a + b / scale.
struct ScaleFit {
  std::string metric;
  std::vector<std::pair<double, double>> points;  // (scale, value)
  double a = 0;
  double b = 0;
  double full_scale = 0;  // a + b
  double rms_residual = 0;
  // The bound the fit had to hold (a >= 0, b >= 0), when the free fit broke it: "a = 0" or
  // "b = 0". Empty: the free least-squares fit.
  std::string bound;
  // Whether the full-scale figure can be trusted: at least three scales, and the curve within
  // kReliableResidual of the values (relative rms residual).
  bool reliable = false;
};

inline constexpr double kReliableResidual = 0.10;

struct Sensitivity {
  double growth = 1;
  Prediction winner;  // the recommended cluster under the growth
  std::optional<Candidate> cheapest_passing;  // the cheapest candidate the screen passes
};

struct PlanResult {
  std::string scenario;
  double scale = 1;
  double confidence = 0.95;
  std::string window;  // the stretch of the day each run simulates ("2h"), empty: all of it
  std::string lead_template;  // the first latency constraint's template
  double lead_target_s = 0;
  std::vector<CandidateResult> candidates;
  std::optional<size_t> recommended;  // index into candidates
  std::vector<ScaleFit> fits;
  std::vector<Sensitivity> sensitivity;
  double wall_s = 0;
  bool smoke = false;
  std::vector<std::string> overrides;
};

// Writes plan.json, plan.md, plan.html and (with `draw`) pareto.png/.svg into `dir`.
void write_plan_report(const std::filesystem::path& dir, const PlanResult& plan, bool draw);

}  // namespace shardlab::planner
