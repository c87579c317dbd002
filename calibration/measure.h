// Measuring the engine on this machine: the timed runs every fit is made from (calibration.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "calibration/fit.h"

namespace shardlab::calibration {

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

}  // namespace shardlab::calibration
