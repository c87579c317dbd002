// Independent runs in parallel processes: each job runs in a child of its own (fork), at most
// `jobs` at once, so a run that crashes or is killed fails alone and the others go on. Children
// share nothing with each other; what a job produces it writes to files.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace shardlab::planner {

struct JobStatus {
  bool ok = false;
  std::string failure;  // "exit status 2", "killed by signal 9"
};

// Runs job(i) for every i in [0, count); job's return value is the child's exit status (0 for
// success), and an exception escaping it exits with 1 after printing it. Returns each job's
// status, in index order. REQUIRES: jobs >= 1, and the calling process has no other threads
// (fork copies only the calling one). Throws RuntimeError if a child cannot be started.
std::vector<JobStatus> run_in_processes(size_t count, int jobs,
                                        const std::function<int(size_t)>& job);

}  // namespace shardlab::planner
