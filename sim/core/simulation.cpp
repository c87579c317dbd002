#include "sim/core/simulation.h"

#include <array>

#include "base/errors.h"

namespace shardlab::sim {

const char* fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::kCancelled: return "cancelled";
    case FaultKind::kTimeout: return "timed out";
    case FaultKind::kInterrupted: return "interrupted";
    case FaultKind::kNodeDown: return "node down";
    case FaultKind::kLinkDown: return "link down";
    case FaultKind::kUnreachable: return "unreachable";
    case FaultKind::kRefused: return "refused";
    case FaultKind::kFailed: return "failed";
  }
  return "unknown fault";
}

// ---- FramePool -------------------------------------------------------------------------------

namespace {
constexpr size_t kFrameGranule = 64;
constexpr size_t kFrameClasses = 64;  // up to 4 KiB

struct FrameLists {
  std::array<void*, kFrameClasses + 1> heads{};
  ~FrameLists() {
    for (void*& head : heads) {
      while (head) {
        void* next = *static_cast<void**>(head);
        ::operator delete(head);
        head = next;
      }
    }
  }
};
thread_local FrameLists frame_lists;

size_t frame_class(size_t bytes) { return (bytes + kFrameGranule - 1) / kFrameGranule; }
}  // namespace

void* FramePool::allocate(size_t bytes) {
  const size_t size_class = frame_class(bytes);
  if (size_class > kFrameClasses) return ::operator new(bytes);
  void*& head = frame_lists.heads[size_class];
  if (head) {
    void* frame = head;
    head = *static_cast<void**>(frame);
    return frame;
  }
  return ::operator new(size_class * kFrameGranule);
}

void FramePool::deallocate(void* frame, size_t bytes) noexcept {
  const size_t size_class = frame_class(bytes);
  if (size_class > kFrameClasses) {
    ::operator delete(frame);
    return;
  }
  void*& head = frame_lists.heads[size_class];
  *static_cast<void**>(frame) = head;
  head = frame;
}

// ---- Futures ---------------------------------------------------------------------------------

namespace detail {
void child_settled(FutureState* parent, uint32_t index);
namespace {

void cancel_pending_children(FutureState* parent) {
  for (FutureState* child : parent->children) {
    if (child->status == FutureState::Status::kPending) Future(child).cancel();
  }
}

void resolve_state(FutureState* state, uint64_t value) {
  if (state->status != FutureState::Status::kPending) return;
  state->status = FutureState::Status::kDone;
  state->value = value;
  state->on_cancel = nullptr;
  settle(state);
}

void fail_state(FutureState* state, FaultKind kind, std::string message) {
  if (state->status != FutureState::Status::kPending) return;
  state->status = FutureState::Status::kFailed;
  state->fault = kind;
  state->message = std::move(message);
  state->on_cancel = nullptr;
  settle(state);
}

}  // namespace

// A child of `parent` settled. Runs synchronously: combinators only forward outcomes.
void child_settled(FutureState* parent, uint32_t index) {
  if (parent->status != FutureState::Status::kPending) return;
  const FutureState* child = parent->children[index];
  const bool child_done = child->status == FutureState::Status::kDone;
  switch (parent->combinator) {
    case FutureState::Combinator::kAnyOf:
      if (child_done) {
        resolve_state(parent, index);
        cancel_pending_children(parent);
      } else if (--parent->pending_children == 0) {
        fail_state(parent, child->fault, child->message);
      }
      break;
    case FutureState::Combinator::kAllOf:
      if (!child_done) {
        fail_state(parent, child->fault, child->message);
        cancel_pending_children(parent);
      } else if (--parent->pending_children == 0) {
        resolve_state(parent, 0);
      }
      break;
    case FutureState::Combinator::kTimeout:
      if (index == 0) {
        if (child_done) {
          resolve_state(parent, child->value);
        } else {
          fail_state(parent, child->fault, child->message);
        }
      } else if (child_done) {
        fail_state(parent, FaultKind::kTimeout, {});
      } else {
        break;  // the timer itself was cancelled: keep waiting for the operation
      }
      cancel_pending_children(parent);
      break;
    case FutureState::Combinator::kNone:
      SHARDLAB_ASSERT(false, "a plain future has no children");
  }
}

void settle(FutureState* state) {
  if (state->waiter) {
    const std::coroutine_handle<> waiter = std::exchange(state->waiter, nullptr);
    if (state->waiting_process) {
      state->waiting_process->waiting_on = nullptr;
      state->waiting_process = nullptr;
    }
    state->sim->make_ready(waiter);
  } else if (state->parent) {
    child_settled(state->parent, state->child_index);
  }
}

void release(FutureState* state) {
  SHARDLAB_ASSERT(state->refs > 0, "future released more often than referenced");
  if (--state->refs > 0) return;
  // Nobody can observe this combinator any more: withdraw what its children still claim.
  if (state->status == FutureState::Status::kPending && !state->children.empty()) {
    state->status = FutureState::Status::kFailed;
    state->fault = FaultKind::kCancelled;
    cancel_pending_children(state);
  }
  for (FutureState* child : state->children) {
    child->parent = nullptr;
    release(child);
  }
  state->sim->free_state(state);
}

}  // namespace detail

