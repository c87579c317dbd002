#include "tests/fuzz/fuzz_input.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace shardlab::fuzz {

std::string_view as_text(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

std::vector<std::string_view> split_at_marker_lines(std::string_view text,
                                                    std::string_view marker) {
  std::vector<std::string_view> sections;
  size_t section_start = 0;
  size_t line_start = 0;
  while (line_start <= text.size()) {
    size_t end = text.find('\n', line_start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(line_start, end - line_start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == marker) {
      sections.push_back(text.substr(section_start, line_start - section_start));
      section_start = std::min(end + 1, text.size());
    }
    line_start = end + 1;
  }
  sections.push_back(text.substr(section_start));
  return sections;
}

std::vector<std::string> lines_of(std::string_view text, size_t limit) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size() && lines.size() < limit) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    start = end + 1;
  }
  return lines;
}

namespace {

std::filesystem::path make_scratch_dir() {
  // Memory-backed when possible: the table targets write and rewrite part files on every input.
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp && *tmp ? tmp : "/tmp";
  if (!(tmp && *tmp) && access("/dev/shm", W_OK) == 0) base = "/dev/shm";
  std::string pattern = base + "/shardlab-fuzz-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) report_bug("cannot create a scratch directory");
  return pattern;
}

}  // namespace

const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = make_scratch_dir();
  // Registered after `dir` is constructed, so it runs before `dir` is destroyed.
  static const bool cleanup_registered = [] {
    return std::atexit([] {
             std::error_code ignored;
             std::filesystem::remove_all(dir, ignored);
           }) == 0;
  }();
  (void)cleanup_registered;
  return dir;
}

void write_file(const std::filesystem::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) report_bug("cannot write " + path.string());
}

void report_bug(std::string_view what) {
  std::fprintf(stderr, "shardlab fuzz: BUG: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace shardlab::fuzz
