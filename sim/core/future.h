// Futures: the one thing a simulated process waits on. A sleep, a CPU task, a disk request, a
// network transfer, another process and a combination of them are all Futures, so timeouts,
// any_of, all_of and cancellation work the same way for every resource.
//
// Lifecycle of a future (FutureState::Status), with the only transitions allowed:
//
//     kPending --resolve(value)--> kDone
//     kPending --fail(kind)------> kFailed       (cancel() is fail(kCancelled) plus the
//                                                 producer's withdrawal hook)
//
// A settled future never changes again; resolving or failing it twice is a no-op, which lets a
// resource and a fault race without bookkeeping.
//
// Roles. The *producer* (a resource model) creates the future with Simulation::make_future(),
// keeps a Future handle and settles it. It may register a withdrawal hook that cancel() runs, so
// that a cancelled CPU task or transfer stops consuming its resource. The *consumer* is at most
// one: a process that co_awaits it or a combinator (any_of, all_of, with_timeout) that owns it.
//
// Settling never runs a process inline: the waiting coroutine goes to the kernel's ready queue
// and resumes after the current event (in FIFO order, so deterministically). Models can settle
// futures in the middle of their own bookkeeping without being re-entered by the processes they
// wake. Combinators are notified synchronously, since they only forward the outcome.
//
// States come from a per-simulation pool and are reference counted by Future handles: a
// sleep or a CPU task allocates nothing once the pool has warmed up.
//
// Dropping handles: a plain future whose handles are all dropped still runs to completion (the
// producer holds its own reference); dropping the last handle of a pending combinator cancels
// its children, since nothing could observe them any more.
#pragma once

#include <coroutine>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/fault.h"

namespace shardlab::sim {

class Simulation;
class FutureStatePool;
struct ProcessPromise;

struct FutureState {
  enum class Status : uint8_t { kPending, kDone, kFailed };
  enum class Combinator : uint8_t { kNone, kAnyOf, kAllOf, kTimeout };
  using CancelHook = void (*)(void* context, uint64_t token);

  Simulation* sim = nullptr;
  uint32_t refs = 0;
  Status status = Status::kPending;
  FaultKind fault = FaultKind::kCancelled;
  Combinator combinator = Combinator::kNone;
  uint64_t value = 0;
  std::string message;

  // The consumer: a waiting coroutine, or a parent combinator and our index in it.
  std::coroutine_handle<> waiter;
  ProcessPromise* waiting_process = nullptr;
  FutureState* parent = nullptr;
  uint32_t child_index = 0;

  // The producer's withdrawal hook, run by cancel() while the future is pending.
  CancelHook on_cancel = nullptr;
  void* cancel_context = nullptr;
  uint64_t cancel_token = 0;

  // A process's completion future points at the running process, for interrupt().
  ProcessPromise* process = nullptr;

  // Combinators: children (each holds one reference) and how many are still pending.
  std::vector<FutureState*> children;
  uint32_t pending_children = 0;

  FutureState* next_free = nullptr;
};

class Future {
 public:
  Future() = default;
  explicit Future(FutureState* state);  // takes a new reference
  Future(const Future& other) : Future(other.state_) {}
  Future(Future&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  Future& operator=(Future other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~Future();

  bool valid() const { return state_ != nullptr; }
  bool pending() const { return state_->status == FutureState::Status::kPending; }
  bool done() const { return state_->status == FutureState::Status::kDone; }
  bool failed() const { return state_->status == FutureState::Status::kFailed; }
  // The value of a done future: any_of gives the index of the first child to succeed.
  uint64_t value() const { return state_->value; }
  FaultKind fault() const { return state_->fault; }
  const std::string& message() const { return state_->message; }

  // Producer side. No-ops when already settled.
  void resolve(uint64_t value = 0) const;
  void fail(FaultKind kind, std::string message = {}) const;
  // Registers the hook cancel() runs while pending. `token` names the request to the producer.
  void set_cancel_hook(FutureState::CancelHook hook, void* context, uint64_t token) const;

  // Consumer side: withdraws the request (running the producer's hook) and fails the future with
  // `kind`, which also wakes its waiter. No-op when already settled.
  void cancel(FaultKind kind = FaultKind::kCancelled, std::string message = {}) const;

  FutureState* state() const { return state_; }

  // co_await inside a Process: the value when done, a SimFault when failed.
  struct Awaiter;
  Awaiter operator co_await() const;

 private:
  FutureState* state_ = nullptr;
};

// The awaiter holds a reference, so the state stays this future's while the process waits on
// it, even if every other handle is dropped or reassigned meanwhile.
struct Future::Awaiter {
  Future future;
  ProcessPromise* promise = nullptr;
  bool await_ready() const noexcept;
  template <typename Promise>
  bool await_suspend(std::coroutine_handle<Promise> handle) {
    return suspend(handle, &handle.promise());
  }
  uint64_t await_resume();
  bool suspend(std::coroutine_handle<> handle, ProcessPromise* promise);
};

inline Future::Awaiter Future::operator co_await() const { return Awaiter{*this}; }

namespace detail {
void settle(FutureState* state);  // wakes the consumer of a just-settled state
void release(FutureState* state);
}  // namespace detail

}  // namespace shardlab::sim
