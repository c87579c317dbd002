// Reads granules of one column of one part, decompressing each compressed block once even
// when consecutive granules share it, and counting the bytes it touched.
#pragma once

#include <memory>

#include "engine/common/file_io.h"
#include "engine/storage/part.h"

namespace shardlab::engine {

class ColumnReader {
 public:
  // REQUIRES: `stats` outlives the reader (it may be null).
  ColumnReader(const PartPtr& part, size_t column, ColumnStats* stats);

  // Reads granules [first, first + count) into a column of the in-memory type.
  // Throws CorruptionError naming the file on bad checksums, marks or sizes.
  Column read(size_t first_granule, size_t granule_count);

 private:
  void load_block(uint64_t offset);
  bool try_read_whole_block(size_t granule, const uint64_t mark[2], size_t rows, size_t width, char* dst);

  PartPtr part_;
  size_t column_;
  DataType type_;
  ColumnStats* stats_;
  std::unique_ptr<io::MappedFile> bin_;
  std::unique_ptr<io::MappedFile> marks_;
  std::shared_ptr<const Dictionary> dict_;
  uint8_t code_width_ = 0;
  uint64_t block_offset_ = UINT64_MAX;
  PodVector<char> block_;
};

}  // namespace shardlab::engine
