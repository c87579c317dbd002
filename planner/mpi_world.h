// Sweep points across machines with MPI (Open MPI from Debian): under `mpirun -np N`, rank 0
// hands out points one at a time to the ranks that ask for work and gathers their results; the
// other ranks run the points they are given. Without mpirun (or with one rank) nothing here
// starts MPI, and the sweep runs in local processes.
//
// The messages are small byte strings: a worker's "ready" (empty) or its result (the point's
// index, whether it ran, why not, and the files the parent needs: metrics.json and
// summary.json), and rank 0's answer: the next point's index and what the point is (a payload
// the caller defines; empty for a sweep, whose ranks all know the points), or "shut down" (-1).
// A worker that asks when no point is left is parked, blocked in its receive, until the next
// batch hands it a point or release() shuts it down. The planner schedules several batches; a
// sweep one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace shardlab::planner {

// True when this process was started by mpirun with more than one rank (Open MPI's
// OMPI_COMM_WORLD_SIZE, or PMIx's PMIX_SIZE... as the launcher sets them).
bool launched_by_mpirun();

struct PointResult {
  bool ok = false;
  std::string failure;
  std::string metrics_json;  // the point's metrics.json
  std::string summary_json;  // its summary.json, so that rank 0 has every point's files
};

// MPI_Init on construction and MPI_Finalize on destruction. Throws RuntimeError when MPI
// cannot start.
class MpiWorld {
 public:
  MpiWorld();
  ~MpiWorld();
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }

  // Rank 0: hands out points [0, count) to the other ranks as they ask, each with
  // payload(index) when given, and returns each point's result in index order. `done` is called
  // as each result arrives.
  std::vector<PointResult> schedule(size_t count,
                                    const std::function<void(size_t, const PointResult&)>& done,
                                    const std::function<std::string(size_t)>& payload = {});
  // Rank 0, after its last batch: tells every worker to shut down.
  void release();
  // Rank 0: a schedule() did not return (it threw): workers may be busy and cannot be released.
  bool in_batch() const { return in_batch_; }
  // Ends every rank of the job at once (MPI_Abort): for rank 0 failing mid-batch, when workers
  // are busy and cannot be released.
  [[noreturn]] void abort(int code);
  // Any other rank: asks rank 0 for points and runs each with `run(index, payload)` until rank 0
  // shuts the workers down. A `run` that throws reports a failed point.
  void serve(const std::function<PointResult(size_t, const std::string&)>& run);

 private:
  int rank_ = 0;
  int size_ = 1;
  std::vector<int> parked_;  // rank 0: workers waiting for a point
  bool in_batch_ = false;
};

// Rank 0's last word to the workers, for a destructor: release() after a finished batch, or
// abort() when a batch was cut short (or releasing fails). Never throws.
void release_workers(MpiWorld& world) noexcept;

}  // namespace shardlab::planner
