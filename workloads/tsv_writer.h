// ClickHouse TabSeparated output for user_behavior blocks, so that `shardlab gen` can feed the
// same rows to a real ClickHouse (INSERT INTO user_behavior FORMAT TabSeparated).
//
// Columns in table order: user_id, item_id, action, event_time ('YYYY-MM-DD hh:mm:ss', UTC),
// province, gender; one row per line, '\n' terminated. The dictionary strings contain no tab,
// newline or backslash, so nothing needs escaping. The server must read event_time in UTC (e.g.
// the column or session time zone set to UTC) to get the same epoch seconds back.
//
// Speed comes from formatting into a large buffer with hand-written integer formatting (two digits
// per table lookup), reusing the formatted date while rows stay in one day, and writing to the
// FILE* in large chunks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "workloads/user_behavior.h"

namespace shardlab::workloads {

// An upper bound on one formatted row: two 20-digit ids, "click", 19 bytes of time, a 9-byte
// province (three CJK characters in UTF-8), the gender, five tabs and the newline.
inline constexpr size_t kMaxTsvRowBytes = 20 + 20 + 5 + 19 + 9 + 1 + 6;

// Fields are copied in fixed 16-byte chunks, so formatting may write up to this many bytes past
// the end of the text it returns.
inline constexpr size_t kTsvScratchBytes = 16;

// Formats rows [begin, end) of `block` and returns the pointer past the last byte of text.
// REQUIRES: begin <= end <= block.size(); out has room for
// (end - begin) * kMaxTsvRowBytes + kTsvScratchBytes bytes.
char* format_tsv_rows(const UserBehaviorBlock& block, size_t begin, size_t end, char* out);

// Appends all rows of `block` to *out.
void append_tsv(const UserBehaviorBlock& block, std::string* out);

// Buffers formatted rows and writes them to a FILE* in large chunks.
class TsvWriter {
 public:
  static constexpr size_t kDefaultBufferBytes = size_t{4} << 20;

  // `file` is owned by the caller and must stay open while the writer is used.
  // REQUIRES: buffer_bytes >= kMaxTsvRowBytes.
  explicit TsvWriter(std::FILE* file, size_t buffer_bytes = kDefaultBufferBytes);
  // REQUIRES: flush() was called after the last write() (unless an exception is unwinding);
  // a destructor cannot report a failed write, so it does not flush.
  ~TsvWriter();
  TsvWriter(const TsvWriter&) = delete;
  TsvWriter& operator=(const TsvWriter&) = delete;

  // Throws RuntimeError if a full buffer cannot be written.
  void write(const UserBehaviorBlock& block);
  // Writes out the buffer and fflush()es the file. Throws RuntimeError on failure.
  void flush();

  uint64_t bytes_formatted() const { return bytes_formatted_; }

 private:
  void write_buffer();

  std::FILE* file_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_;
  size_t used_ = 0;
  uint64_t bytes_formatted_ = 0;
};

}  // namespace shardlab::workloads
