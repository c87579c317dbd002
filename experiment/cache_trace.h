// The request traces `shardlab cache replay` plays through the cache model: a CSV with the header
// time_s,op,key,value_bytes,ttl_s, read in bounded blocks so that a trace of any length streams.
//
//   get     a look-aside read: on a miss the client then sets the key (value_bytes, ttl_s)
//   read    a plain get, nothing set on a miss (a client's own log of what it sent)
//   set, add, delete, touch   memcached's commands (touch sets a new ttl_s)
//
// Keys follow memcached's text protocol: 1 to 250 bytes, no space or control character.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace shardlab::experiment {

enum class CacheOp : uint8_t { kGet, kRead, kSet, kAdd, kDelete, kTouch };

const char* cache_op_name(CacheOp op);

struct CacheRequest {
  double time_s = 0;
  CacheOp op = CacheOp::kGet;
  std::string_view key;  // valid until the reader's next read()
  uint32_t value_bytes = 0;
  uint32_t ttl_s = 0;  // 0: never expires
};

class CacheTraceReader {
 public:
  // Throws InputError if the file cannot be opened or its header is not the expected one.
  explicit CacheTraceReader(const std::string& path);
  ~CacheTraceReader();

  // Fills `out` (cleared first) with the next requests, at most about a block's worth; empty at
  // the end. Throws InputError naming the file and line of a malformed line, or of a time that
  // goes backwards.
  void read(std::vector<CacheRequest>* out);

 private:
  bool refill();
  CacheRequest parse_line(std::string_view line) const;

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // unparsed bytes: buffer_[begin_, end_)
  size_t end_ = 0;
  bool eof_ = false;
  uint64_t line_ = 1;  // the header
  double last_time_ = 0;
};

}  // namespace shardlab::experiment
