#include "workloads/tsv_writer.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <exception>

#include "shardlab/engine/date_time.h"
#include "base/errors.h"

namespace shardlab::workloads {
namespace {

// Fields are copied as fixed-size chunks and the cursor advances by their true length; the next
// field overwrites the excess.
constexpr size_t kChunkBytes = kTsvScratchBytes;

struct Chunk {
  char bytes[kChunkBytes];
  size_t size;
};

constexpr Chunk make_chunk(std::string_view a, std::string_view b, std::string_view c,
                           std::string_view d) {
  Chunk chunk{};
  for (std::string_view part : {a, b, c, d}) {
    for (char ch : part) chunk.bytes[chunk.size++] = ch;
  }
  return chunk;
}

// "\t<action>\t" for every action code.
constexpr std::array<Chunk, kActionNames.size()> kActionChunks = [] {
  std::array<Chunk, kActionNames.size()> chunks{};
  for (size_t code = 0; code < kActionNames.size(); ++code) {
    chunks[code] = make_chunk("\t", kActionNames[code], "\t", "");
  }
  return chunks;
}();

// "\t<province>\t<gender>\n" for every (province, gender) pair: the row's last two fields.
constexpr std::array<Chunk, kProvinceCount * kGenderNames.size()> kEndChunks = [] {
  std::array<Chunk, kProvinceCount * kGenderNames.size()> chunks{};
  for (size_t province = 0; province < kProvinceCount; ++province) {
    for (size_t gender = 0; gender < kGenderNames.size(); ++gender) {
      const std::string_view gender_line = gender == kFemale ? "F\n" : "M\n";
      chunks[province * kGenderNames.size() + gender] =
          make_chunk("\t", kProvinceNames[province], "\t", gender_line);
    }
  }
  return chunks;
}();
static_assert(kGenderNames[kFemale] == "F" && kGenderNames[kMale] == "M");

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

constexpr std::array<uint64_t, 20> kPowersOf10 = [] {
  std::array<uint64_t, 20> powers{};
  uint64_t power = 1;
  for (auto& p : powers) {
    p = power;
    power *= 10;
  }
  return powers;
}();

int decimal_digits(uint64_t value) {
  // floor(log10(2^bits)) estimate, then one comparison to correct it.
  const int estimate = (std::bit_width(value | 1) * 1233) >> 12;
  const int digits = estimate + (value >= kPowersOf10[estimate]);
  return digits + (value == 0);
}

char* put_u64(uint64_t value, char* out) {
  const int digits = decimal_digits(value);
  char* cursor = out + digits;
  while (value >= 100) {
    const auto pair = static_cast<size_t>(value % 100) * 2;
    value /= 100;
    cursor -= 2;
    std::memcpy(cursor, kDigitPairs + pair, 2);
  }
  if (value >= 10) {
    std::memcpy(cursor - 2, kDigitPairs + value * 2, 2);
  } else {
    cursor[-1] = static_cast<char>('0' + value);
  }
  return out + digits;
}

void put_pair(unsigned value, char* out) { std::memcpy(out, kDigitPairs + value * 2, 2); }

void put_chunk(const Chunk& chunk, char** cursor) {
  std::memcpy(*cursor, chunk.bytes, kChunkBytes);
  *cursor += chunk.size;
}

// The formatted "YYYY-MM-DD hh:mm:ss" of the last second seen. Rows come sorted by time, so the
// date is formatted once per day and the time of day once per second.
class DateTimeCache {
 public:
  const char* format(int64_t seconds) {
    if (seconds != second_) {
      const int64_t day = dt::day_of(seconds);
      if (day != day_) {
        dt::format_date_time(seconds, text_);
        day_ = day;
      } else {
        const auto second_of_day = static_cast<unsigned>(seconds - day * dt::kSecondsPerDay);
        put_pair(second_of_day / 3600, text_ + 11);
        put_pair(second_of_day / 60 % 60, text_ + 14);
        put_pair(second_of_day % 60, text_ + 17);
      }
      second_ = seconds;
    }
    return text_;
  }

 private:
  int64_t second_ = -1;
  int64_t day_ = INT64_MIN;
  char text_[19] = {};
};

}  // namespace

char* format_tsv_rows(const UserBehaviorBlock& block, size_t begin, size_t end, char* out) {
  SHARDLAB_ASSERT(begin <= end && end <= block.size(), "rows [{}, {}) of a {}-row block", begin,
                  end, block.size());
  DateTimeCache time_cache;
  char* cursor = out;
  for (size_t row = begin; row < end; ++row) {
    cursor = put_u64(block.user_id[row], cursor);
    *cursor++ = '\t';
    cursor = put_u64(block.item_id[row], cursor);
    put_chunk(kActionChunks[block.action[row]], &cursor);
    std::memcpy(cursor, time_cache.format(block.event_time[row]), 19);
    cursor += 19;
    put_chunk(kEndChunks[block.province[row] * kGenderNames.size() + block.gender[row]], &cursor);
  }
  return cursor;
}

void append_tsv(const UserBehaviorBlock& block, std::string* out) {
  const size_t old_size = out->size();
  out->resize(old_size + block.size() * kMaxTsvRowBytes + kTsvScratchBytes);
  char* end = format_tsv_rows(block, 0, block.size(), out->data() + old_size);
  out->resize(static_cast<size_t>(end - out->data()));
}

TsvWriter::TsvWriter(std::FILE* file, size_t buffer_bytes)
    : file_(file), buffer_(new char[buffer_bytes + kTsvScratchBytes]), capacity_(buffer_bytes) {
  SHARDLAB_ASSERT(file != nullptr, "TsvWriter needs an open file");
  SHARDLAB_ASSERT(buffer_bytes >= kMaxTsvRowBytes, "TsvWriter buffer of {} bytes holds no row",
                  buffer_bytes);
}

TsvWriter::~TsvWriter() {
  SHARDLAB_ASSERT(used_ == 0 || std::uncaught_exceptions() > 0,
                  "TsvWriter destroyed with {} unflushed bytes; call flush()", used_);
}

void TsvWriter::write(const UserBehaviorBlock& block) {
  size_t row = 0;
  while (row < block.size()) {
    const size_t room_rows = (capacity_ - used_) / kMaxTsvRowBytes;
    if (room_rows == 0) {
      write_buffer();
      continue;
    }
    const size_t end = std::min(block.size(), row + room_rows);
    char* start = buffer_.get() + used_;
    char* stop = format_tsv_rows(block, row, end, start);
    used_ += static_cast<size_t>(stop - start);
    bytes_formatted_ += static_cast<uint64_t>(stop - start);
    row = end;
  }
}

void TsvWriter::flush() {
  write_buffer();
  if (std::fflush(file_) != 0) {
    throw RuntimeError(fmt::format("TSV output: fflush failed: {}", std::strerror(errno)));
  }
}

void TsvWriter::write_buffer() {
  if (used_ == 0) return;
  const size_t written = std::fwrite(buffer_.get(), 1, used_, file_);
  if (written != used_) {
    throw RuntimeError(
        fmt::format("TSV output: wrote {} of {} bytes: {}", written, used_, std::strerror(errno)));
  }
  used_ = 0;
}

}  // namespace shardlab::workloads
