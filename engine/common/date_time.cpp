#include "shardlab/engine/date_time.h"

#include <algorithm>

namespace shardlab::dt {
namespace {

void put2(char* out, unsigned v) {
  out[0] = static_cast<char>('0' + v / 10);
  out[1] = static_cast<char>('0' + v % 10);
}

void put4(char* out, int v) {
  const unsigned u = static_cast<unsigned>(v < 0 ? 0 : v);
  put2(out, (u / 100) % 100);
  put2(out + 2, u % 100);
}

bool read_digits(std::string_view text, size_t pos, size_t count, unsigned* value) {
  if (pos + count > text.size()) return false;
  unsigned v = 0;
  for (size_t idx = pos; idx < pos + count; ++idx) {
    const char c = text[idx];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  *value = v;
  return true;
}

unsigned days_in_month(int year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

void format_date(int64_t days, char* out) {
  const Civil c = civil_from_days(days);
  put4(out, c.year);
  out[4] = '-';
  put2(out + 5, c.month);
  out[7] = '-';
  put2(out + 8, c.day);
}

void format_date_time(int64_t seconds, char* out) {
  const int64_t days = day_of(seconds);
  const auto sod = static_cast<unsigned>(seconds - days * kSecondsPerDay);
  format_date(days, out);
  out[10] = ' ';
  put2(out + 11, sod / 3600);
  out[13] = ':';
  put2(out + 14, (sod / 60) % 60);
  out[16] = ':';
  put2(out + 17, sod % 60);
}

std::string date_to_string(int64_t days) {
  std::string s(10, ' ');
  format_date(days, s.data());
  return s;
}

std::string date_time_to_string(int64_t seconds) {
  std::string s(19, ' ');
  format_date_time(seconds, s.data());
  return s;
}

std::optional<int64_t> parse_date(std::string_view text) {
  unsigned y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!read_digits(text, 0, 4, &y) || !read_digits(text, 5, 2, &m) || !read_digits(text, 8, 2, &d))
    return std::nullopt;
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(static_cast<int>(y), m)) return std::nullopt;
  return days_from_civil(static_cast<int>(y), m, d);
}

std::optional<int64_t> parse_date_time(std::string_view text) {
  if (text.size() == 10) {
    auto days = parse_date(text);
    if (!days) return std::nullopt;
    return *days * kSecondsPerDay;
  }
  if (text.size() != 19 || text[10] != ' ' || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  auto days = parse_date(text.substr(0, 10));
  unsigned h = 0, mi = 0, s = 0;
  if (!days || !read_digits(text, 11, 2, &h) || !read_digits(text, 14, 2, &mi) ||
      !read_digits(text, 17, 2, &s) || h > 23 || mi > 59 || s > 59)
    return std::nullopt;
  return *days * kSecondsPerDay + h * 3600 + mi * 60 + s;
}

int64_t add_months_to_days(int64_t days, int64_t months) {
  const Civil c = civil_from_days(days);
  const int64_t total = static_cast<int64_t>(c.year) * 12 + (c.month - 1) + months;
  const int year = static_cast<int>(floor_div(total, 12));
  const auto month = static_cast<unsigned>(total - static_cast<int64_t>(year) * 12 + 1);
  const unsigned day = std::min(c.day, days_in_month(year, month));
  return days_from_civil(year, month, day);
}

}  // namespace shardlab::dt
