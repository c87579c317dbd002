// Simulated time. An instant (Time) and a length of time (Duration) are distinct types holding a
// signed count of nanoseconds, so arithmetic is exact and a run is reproducible bit for bit:
// no floating-point clock drifts with the order of additions. 2^63 ns is 292 years.
//
// Conversions from seconds round to the nearest nanosecond; fluid models round finish times up
// (sim/hw/fluid_set.h) so that the work is complete at that instant.
//
// These are units, not simulator machinery: the scenario reader states its durations in them and
// the simulator runs on them (sim/core/time.h names them sim::Duration and sim::Time), so they
// live here, below both.
#pragma once

#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>

namespace shardlab::base {

class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration nanoseconds(int64_t ns) { return Duration(ns); }
  static constexpr Duration microseconds(int64_t us) { return Duration(us * 1000); }
  static constexpr Duration milliseconds(int64_t ms) { return Duration(ms * 1000000); }
  static constexpr Duration seconds(int64_t s) { return Duration(s * 1000000000); }
  // Nearest nanosecond. REQUIRES: |s| < 9.2e9 (checked by callers that take user input).
  static Duration from_seconds(double s) { return Duration(std::llround(s * 1e9)); }
  static constexpr Duration max() { return Duration(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t ns() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }

  constexpr auto operator<=>(const Duration&) const = default;
  constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(ns_ * k); }
  constexpr Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
  constexpr Duration& operator-=(Duration o) { ns_ -= o.ns_; return *this; }

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

class Time {
 public:
  constexpr Time() = default;
  static constexpr Time from_ns(int64_t ns) { return Time(ns); }
  static Time from_seconds(double s) { return Time(std::llround(s * 1e9)); }
  static constexpr Time zero() { return Time(0); }
  static constexpr Time max() { return Time(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t ns() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }

  constexpr auto operator<=>(const Time&) const = default;
  constexpr Time operator+(Duration d) const { return Time(ns_ + d.ns()); }
  constexpr Time operator-(Duration d) const { return Time(ns_ - d.ns()); }
  constexpr Duration operator-(Time o) const { return Duration::nanoseconds(ns_ - o.ns_); }
  constexpr Time& operator+=(Duration d) { ns_ += d.ns(); return *this; }

 private:
  constexpr explicit Time(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

namespace time_literals {
constexpr Duration operator""_ns(unsigned long long v) { return Duration::nanoseconds(static_cast<int64_t>(v)); }
constexpr Duration operator""_us(unsigned long long v) { return Duration::microseconds(static_cast<int64_t>(v)); }
constexpr Duration operator""_ms(unsigned long long v) { return Duration::milliseconds(static_cast<int64_t>(v)); }
constexpr Duration operator""_s(unsigned long long v) { return Duration::seconds(static_cast<int64_t>(v)); }
}  // namespace time_literals

}  // namespace shardlab::base
