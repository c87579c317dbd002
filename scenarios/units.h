// Human units in scenario and platform files: bandwidths, durations and sizes.
//
// Grammar (case-sensitive; spaces are allowed around the value and between number and unit):
//
//     value      = number [unit]
//     number     = decimal, optionally with a fraction and an exponent: 10, 1.25, 1.25e9, .5
//     prefix     = k | M | G | T | P          powers of 1000 (SI)
//                | Ki | Mi | Gi | Ti | Pi     powers of 1024 (IEC)
//     bandwidth  = [prefix] "B/s"             bytes per second
//                | [prefix] ("bit/s" | "bps") bits per second (divided by 8)
//     size       = [prefix] "B"               bytes
//     duration   = "ns" | "us" | "µs" | "ms" | "s" | "min" | "h"
//
// A plain number is bytes per second, bytes or seconds. Ambiguous spellings are refused with a
// message naming the unambiguous ones: "10G" (no unit), "10Gb" and "10Gb/s" (bits or bytes?),
// "10GBps" (looks like bits per second), "10KB" (1000 or 1024?), "10gbit/s" (prefixes are
// case-sensitive: "m" is milli in SI), "5m" (minutes or milliseconds?). Negative, infinite and
// NaN values are refused too.
//
// Every function throws InputError whose message quotes the text, says what is wrong and what
// was expected; callers prefix the location (file:line:col).
#pragma once

#include <string_view>

#include "base/time.h"

namespace shardlab::scenarios {

// Scenario durations are exact nanoseconds, the unit the simulator runs on (base/time.h).
using base::Duration;

// Bytes per second, >= 0.
double parse_bandwidth(std::string_view text);

// Bytes, >= 0 (possibly fractional: "1.5kB" is 1500, "0.5B" is 0.5).
double parse_bytes(std::string_view text);

// Rounded to the nearest nanosecond; a non-zero value below half a nanosecond and values beyond
// the simulator's clock (about 292 years) are refused.
Duration parse_duration(std::string_view text);

}  // namespace shardlab::scenarios
