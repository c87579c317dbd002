// Checks on flag values, run while the command line is parsed: a bad value stops the command
// before any work starts, with exit code 2 and a message that names the flag, the value and what
// was expected. One mechanism for each kind of value:
//
//   numbers       add_number(): every numeric flag declares its range. The text is parsed as a
//                 signed decimal by us, not by CLI11, whose strtoull would wrap "-1" into
//                 18446744073709551615 and read "010" as octal.
//   input files   input_file(): the file exists and is not a directory ("-" for stdin where the
//                 flag allows it).
//   outputs       output_file(), output_dir() and the require_writable_* functions behind them:
//                 the place can be written, found by creating and removing a probe there, so an
//                 impossible --out fails at once instead of after an hour of simulation.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

namespace shardlab::apps {

// A whole number as sign and magnitude: wide enough for every int64_t and every uint64_t.
struct WholeNumber {
  bool negative = false;  // never true with magnitude 0
  uint64_t magnitude = 0;

  template <typename T>
  static WholeNumber of(T value) {
    static_assert(std::is_integral_v<T>);
    if constexpr (std::is_signed_v<T>) {
      if (value < 0) return {true, uint64_t{0} - static_cast<uint64_t>(value)};
    }
    return {false, static_cast<uint64_t>(value)};
  }
  friend bool operator<(const WholeNumber& a, const WholeNumber& b) {
    if (a.negative != b.negative) return a.negative;
    return a.negative ? a.magnitude > b.magnitude : a.magnitude < b.magnitude;
  }
  std::string to_string() const;
};

// Accepts a decimal whole number in [min, max] (an optional sign, then digits) and rewrites it
// in canonical form for CLI11's conversion. Help shows the range as ":[min, max]".
CLI::Validator whole_number(WholeNumber min, WholeNumber max);
// Accepts a finite decimal number (1.5, 2e6) in [min, max]. Help shows ":[min, max]".
CLI::Validator real_number(double min, double max);

// Adds a numeric option whose value must lie in [min, max]; the only way apps/ adds one.
template <typename T>
CLI::Option* add_number(CLI::App* cmd, const std::string& name, T& value, const std::string& help,
                        T min, T max) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  CLI::Option* option = cmd->add_option(name, value, help);
  if constexpr (std::is_integral_v<T>) {
    option->transform(whole_number(WholeNumber::of(min), WholeNumber::of(max)));
  } else {
    option->check(real_number(static_cast<double>(min), static_cast<double>(max)));
  }
  return option;
}

inline constexpr uint64_t kAnySeed = std::numeric_limits<uint64_t>::max();

// Whether "-" may stand for standard input (or standard error, for outputs).
enum class Dash { kLiteral, kStandardStream };

// A file to read: it must exist and not be a directory. `kind` names it in messages
// ("scenario file" gives "cannot read the scenario file 'x': ..."), `expected` says what belongs
// there ("a scenario YAML file").
CLI::Validator input_file(std::string kind, std::string expected, Dash dash = Dash::kLiteral);

// A file to write (created or replaced): its directory exists and accepts a new file, or the
// file exists, is not a directory and opens for writing. Leaves the file system as it found it.
// Throws InputError naming `what` (e.g. "--out").
void require_writable_file(std::string_view what, const std::string& path);
// A directory to write into, created later if missing: it exists and accepts a new file, or the
// first missing directory on its path can be created under an existing directory. Leaves the
// file system as it found it. Throws InputError naming `what`.
void require_writable_dir(std::string_view what, const std::string& path);

CLI::Validator output_file(Dash dash = Dash::kLiteral);
CLI::Validator output_dir();

}  // namespace shardlab::apps
