// Error types shared by every layer. The CLI maps them to exit codes:
//   InputError      -> 2  (bad SQL, DDL, flags, scenario files; the message says where and what)
//   CorruptionError -> 1  (a file on disk fails its checksum or size; the message names it)
//   RuntimeError    -> 1  (I/O failures and refused operations such as "Too many parts")
// Invariant violations are bugs, checked with SHARDLAB_ASSERT, and abort.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace shardlab {

class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class CorruptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void assert_fail(const char* cond, const char* file, int line,
                                     const std::string& msg) {
  std::fprintf(stderr, "shardlab: internal error: %s:%d: assertion '%s' failed: %s\n", file, line,
               cond, msg.c_str());
  std::abort();
}

}  // namespace shardlab

#define SHARDLAB_ASSERT(cond, ...)                                                             \
  do {                                                                                         \
    if (!(cond)) ::shardlab::assert_fail(#cond, __FILE__, __LINE__, fmt::format(__VA_ARGS__)); \
  } while (0)
