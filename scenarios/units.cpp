#include "scenarios/units.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <string>

#include "base/errors.h"

namespace shardlab::scenarios {

namespace {

struct Prefix {
  std::string_view symbol;
  double factor;
};

constexpr std::array<Prefix, 11> kPrefixes{{
    {"", 1},
    {"k", 1e3},
    {"M", 1e6},
    {"G", 1e9},
    {"T", 1e12},
    {"P", 1e15},
    {"Ki", 1024.0},
    {"Mi", 1024.0 * 1024},
    {"Gi", 1024.0 * 1024 * 1024},
    {"Ti", 1024.0 * 1024 * 1024 * 1024},
    {"Pi", 1024.0 * 1024 * 1024 * 1024 * 1024},
}};

constexpr std::string_view kPrefixRule =
    "prefixes are case-sensitive: k, M, G, T, P are powers of 1000 and Ki, Mi, Gi, Ti, Pi "
    "powers of 1024";

struct DurationUnit {
  std::string_view symbol;
  double ns;
};

constexpr std::array<DurationUnit, 8> kDurationUnits{{
    {"ns", 1},
    {"us", 1e3},
    {"\xC2\xB5s", 1e3},  // µs, MICRO SIGN
    {"\xCE\xBCs", 1e3},  // μs, GREEK SMALL LETTER MU
    {"ms", 1e6},
    {"s", 1e9},
    {"min", 60e9},
    {"h", 3600e9},
}};

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

[[noreturn]] void fail(std::string_view kind, std::string_view text, std::string_view why) {
  throw InputError(fmt::format("bad {} '{}': {}", kind, text, why));
}

struct Quantity {
  double number;
  std::string_view digits;  // the number as written, for suggestions: "10" in "10 G"
  std::string_view unit;    // trimmed, possibly empty
};

// Splits "1.25e9 GB/s" into 1.25e9 and "GB/s". `kind` and `expected` go into error messages.
Quantity split(std::string_view kind, std::string_view original, std::string_view expected) {
  std::string_view text = trim(original);
  if (text.empty()) fail(kind, original, fmt::format("it is empty; expected {}", expected));
  if (text.front() == '-') fail(kind, original, "it must not be negative");
  if (text.front() == '+') text.remove_prefix(1);
  if (text.empty() ||
      !(std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '.')) {
    fail(kind, original, fmt::format("expected {}", expected));
  }
  double number = 0;
  const auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), number, std::chars_format::general);
  if (error == std::errc::result_out_of_range) fail(kind, original, "the number is out of range");
  if (error != std::errc() || !std::isfinite(number)) {
    fail(kind, original, fmt::format("expected {}", expected));
  }
  const std::string_view digits(text.data(), static_cast<size_t>(end - text.data()));
  return Quantity{number, digits, trim(std::string_view(end, text.data() + text.size() - end))};
}

std::optional<double> prefix_factor(std::string_view symbol) {
  for (const Prefix& prefix : kPrefixes) {
    if (prefix.symbol == symbol) return prefix.factor;
  }
  return std::nullopt;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// The factor of `prefix` in front of a known base unit, or a precise complaint.
double checked_prefix(std::string_view kind, std::string_view original, std::string_view prefix,
                      std::string_view base) {
  if (const std::optional<double> factor = prefix_factor(prefix)) return *factor;
  if (prefix == "K") {
    fail(kind, original,
         fmt::format("'K{0}' is ambiguous: write k{0} for 1000 or Ki{0} for 1024", base));
  }
  fail(kind, original,
       fmt::format("unknown prefix '{}' in '{}{}'; {}", prefix, prefix, base, kPrefixRule));
}

}  // namespace