Future::Future(FutureState* state) : state_(state) {
  if (state_) ++state_->refs;
}

Future::~Future() {
  if (state_) detail::release(state_);
}

void Future::resolve(uint64_t value) const { detail::resolve_state(state_, value); }

void Future::fail(FaultKind kind, std::string message) const {
  detail::fail_state(state_, kind, std::move(message));
}

void Future::set_cancel_hook(FutureState::CancelHook hook, void* context, uint64_t token) const {
  state_->on_cancel = hook;
  state_->cancel_context = context;
  state_->cancel_token = token;
}

void Future::cancel(FaultKind kind, std::string message) const {
  FutureState* state = state_;
  if (state->status != FutureState::Status::kPending) return;
  // Failed first, so that children and hooks see a settled parent and do not notify it.
  state->status = FutureState::Status::kFailed;
  state->fault = kind;
  state->message = std::move(message);
  const FutureState::CancelHook hook = std::exchange(state->on_cancel, nullptr);
  if (hook) hook(state->cancel_context, state->cancel_token);
  detail::cancel_pending_children(state);
  detail::settle(state);
}

bool Future::Awaiter::await_ready() const noexcept {
  return future.state()->status != FutureState::Status::kPending;
}

bool Future::Awaiter::suspend(std::coroutine_handle<> handle, ProcessPromise* process) {
  promise = process;
  FutureState* state = future.state();
  if (process->interrupt_pending) {
    // Interrupted while runnable: throw at once, and withdraw what it was about to wait on.
    future.cancel();
    return false;
  }
  SHARDLAB_ASSERT(!state->waiter && !state->parent, "a future has at most one consumer");
  state->waiter = handle;
  state->waiting_process = process;
  process->waiting_on = state;
  return true;
}

uint64_t Future::Awaiter::await_resume() {
  if (promise && promise->interrupt_pending) {
    promise->interrupt_pending = false;
    throw SimFault(promise->interrupt_kind, std::exchange(promise->interrupt_message, {}));
  }
  const FutureState* state = future.state();
  if (state->status == FutureState::Status::kFailed) throw SimFault(state->fault, state->message);
  return state->value;
}

// ---- Processes -------------------------------------------------------------------------------

// The process has returned or failed: unlink it and free its frame. Destroying the coroutine
// from its final suspend point is the one place where that is allowed while it runs.
void ProcessPromise::FinalAwaiter::await_suspend(std::coroutine_handle<> handle) noexcept {
  promise->sim->process_ended(promise);
  handle.destroy();
}

void ProcessPromise::interrupt(FaultKind kind, const std::string& message) {
  // The fault is the process's own; what it waits on is merely withdrawn (kCancelled). A remote
  // subquery cancelled because the coordinator's node crashed must not look like a crash of
  // its own node.
  interrupt_pending = true;
  interrupt_kind = kind;
  interrupt_message = message;
  if (waiting_on) Future(waiting_on).cancel(FaultKind::kCancelled);
}

