#include "planner/mpi_world.h"

#include <fmt/format.h>
#include <mpi.h>

#include <cstdlib>
#include <cstring>

#include "base/errors.h"

namespace shardlab::planner {

namespace {

constexpr int kTagReady = 1;   // worker -> rank 0: no payload, give me a point
constexpr int kTagResult = 2;  // worker -> rank 0: a point's result, then ready for another
constexpr int kTagPoint = 3;   // rank 0 -> worker: an int64 point index, or kShutDown
constexpr int kTagPayload = 4; // rank 0 -> worker, after a point's index: what the point is
constexpr int64_t kShutDown = -1;

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw RuntimeError(fmt::format("MPI: {} failed: {}", what, std::string(text, length)));
}

// index, ok, then three length-prefixed strings.
std::string encode(int64_t index, const PointResult& result) {
  std::string out(reinterpret_cast<const char*>(&index), sizeof index);
  out += static_cast<char>(result.ok ? 1 : 0);
  for (const std::string* field : {&result.failure, &result.metrics_json, &result.summary_json}) {
    const uint64_t size = field->size();
    out.append(reinterpret_cast<const char*>(&size), sizeof size);
    out += *field;
  }
  return out;
}

PointResult decode(const std::string& bytes, int64_t* index) {
  size_t at = 0;
  const auto take = [&](void* into, size_t n) {
    if (at + n > bytes.size()) throw RuntimeError("MPI: a truncated result message");
    std::memcpy(into, bytes.data() + at, n);
    at += n;
  };
  take(index, sizeof *index);
  char ok = 0;
  take(&ok, 1);
  PointResult result;
  result.ok = ok != 0;
  for (std::string* field : {&result.failure, &result.metrics_json, &result.summary_json}) {
    uint64_t size = 0;
    take(&size, sizeof size);
    if (at + size > bytes.size()) throw RuntimeError("MPI: a truncated result message");
    field->assign(bytes.data() + at, size);
    at += size;
  }
  return result;
}

void send_point(int rank, int64_t index, const std::string& payload = {}) {
  check(MPI_Send(&index, 1, MPI_INT64_T, rank, kTagPoint, MPI_COMM_WORLD), "sending a point");
  if (index < 0) return;
  check(MPI_Send(payload.data(), static_cast<int>(payload.size()), MPI_CHAR, rank, kTagPayload,
                 MPI_COMM_WORLD),
        "sending a point's payload");
}

std::string receive_bytes(int source, int tag, MPI_Status* status_out = nullptr) {
  MPI_Status status;
  check(MPI_Probe(source, tag, MPI_COMM_WORLD, &status), "MPI_Probe");
  int bytes = 0;
  check(MPI_Get_count(&status, MPI_CHAR, &bytes), "MPI_Get_count");
  std::string message(static_cast<size_t>(bytes), '\0');
  check(MPI_Recv(message.data(), bytes, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG,
                 MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "receiving a message");
  if (status_out) *status_out = status;
  return message;
}

}  // namespace

bool launched_by_mpirun() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && std::atoi(value) > 1) return true;
  }
  return false;
}

MpiWorld::MpiWorld() {
  check(MPI_Init(nullptr, nullptr), "MPI_Init");
  check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
}

MpiWorld::~MpiWorld() { MPI_Finalize(); }

std::vector<PointResult> MpiWorld::schedule(
    size_t count, const std::function<void(size_t, const PointResult&)>& done,
    const std::function<std::string(size_t)>& payload) {
  std::vector<PointResult> results(count);
  size_t next = 0;
  size_t received = 0;
  in_batch_ = true;
  const auto hand_out = [&](int worker) {
    if (next < count) {
      const size_t point = next++;
      send_point(worker, static_cast<int64_t>(point), payload ? payload(point) : "");
    } else {
      parked_.push_back(worker);  // waits, blocked in serve(), for the next batch or release()
    }
  };
  // Workers parked by the previous batch take the first points.
  std::vector<int> waiting;
  waiting.swap(parked_);
  for (const int worker : waiting) hand_out(worker);
  while (received < count) {
    MPI_Status status;
    const std::string message = receive_bytes(MPI_ANY_SOURCE, MPI_ANY_TAG, &status);
    if (status.MPI_TAG == kTagResult) {
      int64_t index = -1;
      PointResult result = decode(message, &index);
      if (index < 0 || static_cast<size_t>(index) >= count) {
        throw RuntimeError(fmt::format("MPI: a result for point {} of {}", index, count));
      }
      done(static_cast<size_t>(index), result);
      results[static_cast<size_t>(index)] = std::move(result);
      ++received;
    }
    hand_out(status.MPI_SOURCE);
  }
  in_batch_ = false;
  return results;
}

void MpiWorld::release() {
  // Every worker ends up parked: it asked for work (or sent its last result) and got nothing.
  // Those that never asked yet (a batch with no points) ask now.
  while (parked_.size() < static_cast<size_t>(size_ - 1)) {
    MPI_Status status;
    receive_bytes(MPI_ANY_SOURCE, kTagReady, &status);
    parked_.push_back(status.MPI_SOURCE);
  }
  for (const int worker : parked_) send_point(worker, kShutDown);
  parked_.clear();
}

void release_workers(MpiWorld& world) noexcept {
  if (world.in_batch()) world.abort(1);
  try {
    world.release();
  } catch (const std::exception&) {
    world.abort(1);
  }
}

void MpiWorld::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();  // MPI_Abort does not return; this says so to the compiler
}

void MpiWorld::serve(const std::function<PointResult(size_t, const std::string&)>& run) {
  check(MPI_Send(nullptr, 0, MPI_CHAR, 0, kTagReady, MPI_COMM_WORLD), "asking for a point");
  for (;;) {
    int64_t index = kShutDown;
    check(MPI_Recv(&index, 1, MPI_INT64_T, 0, kTagPoint, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
          "receiving a point");
    if (index < 0) return;
    const std::string payload = receive_bytes(0, kTagPayload);
    // A point that throws is a failed point: rank 0 must hear back, or it waits forever.
    PointResult result;
    try {
      result = run(static_cast<size_t>(index), payload);
    } catch (const std::exception& e) {
      result = PointResult{};
      result.failure = e.what();
    }
    const std::string message = encode(index, result);
    check(MPI_Send(message.data(), static_cast<int>(message.size()), MPI_CHAR, 0, kTagResult,
                   MPI_COMM_WORLD),
          "sending a result");
  }
}

}  // namespace shardlab::planner
