// Calendar arithmetic in UTC, the only time zone shardlab uses.
// Dates are days since 1970-01-01 (ClickHouse Date); DateTimes are seconds since the epoch
// (ClickHouse DateTime). The civil-date conversions are Howard Hinnant's public-domain
// algorithms, valid for every date ClickHouse can store.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shardlab::dt {

constexpr int64_t kSecondsPerDay = 86400;

struct Civil {
  int year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

constexpr int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

constexpr Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Civil{static_cast<int>(y + (m <= 2)), m, d};
}

inline int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

inline int64_t day_of(int64_t seconds) { return floor_div(seconds, kSecondsPerDay); }

// Writes "YYYY-MM-DD" (10 bytes) for a day number. REQUIRES: out has room for 10 bytes.
void format_date(int64_t days, char* out);
// Writes "YYYY-MM-DD hh:mm:ss" (19 bytes). REQUIRES: out has room for 19 bytes.
void format_date_time(int64_t seconds, char* out);
std::string date_to_string(int64_t days);
std::string date_time_to_string(int64_t seconds);

// Parse "YYYY-MM-DD" and "YYYY-MM-DD hh:mm:ss" (a bare date means midnight).
// Returns nullopt on anything else, including out-of-range fields.
std::optional<int64_t> parse_date(std::string_view text);
std::optional<int64_t> parse_date_time(std::string_view text);

// ClickHouse's month arithmetic: the day of month is clamped to the target month's length.
int64_t add_months_to_days(int64_t days, int64_t months);

}  // namespace shardlab::dt