double parse_bandwidth(std::string_view text) {
  constexpr std::string_view kKind = "bandwidth";
  constexpr std::string_view kExpected =
      "a bandwidth such as 10Gbit/s, 10Gbps, 1.25GB/s, 1GiB/s or 1.25e9 (a plain number is "
      "bytes per second)";
  const Quantity quantity = split(kKind, text, kExpected);
  const std::string_view unit = quantity.unit;
  if (unit.empty()) return quantity.number;
  struct Base {
    std::string_view symbol;
    double to_bytes;
  };
  for (const Base base : {Base{"B/s", 1.0}, Base{"bit/s", 0.125}, Base{"bps", 0.125}}) {
    if (!ends_with(unit, base.symbol)) continue;
    const std::string_view prefix = unit.substr(0, unit.size() - base.symbol.size());
    return quantity.number * checked_prefix(kKind, text, prefix, base.symbol) * base.to_bytes;
  }
  const std::string_view digits = quantity.digits;
  if (prefix_factor(unit)) {
    fail(kKind, text,
         fmt::format("it has no unit; write {0}{1}B/s for bytes or {0}{1}bit/s for bits per "
                     "second",
                     digits, unit));
  }
  if (ends_with(unit, "b") || ends_with(unit, "b/s")) {
    const std::string_view prefix = unit.substr(0, unit.find('b'));
    fail(kKind, text,
         fmt::format("'{0}' is ambiguous (bits or bytes?); write {1}{2}bit/s for bits or "
                     "{1}{2}B/s for bytes per second",
                     unit, digits, prefix));
  }
  if (ends_with(unit, "Bps")) {
    const std::string_view prefix = unit.substr(0, unit.size() - 3);
    fail(kKind, text,
         fmt::format("'{0}' is easily read as bits per second; write {1}{2}B/s for bytes or "
                     "{1}{2}bps for bits per second",
                     unit, digits, prefix));
  }
  if (ends_with(unit, "B")) {
    fail(kKind, text,
         fmt::format("'{0}' is a size, not a bandwidth; write {1}{0}/s", unit, digits));
  }
  fail(kKind, text, fmt::format("unknown unit '{}'; expected {}", unit, kExpected));
}

double parse_bytes(std::string_view text) {
  constexpr std::string_view kKind = "size";
  constexpr std::string_view kExpected =
      "a size such as 512KiB, 10GiB, 2TB or 1e6 (a plain number is bytes)";
  const Quantity quantity = split(kKind, text, kExpected);
  const std::string_view unit = quantity.unit;
  if (unit.empty()) return quantity.number;
  if (ends_with(unit, "B")) {
    return quantity.number * checked_prefix(kKind, text, unit.substr(0, unit.size() - 1), "B");
  }
  if (prefix_factor(unit)) {
    fail(kKind, text,
         fmt::format("it has no unit; write {0}{1}B for bytes", quantity.digits, unit));
  }
  if (ends_with(unit, "b") || ends_with(unit, "bit") || ends_with(unit, "bits")) {
    const std::string_view prefix = unit.substr(0, unit.find('b'));
    fail(kKind, text, fmt::format("sizes are in bytes: write {}{}B", quantity.digits, prefix));
  }
  if (ends_with(unit, "/s") || ends_with(unit, "bps")) {
    fail(kKind, text, fmt::format("'{}' is a bandwidth, not a size", unit));
  }
  fail(kKind, text, fmt::format("unknown unit '{}'; expected {}", unit, kExpected));
}

Duration parse_duration(std::string_view text) {
  constexpr std::string_view kKind = "duration";
  constexpr std::string_view kExpected =
      "a duration such as 50us, 5ms, 2s, 1.5min or 0.25 (a plain number is seconds; units: ns, "
      "us, ms, s, min, h)";
  const Quantity quantity = split(kKind, text, kExpected);
  double unit_ns = 1e9;
  if (!quantity.unit.empty()) {
    const DurationUnit* found = nullptr;
    for (const DurationUnit& unit : kDurationUnits) {
      if (unit.symbol == quantity.unit) found = &unit;
    }
    if (found == nullptr) {
      if (quantity.unit == "m") {
        fail(kKind, text, "'m' is ambiguous; write min for minutes or ms for milliseconds");
      }
      fail(kKind, text, fmt::format("unknown unit '{}'; expected {}", quantity.unit, kExpected));
    }
    unit_ns = found->ns;
  }
  const double ns = quantity.number * unit_ns;
  // 2^63 ns, the end of the simulated clock, is about 292 years.
  if (ns >= 9.2e18) fail(kKind, text, "it is too long: the clock ends after about 292 years");
  if (ns > 0 && ns < 0.5) fail(kKind, text, "it is below the simulator's 1 ns resolution");
  return Duration::nanoseconds(std::llround(ns));
}

}  // namespace shardlab::scenarios
