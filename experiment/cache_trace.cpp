#include "experiment/cache_trace.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "base/errors.h"

namespace shardlab::experiment {

namespace {

constexpr std::string_view kHeader = "time_s,op,key,value_bytes,ttl_s";
constexpr size_t kBlockBytes = size_t{4} << 20;
constexpr size_t kMaxKeyBytes = 250;  // memcached's KEY_MAX_LENGTH
constexpr std::array<std::pair<std::string_view, CacheOp>, 6> kOps{{{"get", CacheOp::kGet},
                                                                    {"read", CacheOp::kRead},
                                                                    {"set", CacheOp::kSet},
                                                                    {"add", CacheOp::kAdd},
                                                                    {"delete", CacheOp::kDelete},
                                                                    {"touch", CacheOp::kTouch}}};

bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) return false;
  for (const char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || byte == 0x7f) return false;
  }
  return true;
}

template <typename T>
bool parse_unsigned(std::string_view text, T* value) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

const char* cache_op_name(CacheOp op) {
  for (const auto& [name, value] : kOps) {
    if (value == op) return name.data();
  }
  return "?";
}

CacheTraceReader::CacheTraceReader(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    throw InputError(fmt::format("cannot read the trace file '{}': {}", path, std::strerror(errno)));
  }
  buffer_.resize(kBlockBytes);
  refill();
  const char* data = buffer_.data() + begin_;
  const auto* newline = static_cast<const char*>(std::memchr(data, '\n', end_ - begin_));
  std::string_view header(data, newline ? static_cast<size_t>(newline - data) : end_ - begin_);
  if (!header.empty() && header.back() == '\r') header.remove_suffix(1);
  if (header != kHeader) {
    throw InputError(fmt::format("{}:1: expected the header '{}', got '{}'", path_, kHeader,
                                 header.substr(0, 80)));
  }
  begin_ = newline ? static_cast<size_t>(newline - buffer_.data()) + 1 : end_;
}

CacheTraceReader::~CacheTraceReader() {
  if (file_ != nullptr) std::fclose(file_);
}

// Moves the unparsed tail to the front and reads more after it; false when nothing more came.
bool CacheTraceReader::refill() {
  if (eof_) return false;
  std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
  end_ -= begin_;
  begin_ = 0;
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);  // a line longer than a block
  const size_t got = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, file_);
  if (got == 0) {
    if (std::ferror(file_)) {
      throw InputError(fmt::format("cannot read the trace file '{}': {}", path_, std::strerror(errno)));
    }
    eof_ = true;
    return false;
  }
  end_ += got;
  return true;
}

CacheRequest CacheTraceReader::parse_line(std::string_view line) const {
  const auto fail = [&](std::string_view what) -> CacheRequest {
    throw InputError(fmt::format("{}:{}: {} (the line is '{}')", path_, line_, what,
                                 line.substr(0, 120)));
  };
  std::array<std::string_view, 5> fields;
  size_t count = 0;
  size_t from = 0;
  while (true) {
    const size_t comma = line.find(',', from);
    if (count == fields.size()) return fail("expected 5 fields: time_s,op,key,value_bytes,ttl_s");
    fields[count++] = line.substr(from, comma - from);
    if (comma == std::string_view::npos) break;
    from = comma + 1;
  }
  if (count != fields.size()) return fail("expected 5 fields: time_s,op,key,value_bytes,ttl_s");
  CacheRequest request;
  const auto [end, ec] =
      std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), request.time_s);
  if (ec != std::errc() || end != fields[0].data() + fields[0].size() ||
      !std::isfinite(request.time_s) || request.time_s < 0) {
    return fail("time_s must be a number of seconds >= 0");
  }
  if (request.time_s < last_time_) return fail("time_s goes backwards");
  bool known = false;
  for (const auto& [name, op] : kOps) {
    if (fields[1] == name) {
      request.op = op;
      known = true;
    }
  }
  if (!known) return fail("op must be one of get, read, set, add, delete, touch");
  if (!valid_key(fields[2])) {
    return fail("the key must be 1 to 250 bytes with no space or control character");
  }
  request.key = fields[2];
  if (!parse_unsigned(fields[3], &request.value_bytes)) {
    return fail("value_bytes must be a whole number of bytes below 2^32");
  }
  if (!parse_unsigned(fields[4], &request.ttl_s)) {
    return fail("ttl_s must be a whole number of seconds >= 0 (0: never expires)");
  }
  return request;
}

void CacheTraceReader::read(std::vector<CacheRequest>* out) {
  out->clear();
  // Keys point into the buffer, so a block is what the buffer holds: refill only when empty.
  if (begin_ == end_ && !refill()) return;
  while (true) {
    const char* data = buffer_.data();
    const auto* newline = static_cast<const char*>(std::memchr(data + begin_, '\n', end_ - begin_));
    if (newline == nullptr) {
      if (!out->empty()) return;  // hand out this block first; the partial line moves on refill
      if (!refill()) {
        if (begin_ == end_) return;
        newline = buffer_.data() + end_;  // the last line has no newline
      } else {
        continue;
      }
    }
    data = buffer_.data();
    std::string_view line(data + begin_, static_cast<size_t>(newline - data) - begin_);
    begin_ = std::min(end_, static_cast<size_t>(newline - data) + 1);
    ++line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const CacheRequest request = parse_line(line);
    last_time_ = request.time_s;
    out->push_back(request);
    if (begin_ == end_) return;
  }
}

}  // namespace shardlab::experiment
