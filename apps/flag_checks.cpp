#include "apps/flag_checks.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>

#include "base/errors.h"

namespace shardlab::apps {

namespace fs = std::filesystem;

std::string WholeNumber::to_string() const {
  return fmt::format("{}{}", negative ? "-" : "", magnitude);
}

namespace {

// "-12", "+7", "0042": an optional sign, then decimal digits only. nullopt for anything else,
// and for magnitudes beyond 64 bits, which are outside every range a flag can have.
std::optional<WholeNumber> parse_whole(std::string_view text) {
  WholeNumber out;
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    out.negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text.empty()) return std::nullopt;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out.magnitude);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (out.magnitude == 0) out.negative = false;
  return out;
}

std::string errno_text(int error) { return std::strerror(error); }

std::string describe_stat_failure(const std::string& path, int error) {
  if (error == ENOENT) return fmt::format("'{}' does not exist", path);
  if (error == ENOTDIR) {
    // Name the file that stands where a directory should be.
    for (fs::path up = fs::path(path).parent_path(); !up.empty(); up = up.parent_path()) {
      struct stat st {};
      if (::stat(up.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
        return fmt::format("cannot create '{}': '{}' is a file, not a directory", path,
                           up.string());
      }
      if (up == up.parent_path()) break;
    }
  }
  return fmt::format("'{}': {}", path, errno_text(error));
}

// Leaves errno set when it returns false.
bool can_open_for_reading(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

// Why `path` cannot be written as a file, or "" when it can.
std::string writable_file_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return fmt::format("'{}' is a directory, expected a file", path);
    // A pipe or a device (/dev/stdout): opening it here could block or disturb the writer at
    // the other end, so only ask.
    if (!S_ISREG(st.st_mode)) {
      if (::access(path.c_str(), W_OK) == 0) return "";
      return fmt::format("cannot write '{}': {}", path, errno_text(errno));
    }
    // Opening for append changes neither the contents nor the times.
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return fmt::format("cannot write '{}': {}", path, errno_text(errno));
    ::close(fd);
    return "";
  }
  if (errno != ENOENT) return fmt::format("cannot write '{}': {}", path, errno_text(errno));
  const fs::path parent = fs::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return fmt::format("cannot write '{}': its directory '{}' does not exist", path, dir);
  }
  // The probe is the file itself, created and removed at once: it checks permissions, a
  // read-only file system and the name.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return fmt::format("cannot write '{}': {}", path, errno_text(errno));
  ::close(fd);
  ::unlink(path.c_str());
  return "";
}

// Why files cannot be created in the existing directory `dir`, or "".
std::string probe_directory(const std::string& dir) {
  std::string probe = (fs::path(dir) / ".shardlab-probe-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) return fmt::format("cannot write into '{}': {}", dir, errno_text(errno));
  ::close(fd);
  ::unlink(probe.c_str());
  return "";
}

// Why `path` cannot be used as an output directory, or "" when it can.
std::string writable_dir_problem(const std::string& path) {
  if (path.empty()) return "the directory name is empty";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return fmt::format("'{}' is a file, expected a directory", path);
    return probe_directory(path);
  }
  if (errno != ENOENT) return describe_stat_failure(path, errno);
  // Find the first missing directory on the path: creating and removing it is the probe.
  fs::path missing = fs::path(path).lexically_normal();
  if (missing.filename().empty()) missing = missing.parent_path();
  for (fs::path up = missing.parent_path(); !up.empty(); up = up.parent_path()) {
    if (::stat(up.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return fmt::format("cannot create '{}': '{}' is a file, not a directory", path,
                           up.string());
      }
      break;
    }
    if (errno != ENOENT) return describe_stat_failure(up.string(), errno);
    missing = up;
    if (up == up.parent_path()) break;
  }
  if (::mkdir(missing.c_str(), 0755) != 0) {
    return fmt::format("cannot create '{}': {}", path, errno_text(errno));
  }
  ::rmdir(missing.c_str());
  return "";
}

}  // namespace

CLI::Validator whole_number(WholeNumber min, WholeNumber max) {
  const std::string range = fmt::format("{} to {}", min.to_string(), max.to_string());
  CLI::Validator validator(
      [min, max, range](std::string& text) -> std::string {
        const std::optional<WholeNumber> value = parse_whole(text);
        if (!value || *value < min || max < *value) {
          return fmt::format("expected a whole number from {}, got '{}'", range, text);
        }
        text = value->to_string();  // decimal, no sign or leading zeros: what CLI11 reads right
        return "";
      },
      fmt::format("[{}, {}]", min.to_string(), max.to_string()));
  return validator.name("whole_number");
}

CLI::Validator real_number(double min, double max) {
  const std::string range = fmt::format("{} to {}", min, max);
  CLI::Validator validator(
      [min, max, range](std::string& text) -> std::string {
        double value = 0;
        const char* first = text.data() + (!text.empty() && text.front() == '+' ? 1 : 0);
        const auto [end, error] = std::from_chars(first, text.data() + text.size(), value);
        const bool parsed = error == std::errc() && end == text.data() + text.size();
        if (!parsed || !std::isfinite(value) || value < min || value > max) {
          return fmt::format("expected a number from {}, got '{}'", range, text);
        }
        return "";
      },
      fmt::format("[{}, {}]", min, max));
  return validator.name("real_number");
}

CLI::Validator input_file(std::string kind, std::string expected, Dash dash) {
  CLI::Validator validator(
      [kind, expected, dash](std::string& path) -> std::string {
        if (dash == Dash::kStandardStream && path == "-") return "";
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) {
          const int error = errno;
          return fmt::format("cannot read the {} '{}': {}", kind, path,
                             error == ENOENT ? "there is no such file" : errno_text(error));
        }
        if (S_ISDIR(st.st_mode)) {
          return fmt::format("cannot read the {} '{}': it is a directory, expected {}", kind, path,
                             expected);
        }
        // Opening a named pipe here would take the writer's only connection; only ask.
        const bool readable =
            S_ISREG(st.st_mode) ? can_open_for_reading(path) : ::access(path.c_str(), R_OK) == 0;
        if (!readable)
          return fmt::format("cannot read the {} '{}': {}", kind, path, errno_text(errno));
        return "";
      },
      "");
  return validator.name("input_file");
}

void require_writable_file(std::string_view what, const std::string& path) {
  if (const std::string problem = writable_file_problem(path); !problem.empty()) {
    throw InputError(fmt::format("{}: {}", what, problem));
  }
}

void require_writable_dir(std::string_view what, const std::string& path) {
  if (const std::string problem = writable_dir_problem(path); !problem.empty()) {
    throw InputError(fmt::format("{}: {}", what, problem));
  }
}

CLI::Validator output_file(Dash dash) {
  CLI::Validator validator(
      [dash](std::string& path) -> std::string {
        if (dash == Dash::kStandardStream && path == "-") return "";
        return writable_file_problem(path);
      },
      "");
  return validator.name("output_file");
}

CLI::Validator output_dir() {
  CLI::Validator validator([](std::string& path) { return writable_dir_problem(path); }, "");
  return validator.name("output_dir");
}

}  // namespace shardlab::apps
