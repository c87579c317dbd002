#include "plots/human_units.h"

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace shardlab::plots {
namespace {

constexpr int kDigits = 3;

// `value` with kDigits significant digits, if that needs no exponent and stays below 1000
// (999.7 would round to "1e+03").
bool short_form(double value, std::string& out) {
  std::string text = fmt::format("{:.{}g}", value, kDigits);
  if (text.find('e') != std::string::npos) return false;
  if (std::fabs(std::stod(text)) >= 1000) return false;
  out = std::move(text);
  return true;
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds)) return "n/a";
  if (seconds == 0) return "0 s";
  struct Unit {
    double seconds;
    const char* symbol;
  };
  static constexpr std::array<Unit, 4> kUnits = {Unit{1e-9, "ns"}, Unit{1e-6, "\u00b5s"},
                                                 Unit{1e-3, "ms"}, Unit{1, "s"}};
  std::string text;
  for (const Unit& unit : kUnits) {
    const double scaled = seconds / unit.seconds;
    if (std::fabs(scaled) < 1000 && short_form(scaled, text)) return text + " " + unit.symbol;
  }
  const double whole = std::round(std::fabs(seconds));
  return (seconds < 0 ? "-" : "") + format_count(static_cast<uint64_t>(whole)) + " s";
}

std::string format_count(uint64_t value) {
  const std::string digits = std::to_string(value);
  std::string out;
  for (size_t digit_idx = 0; digit_idx < digits.size(); ++digit_idx) {
    if (digit_idx > 0 && (digits.size() - digit_idx) % 3 == 0) out += ',';
    out += digits[digit_idx];
  }
  return out;
}

std::string format_si(double value) {
  if (!std::isfinite(value)) return "n/a";
  static constexpr std::array<const char*, 6> kSuffixes = {"", "k", "M", "G", "T", "P"};
  std::string text;
  double scaled = value;
  for (const char* suffix : kSuffixes) {
    if (short_form(scaled, text)) return text + suffix;
    // Only tiny values fail without being large: they keep their exponent ("1e-05").
    if (std::fabs(scaled) < 1) break;
    scaled /= 1000;
  }
  return fmt::format("{:.{}g}", value, kDigits);
}

std::string format_ratio(double value) {
  if (!std::isfinite(value)) return "n/a";
  return fmt::format("{:.{}g}", value, kDigits);
}

}  // namespace shardlab::plots
