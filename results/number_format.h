// The one rule for printing numbers in everything results/ writes (summary.json, CSV series).
//
// A double is first rounded to kSignificantDigits significant decimal digits (correctly
// rounded, ties to even), then printed as the shortest decimal string that reads back to the
// rounded double, in fixed notation for 1e-4 <= |x| < 1e16 and in exponent notation outside it
// ("1e-05", "1.5e+16"). So 0.1 + 0.2 prints "0.3", 1234567 ns / 1e9 prints "0.001234567", and
// a rate of 12345.6789012 prints "12345.6789".
//
// Why round at all: identical inputs already give identical doubles on one build, but the last
// few bits of a derived value (a mean, a CI bound, a rate) can differ between compilers, libm
// versions or FMA contraction. Nine digits hide that noise, keep diffs between runs readable,
// and still resolve 1 ns in a value of 1 s. Rounding cannot remove a flip at a rounding
// boundary, so byte-identity across different builds is likely, not guaranteed; on one build it
// is exact.
//
// Integers (counts, ns) are printed exactly and never pass through here.
#pragma once

#include <cstdint>
#include <string>

namespace shardlab::results {

inline constexpr int kSignificantDigits = 9;

// `value` rounded to kSignificantDigits significant digits. Non-finite values and zero come
// back unchanged, except that -0 becomes +0.
double round_significant(double value);

// The text of round_significant(value) under the rule above: "2", "0.25", "1e-05".
// Non-finite values give "" (callers that cannot represent them choose: CSV leaves the cell
// empty, JSON writes null).
std::string format_number(double value);

// `ns` nanoseconds as exact decimal seconds with no trailing zeros and no rounding:
// 1500000000 -> "1.5", 250000 -> "0.00025", 0 -> "0", -1 -> "-0.000000001".
std::string format_seconds(int64_t ns);

}  // namespace shardlab::results
