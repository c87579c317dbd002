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

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "calibration/fit.h"
#include "calibration/measure.h"

namespace shardlab::calibration {

using sim::cluster::CostCoefficients;
using sim::cluster::coefficient_by_name;
using sim::cluster::CostModel;

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

}  // namespace shardlab::calibration
