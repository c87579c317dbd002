// Short, fixed-precision numbers for people: figure titles, legends and report tables. They
// are for reading, not for reading back (summary.json and the CSVs keep full precision), and
// depend on nothing but the value, so reports stay byte-identical for identical runs.
#pragma once

#include <cstdint>
#include <string>

namespace shardlab::plots {

// Three significant digits in the unit that keeps the number below 1000:
// 0.0042 -> "4.2 ms", 2.5e-7 -> "250 ns", 12.345 -> "12.3 s". From 1000 s on, whole seconds
// with thousands separators ("4,521 s"). Non-finite values give "n/a".
std::string format_duration(double seconds);

// Thousands separated by commas: 1234567 -> "1,234,567".
std::string format_count(uint64_t value);

// Three significant digits with an SI suffix (k, M, G, T, P) for values of 1000 and more:
// 1234567 -> "1.23M", 12.5 -> "12.5", 0.25 -> "0.25". Non-finite values give "n/a".
std::string format_si(double value);

// A ratio with three significant digits: 1.8333 -> "1.83". Non-finite values give "n/a".
std::string format_ratio(double value);

}  // namespace shardlab::plots
