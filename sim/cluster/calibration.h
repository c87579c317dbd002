// Calibration of the cost model: the embedded engine measured on this machine, and the CPU
// coefficients of CostModel fitted to the measurements by non-negative least squares.
//
// Measuring (measure()). Rows from the deterministic generator go into temporary tables under a
// scratch directory. Everything runs on one thread, and every timing is the median of `repeat`
// runs after a warm-up run, so the data sit in the page cache: the model charges disk bytes
// separately, and CPU work must be measured without waiting for the disk.
//  * Queries of several shapes (point lookups on the primary key, time ranges, LowCardinality
//    filters, GROUP BY with few and with many groups, ORDER BY ... LIMIT, plain selects) on a
//    table loaded in batches of varied sizes, so its parts vary in size. Sets of parts stand for
//    replicas: each part alone, each partition, all parts. A set is one row of the query system:
//    seconds = prepare() + run() over the set on one thread (the single pass a replica makes;
//    sets are timed in turn, so a set finds its parts in the page cache but not in the CPU
//    caches from its own previous run); features from that run's profile, with groups and
//    result_bytes as the cluster sets them for a replica's partial result (the per-part partials
//    accumulated, partial_result_bytes). Wall time (steady_clock).
//  * The initiator: prepare() + finish() over the per-part partials of each set, each standing
//    for one shard's partial result; features: 1, the sum of their groups, the sum of their
//    candidate rows, and the answer's bytes (charged at the query system's result_byte_s).
//  * Inserts of 100 to 1M rows into three table layouts (bytes per row from 12 to ~45, so the
//    per-row and per-byte costs can be told apart), contiguous and spread over every day (one
//    part or seven), and merges of 2, 5 and all parts of a partition, plus any merges the merge
//    selector picks while the query table loads (its batches rarely give it one). These fsync,
//    so they are timed with the thread's CPU clock, which leaves out the wait for the disk (the
//    disk model's share), and preferably on a tmpfs (CalibrationOptions::work_dir).
//  * The distributed insert's split of blocks by shard (wall time).
//
// Fitting (fit()). Each group of coefficients has its own system (query, initiator, insert,
// merge, split), so each is well conditioned and noise in one kind of work cannot leak into
// another. The fit minimises the sum of log^2(predicted / measured): timing errors are
// multiplicative, a 50 us point lookup matters to a simulated latency as much as a 50 ms scan,
// and over- and under-prediction weigh alike (least squares on relative error, its starting
// point, penalises over-prediction without bound and so pulls the typical run ~20% low). It is
// solved by Gauss-Newton with step halving, each step a weighted non-negative least-squares
// problem (Lawson-Hanson NNLS) on columns scaled to unit norm. A coefficient whose column is all
// zero cannot be identified and keeps its previous value. Fit quality (R^2 on seconds, relative
// errors overall and per shape, condition number, standard errors) is reported, not hidden.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/exec/work_profile.h"
#include "engine/storage/merger.h"
#include "engine/storage/table.h"
#include "sim/cluster/cost_model.h"

namespace shardlab::sim::cluster {

// min ||a x - b||_2 subject to x >= 0, by Lawson and Hanson's active-set method (Solving Least
// Squares Problems, 1974, ch. 23), each passive-set subproblem solved by column-pivoting
// Householder QR. Converges in finitely many steps; the loop is also capped at 30 * cols
// iterations, after which the last feasible point is returned. REQUIRES: a.rows() == b.size().
Eigen::VectorXd solve_nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b);

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

// The features of each system, in its coefficient order: the counts CostModel multiplies.
extern const std::vector<std::string> kQueryCoefficients;
extern const std::vector<std::string> kInitiatorCoefficients;
extern const std::vector<std::string> kSplitCoefficients;
extern const std::vector<std::string> kInsertCoefficients;
extern const std::vector<std::string> kMergeCoefficients;
std::vector<double> query_features(const engine::WorkProfile& profile);
// result_bytes, the initiator's other count, is charged at the query system's result_byte_s.
std::vector<double> initiator_features(uint64_t groups_merged, uint64_t rows_merged);
std::vector<double> split_features(uint64_t rows);
std::vector<double> insert_features(const engine::InsertResult& insert);
std::vector<double> merge_features(const engine::MergeProfile& merge);

// Every timed insert's parts stay in its table for the merge measurements, one per partition for
// each of 10 inserts per run, and a partition refuses inserts above 300 parts.
inline constexpr unsigned kMaxRepeat = 25;

struct CalibrationOptions {
  uint64_t rows = 4'000'000;  // rows of the query table; inserts use up to 1M of them
  unsigned repeat = 5;        // timed runs per measurement (the median is kept)
  uint64_t seed = 1;          // of the generated rows
  // Where the temporary tables go (a fresh directory is made inside and removed afterwards).
  // Empty: /dev/shm if it is a tmpfs with room, else the system's temporary directory. On a
  // tmpfs fsync costs nothing, so insert and merge timings hold the engine's CPU work and the
  // kernel's copy into the page cache; on a disk file system the thread's CPU time also holds
  // the kernel's share of every fsync, which is the disk's cost, not the engine's.
  std::filesystem::path work_dir;
  std::function<void(const std::string&)> progress;  // phase messages; may be empty
};

struct Measurements {
  std::vector<FitSystem> systems;  // query, initiator, insert, merge, split: fit in this order
  uint64_t rows = 0;
  unsigned repeat = 0;
  uint64_t seed = 0;
  std::string work_dir;  // where the tables were
  bool work_dir_tmpfs = false;
  size_t query_parts = 0;          // parts of the query table
  double query_cpu_over_wall = 0;  // ~1 when nothing else competed for the core
  double wire_ratio_inserts = 0;   // LZ4 bytes / in-memory bytes of insert blocks
  double wire_ratio_results = 0;   // the same for query results
};

// Runs the measurements. Throws InputError for options out of range (rows < 10,000, repeat
// outside 1..kMaxRepeat) and RuntimeError for I/O failures in the work directory.
Measurements measure(const CalibrationOptions& options);

struct Calibration {
  CostCoefficients coefficients;
  std::vector<SystemFit> fits;
  nlohmann::ordered_json about;  // machine, options, fit quality: the calibration file's `about`
};

// Fits every system in order, starting from `start` (the values kept when not identified).
// wire_ratio is set to the measured ratio of insert blocks.
Calibration fit(const Measurements& measurements, const CostCoefficients& start);

// Every measurement as CSV (system, shape, label, measured_s, predicted_s, then the features as
// name=value pairs separated by ';'), predicted with `coefficients`: for inspecting a fit.
std::string measurements_csv(const Measurements& measurements,
                             const CostCoefficients& coefficients);

// "model name" of the first processor in /proc/cpuinfo ("unknown" if unreadable).
std::string cpu_model_name();

}  // namespace shardlab::sim::cluster
