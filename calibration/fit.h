// Fitting one system of cost-model coefficients to timed runs, and the quality of the fit.
// The method is described in calibration.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/cluster/cost_model.h"

namespace shardlab::calibration {

using sim::cluster::CostCoefficients;
using sim::cluster::coefficient_by_name;

// One timed run: the counts its system's coefficients multiply, and the seconds it took.
struct Measurement {
  std::string label;                   // what ran, for reports
  std::string shape;                   // the group per-shape errors are reported for
  std::vector<double> features;        // in the order of FitSystem::coefficients
  std::vector<double> fixed_features;  // in the order of FitSystem::fixed
  double seconds = 0;
};

// A linear system: seconds = sum(coefficient * feature) + sum(fixed coefficient * fixed feature).
// Names are CostCoefficients keys (coefficient_by_name). `fixed` coefficients come from a system
// fitted earlier and are not refitted here.
struct FitSystem {
  std::string name;
  std::vector<std::string> coefficients;
  std::vector<std::string> fixed;
  std::vector<Measurement> rows;
};

enum class FitStatus : uint8_t {
  kFitted,         // positive, from the data
  kAtZero,         // the data wanted it negative; held at 0 by the constraint
  kNotIdentified,  // its column is all zero: the previous value is kept
};
const char* fit_status_name(FitStatus status);

struct CoefficientFit {
  std::string name;
  double value = 0;
  // Standard error relative to the value, from the weighted least-squares covariance on the
  // coefficients left positive; NaN for the others.
  double relative_std_error = 0;
  FitStatus status = FitStatus::kFitted;
};

// Relative errors (predicted - measured) / measured of a set of rows.
struct ErrorSummary {
  std::string shape;
  size_t rows = 0;
  double median = 0;      // of the relative error: below 0, the typical run is under-predicted
  double median_abs = 0;  // of |relative error|
  double p90_abs = 0;
  double max_abs = 0;
  double bias = 0;  // sum predicted / sum measured - 1: the error in total CPU time
};

struct RowError {
  std::string label;
  double measured_s = 0;
  double predicted_s = 0;
};

struct SystemFit {
  std::string name;
  size_t rows = 0;
  std::vector<CoefficientFit> coefficients;
  double r2 = 0;         // on seconds, unweighted; NaN with fewer than two distinct values
  double condition = 0;  // of the weighted, scaled design over the identified columns
  ErrorSummary overall;
  std::vector<ErrorSummary> shapes;  // sorted by name
  std::vector<RowError> worst;       // the largest relative errors, worst first (at most 5)
};

// Fits `system`, reading fixed coefficients from and writing fitted ones to *coefficients,
// rounded to 4 significant digits (the measurements carry no more); the reported errors are
// those of the rounded values. Coefficients that are not identified keep their value there.
SystemFit fit_system(const FitSystem& system, CostCoefficients* coefficients);


// `value` rounded to `digits` significant digits (the measurements carry no more).
double round_significant(double value, int digits);

// The coefficient called `name` in *c. REQUIRES: the name exists (the systems' lists are fixed).
double* coefficient_or_die(CostCoefficients* c, const std::string& name);

}  // namespace shardlab::calibration
