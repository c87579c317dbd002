// What the fuzz targets share: cutting one input into sections, a scratch directory, and the
// rule that turns an unexpected outcome into a crash libFuzzer reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace shardlab::fuzz {

std::string_view as_text(const uint8_t* data, size_t size);

// Splits `text` at lines that are exactly `marker` (without the newline): the part before the
// first marker line, then the part after each. A text without the marker is one section.
std::vector<std::string_view> split_at_marker_lines(std::string_view text, std::string_view marker);

// The lines of `text` (without "\n" or "\r\n"), at most `limit` of them.
std::vector<std::string> lines_of(std::string_view text, size_t limit);

// A directory made once per process under $TMPDIR (else /dev/shm, else /tmp), removed at exit.
const std::filesystem::path& scratch_dir();

// Writes `contents` to `path`, replacing it. Aborts on failure: the harness itself broke.
void write_file(const std::filesystem::path& path, std::string_view contents);

// Prints what went wrong and aborts, which libFuzzer reports as a crash with the input saved.
[[noreturn]] void report_bug(std::string_view what);

// Runs `body`, which must either return or throw one of the project's error types with a
// message: InputError always; CorruptionError and RuntimeError when `data_errors_ok` (a
// damaged file, an I/O failure). Any other exception, or an empty message, is a bug.
// Returns true when `body` returned normally.
template <typename Body>
bool expect_clean(Body&& body, bool data_errors_ok);

}  // namespace shardlab::fuzz

#include "tests/fuzz/fuzz_input_inl.h"