void ProcessPromise::return_void() noexcept {
  done->process = nullptr;
  detail::resolve_state(done, 0);
}

void ProcessPromise::unhandled_exception() {
  done->process = nullptr;
  try {
    throw;
  } catch (const SimFault& fault) {
    detail::fail_state(done, fault.kind(), fault.what());
  } catch (...) {
    sim->record_failure(std::current_exception());
    detail::fail_state(done, FaultKind::kFailed, "the process threw a non-simulation exception");
  }
}

// ---- Kernel ----------------------------------------------------------------------------------

Simulation::Simulation(uint64_t seed) : seed_(seed) {}

Simulation::~Simulation() { shutdown(); }

void Simulation::shutdown() {
  // Two passes. First disarm every live process: no waiter left in a future a model may still
  // hold, no cancel hook that could interrupt a process being destroyed. Only then free the
  // frames, whose locals release futures and other handles as they go.
  for (ProcessPromise* p = processes_; p != nullptr; p = p->next) {
    if (p->waiting_on) {
      p->waiting_on->waiter = nullptr;
      p->waiting_on->waiting_process = nullptr;
      p->waiting_on = nullptr;
    }
    p->done->process = nullptr;
    p->done->on_cancel = nullptr;
  }
  while (processes_) {
    ProcessPromise* promise = processes_;
    processes_ = promise->next;
    detail::release(promise->done);
    promise->handle.destroy();
  }
  ready_.clear();
  ready_head_ = 0;
}

void Simulation::process_started(ProcessPromise* promise) {
  promise->next = processes_;
  if (processes_) processes_->prev = promise;
  processes_ = promise;
}

void Simulation::process_ended(ProcessPromise* promise) {
  if (promise->prev) {
    promise->prev->next = promise->next;
  } else {
    processes_ = promise->next;
  }
  if (promise->next) promise->next->prev = promise->prev;
  if (promise->done->status == FutureState::Status::kFailed) ++stats_.processes_failed;
  detail::release(promise->done);
}

void Simulation::record_failure(std::exception_ptr error) {
  if (!failure_) failure_ = error;
  stopped_ = true;
}

EventId Simulation::schedule_at(Time at, EventFn fn) {
  SHARDLAB_ASSERT(at >= now_, "event scheduled in the past: {} ns < now {} ns", at.ns(), now_.ns());
  return events_.push(at, fn);
}

void Simulation::drain_ready() {
  while (ready_head_ < ready_.size()) {
    const std::coroutine_handle<> handle = ready_[ready_head_++];
    ++stats_.processes_resumed;
    handle.resume();
  }
  ready_.clear();
  ready_head_ = 0;
}

