// A simulated process is a C++20 coroutine returning Process:
//
//     Process client(Simulation& sim, Cpu& cpu) {
//       co_await sim.sleep(5_ms);
//       co_await cpu.compute(2e6);          // throws SimFault if the node crashes meanwhile
//     }
//     Future done = sim.spawn(client(sim, cpu));
//
// A Process does nothing until spawn() hands it to the kernel, which then owns the frame: the
// frame is freed when the coroutine returns, or by ~Simulation for processes still waiting. The
// Future that spawn() returns settles when the process ends: done, or failed with the fault that
// escaped it. Exceptions that are not SimFaults are bugs in a model; they stop the simulation and
// run() rethrows them.
//
// Frames come from a size-class free list (FramePool), not from the global heap: spawning the
// same kind of process again reuses a frame.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <string>
#include <utility>

#include "sim/core/future.h"

namespace shardlab::sim {

// Recycles coroutine frames by 64-byte size class up to 4 KiB; larger frames use the heap.
// Per thread, so simulations on different threads never share it.
class FramePool {
 public:
  static void* allocate(size_t bytes);
  static void deallocate(void* frame, size_t bytes) noexcept;
};

struct ProcessPromise {
  Simulation* sim = nullptr;
  FutureState* done = nullptr;        // the completion future (one reference held here)
  FutureState* waiting_on = nullptr;  // what the process is suspended on, for interrupt()
  bool interrupt_pending = false;     // interrupt() arrived while the process was runnable
  FaultKind interrupt_kind = FaultKind::kInterrupted;
  std::string interrupt_message;
  ProcessPromise* prev = nullptr;     // the kernel's list of live processes
  ProcessPromise* next = nullptr;
  std::coroutine_handle<> handle;

  static void* operator new(size_t bytes) { return FramePool::allocate(bytes); }
  static void operator delete(void* frame, size_t bytes) noexcept {
    FramePool::deallocate(frame, bytes);
  }

  // Makes the process throw SimFault(kind) from its current co_await (cancelling what it waits
  // on) or, if it is runnable, from its next one.
  void interrupt(FaultKind kind, const std::string& message);

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    ProcessPromise* promise;
    bool await_ready() noexcept { return false; }
    void await_suspend(std::coroutine_handle<> handle) noexcept;
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return FinalAwaiter{this}; }
  void return_void() noexcept;
  void unhandled_exception();
};

class Process {
 public:
  struct promise_type : ProcessPromise {
    Process get_return_object() {
      auto h = std::coroutine_handle<promise_type>::from_promise(*this);
      handle = h;
      return Process(h);
    }
  };

  Process(Process&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Process& operator=(Process&&) = delete;
  ~Process() {
    if (handle_) handle_.destroy();  // never spawned
  }

 private:
  friend class Simulation;
  explicit Process(std::coroutine_handle<promise_type> h) : handle_(h) {}
  ProcessPromise& promise() { return handle_.promise(); }
  std::coroutine_handle<> release() { return std::exchange(handle_, nullptr); }

  std::coroutine_handle<promise_type> handle_;
};

}  // namespace shardlab::sim
