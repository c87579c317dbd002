#include "planner/process_pool.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>

#include "base/errors.h"

namespace shardlab::planner {

namespace {

[[noreturn]] void run_child(const std::function<int(size_t)>& job, size_t index) {
  int status = 1;
  try {
    status = job(index);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shardlab: %s\n", e.what());
    status = dynamic_cast<const InputError*>(&e) ? 2 : 1;
  } catch (...) {
    std::fprintf(stderr, "shardlab: an unknown error\n");
  }
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(status);  // no atexit handlers or static destructors of the parent's state
}

JobStatus status_of(int wait_status) {
  if (WIFEXITED(wait_status)) {
    const int code = WEXITSTATUS(wait_status);
    return code == 0 ? JobStatus{true, ""} : JobStatus{false, fmt::format("exit status {}", code)};
  }
  if (WIFSIGNALED(wait_status)) {
    return JobStatus{false, fmt::format("killed by signal {}", WTERMSIG(wait_status))};
  }
  return JobStatus{false, "stopped"};
}

}  // namespace

std::vector<JobStatus> run_in_processes(size_t count, int jobs,
                                        const std::function<int(size_t)>& job) {
  std::vector<JobStatus> statuses(count);
  std::map<pid_t, size_t> running;
  size_t next = 0;
  while (next < count || !running.empty()) {
    while (next < count && running.size() < static_cast<size_t>(jobs)) {
      // What the parent printed must not be printed again by a child's copy of the buffer.
      std::fflush(stdout);
      std::fflush(stderr);
      const pid_t pid = fork();
      if (pid < 0) {
        throw RuntimeError(fmt::format("cannot start a process: {}", std::strerror(errno)));
      }
      if (pid == 0) run_child(job, next);
      running.emplace(pid, next);
      ++next;
    }
    int wait_status = 0;
    const pid_t done = waitpid(-1, &wait_status, 0);
    if (done < 0) {
      if (errno == EINTR) continue;
      throw RuntimeError(fmt::format("waiting for a run: {}", std::strerror(errno)));
    }
    const auto it = running.find(done);
    if (it == running.end()) continue;  // not ours (a gnuplot of an earlier figure, say)
    statuses[it->second] = status_of(wait_status);
    running.erase(it);
  }
  return statuses;
}

}  // namespace shardlab::planner
