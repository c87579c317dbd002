#include "results/number_format.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

#include "base/errors.h"

namespace shardlab::results {

double round_significant(double value) {
  if (value == 0.0) return 0.0;
  if (!std::isfinite(value)) return value;
  // to_chars with a precision is correctly rounded and locale-free, and from_chars reads the
  // decimal back to the nearest double: together an exact decimal rounding of the binary value.
  char buffer[64];
  const auto written = std::to_chars(buffer, buffer + sizeof(buffer), value,
                                     std::chars_format::scientific, kSignificantDigits - 1);
  SHARDLAB_ASSERT(written.ec == std::errc(), "to_chars failed for {}", value);
  double rounded = 0.0;
  const auto read = std::from_chars(buffer, written.ptr, rounded);
  SHARDLAB_ASSERT(read.ec == std::errc() && read.ptr == written.ptr, "from_chars failed on '{}'",
                  std::string(buffer, written.ptr));
  return rounded;
}

std::string format_number(double value) {
  if (!std::isfinite(value)) return "";
  // fmt's default for a double is the shortest round-trip form (Dragonbox), fixed notation for
  // decimal exponents in [-4, 16).
  return fmt::format("{}", round_significant(value));
}

std::string format_seconds(int64_t ns) {
  constexpr uint64_t kNanosPerSecond = 1000000000;
  // Work on the magnitude as unsigned so that INT64_MIN does not overflow.
  const uint64_t magnitude =
      ns < 0 ? uint64_t{0} - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string text = fmt::format("{}{}", ns < 0 ? "-" : "", magnitude / kNanosPerSecond);
  uint64_t fraction = magnitude % kNanosPerSecond;
  if (fraction == 0) return text;
  int digits = 9;
  while (fraction % 10 == 0) {
    fraction /= 10;
    --digits;
  }
  return text + fmt::format(".{:0{}}", fraction, digits);
}

}  // namespace shardlab::results