void Simulation::run_until(Time limit) {
  stopped_ = false;
  const auto wall_start = std::chrono::steady_clock::now();
  Time at;
  EventFn fn;
  for (;;) {
    drain_ready();
    if (stopped_ || !events_.pop_until(limit, &at, &fn)) break;
    now_ = at;
    ++stats_.events_processed;
    fn();
  }
  if (!stopped_ && limit != Time::max() && limit > now_) now_ = limit;
  stats_.wall_seconds +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  stats_.simulated_seconds = now_.seconds();
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

bool Simulation::step() {
  drain_ready();
  Time at;
  EventFn fn;
  bool ran = false;
  if (!failure_ && events_.pop_until(Time::max(), &at, &fn)) {
    now_ = at;
    ++stats_.events_processed;
    fn();
    ran = true;
  }
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
  return ran;
}

FutureState* Simulation::allocate_state() {
  if (!free_states_) {
    constexpr size_t kChunk = 256;
    state_chunks_.push_back(std::make_unique<FutureState[]>(kChunk));
    FutureState* chunk = state_chunks_.back().get();
    for (size_t i = 0; i < kChunk; ++i) {
      chunk[i].next_free = free_states_;
      free_states_ = &chunk[i];
    }
  }
  FutureState* state = free_states_;
  free_states_ = state->next_free;
  state->sim = this;
  state->refs = 0;
  state->status = FutureState::Status::kPending;
  state->fault = FaultKind::kCancelled;
  state->combinator = FutureState::Combinator::kNone;
  state->value = 0;
  state->waiter = nullptr;
  state->waiting_process = nullptr;
  state->parent = nullptr;
  state->child_index = 0;
  state->on_cancel = nullptr;
  state->process = nullptr;
  state->pending_children = 0;
  return state;
}

void Simulation::free_state(FutureState* state) {
  state->message.clear();
  state->children.clear();  // keeps its capacity for the next combinator
  state->next_free = free_states_;
  free_states_ = state;
}

Future Simulation::make_future() { return Future(allocate_state()); }

Future Simulation::make_combinator(FutureState::Combinator kind, std::vector<Future> children) {
  FutureState* state = allocate_state();
  Future combined(state);
  state->combinator = kind;
  state->pending_children = static_cast<uint32_t>(children.size());
  state->children.reserve(children.size());
  for (const Future& child : children) {
    FutureState* child_state = child.state();
    SHARDLAB_ASSERT(!child_state->waiter && !child_state->parent,
                    "a future has at most one consumer");
    ++child_state->refs;
    child_state->parent = state;
    child_state->child_index = static_cast<uint32_t>(state->children.size());
    state->children.push_back(child_state);
  }
  // Children that settled before they were combined count now, in order.
  for (uint32_t index = 0; index < state->children.size() && combined.pending(); ++index) {
    if (state->children[index]->status != FutureState::Status::kPending) {
      detail::child_settled(state, index);
    }
  }
  return combined;
}

Future Simulation::any_of(std::vector<Future> children) {
  SHARDLAB_ASSERT(!children.empty(), "any_of() of nothing never completes");
  return make_combinator(FutureState::Combinator::kAnyOf, std::move(children));
}

Future Simulation::all_of(std::vector<Future> children) {
  Future combined = make_combinator(FutureState::Combinator::kAllOf, std::move(children));
  if (combined.state()->children.empty()) combined.resolve();
  return combined;
}

Future Simulation::with_timeout(Future operation, Duration limit) {
  return make_combinator(FutureState::Combinator::kTimeout,
                         {std::move(operation), sleep(limit)});
}

void Simulation::interrupt(const Future& process_done, FaultKind kind,
                           const std::string& message) {
  if (ProcessPromise* process = process_done.state()->process) process->interrupt(kind, message);
}

Future Simulation::spawn(Process process) {
  ProcessPromise& promise = process.promise();
  promise.sim = this;
  promise.done = allocate_state();
  promise.done->refs = 1;  // held by the running process until it ends
  promise.done->process = &promise;
  // Cancelling the completion future (a timeout, an any_of loser) stops the process: it throws
  // the cancellation's fault from the co_await it is suspended in.
  promise.done->on_cancel = [](void* context, uint64_t) {
    auto* running = static_cast<ProcessPromise*>(context);
    running->interrupt(running->done->fault, running->done->message);
  };
  promise.done->cancel_context = &promise;
  process_started(&promise);
  ++stats_.processes_spawned;
  make_ready(process.release());
  return Future(promise.done);
}

Future Simulation::sleep(Duration delay) {
  FutureState* state = allocate_state();
  Future future(state);
  ++state->refs;  // held by the timer event until it fires or is cancelled
  const EventId id = schedule_after(delay, [state] {
    detail::resolve_state(state, 0);
    detail::release(state);
  });
  // Cancelling the sleep removes the timer, which then gives back its reference.
  future.set_cancel_hook(
      [](void* context, uint64_t token) {
        auto* timer_state = static_cast<FutureState*>(context);
        const EventId event{token >> EventQueue::kSlotBits,
                            static_cast<uint32_t>(token & EventQueue::kMaxPending)};
        if (timer_state->sim->cancel(event)) detail::release(timer_state);
      },
      state, id.seq << EventQueue::kSlotBits | id.slot);
  return future;
}

}  // namespace shardlab::sim
