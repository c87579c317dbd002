// Reads granules of one column of one part, decompressing each compressed block once even
// when consecutive granules share it, and counting the bytes it touched.
#pragma once

#include <memory>

#include "shardlab/engine/codec.h"
#include "engine/common/file_io.h"
#include "shardlab/engine/part.h"

namespace shardlab::engine {

// A column's two files, opened once and shared by the readers that one thread runs over one
// part in turn. Compressed blocks are read with pread into each reader's own buffer (see
// io::ReadableFile for why not a mapping); the marks, 16 bytes a granule, are read whole.
struct ColumnFiles {
  std::shared_ptr<const io::ReadableFile> bin;
  std::shared_ptr<const std::string> marks;
  static ColumnFiles open(const Part& part, size_t column);
};

class ColumnReader {
 public:
  // REQUIRES: `stats` outlives the reader (it may be null); `files`, when given, are
  // ColumnFiles::open(*part, column).
  ColumnReader(const PartPtr& part, size_t column, ColumnStats* stats, ColumnFiles files = {});
  // Leaves its window's buffer to the thread's next reader.
  ~ColumnReader();
  ColumnReader(const ColumnReader&) = delete;
  ColumnReader& operator=(const ColumnReader&) = delete;

  // Reads granules [first, first + count) into a column of the in-memory type.
  // Throws CorruptionError naming the file on bad checksums, marks or sizes.
  Column read(size_t first_granule, size_t granule_count);
  // The same into `out`, reusing its buffers (a merge reads thousands of chunks).
  void read_into(size_t first_granule, size_t granule_count, Column* out);

  // Reads only the rows whose `mask` byte is set (mask covers the granules' rows in order).
  // Granules without a selected row are not decompressed at all, and values of byte-shuffled
  // columns are gathered straight from the shuffled planes, so a sparse selection skips the
  // unshuffle and the filter passes.
  Column read_selected(size_t first_granule, size_t granule_count, const uint8_t* mask);

  // ANDs `column == value` into `mask` for granules [first, first + count), where `value` is the
  // little-endian bytes of a value of the column's (integer or date) type. Works on the byte
  // planes: a constant plane that differs from the value's byte rules out its whole block
  // without decoding it, and the other planes are compared byte by byte.
  // REQUIRES: a fixed-width column other than LowCardinality.
  void filter_equals(size_t first_granule, size_t granule_count, uint64_t value, uint8_t* mask);

  // ANDs accept[code] into `mask` for a LowCardinality column, reading the stored one-byte codes
  // without widening them. `accept` has 256 entries. Returns false, doing nothing, when this
  // part's codes are wider than a byte.
  bool filter_codes(size_t first_granule, size_t granule_count, const uint8_t* accept,
                    uint8_t* mask);

 private:
  struct Mark {
    uint64_t block;     // offset of the compressed block in the .bin file
    uint64_t in_block;  // offset of the granule inside the decompressed block
  };
  // The granule's mark. Throws CorruptionError if it points past the end of the file.
  Mark mark_of(size_t granule) const;
  // Reads the block at `offset` (where `granule`'s mark points) into the window unless it is
  // there, verifies it unless it was the last one verified, and returns its bytes and header.
  // REQUIRES: offset < file size.
  const char* fetch_block(size_t granule, uint64_t offset, BlockHeader* header);
  // Fills the window from `offset` with at least `bytes` (fewer only at the end of the file):
  // up to the end of the block by the marks after `granule`, and when reads run on from the
  // last window, a read-ahead of whole blocks.
  void fill_window(size_t granule, uint64_t offset, size_t bytes);
  void count_block(const BlockHeader& header);
  void check_code(uint32_t largest, size_t granule) const;
  // Decode the block at `offset`, where `granule`'s mark points, unless it is already decoded.
  void load_block(size_t granule, uint64_t offset);
  const BlockHeader& load_planes(size_t granule, uint64_t offset);
  // Loads the granule's block as planes and returns the granule's first element index in
  // them, after checking that `rows` values of `width` bytes fit.
  size_t granule_in_planes(size_t granule, const Mark& mark, size_t rows, size_t width);
  bool try_read_whole_block(size_t granule, const Mark& mark, size_t rows, size_t width, char* dst);
  // Throws CorruptionError unless the decoded block holds `bytes` from the granule's offset.
  void check_granule_fits(size_t granule, const Mark& mark, uint64_t bytes) const;
  // read_into of one String granule from the decoded block, appending its values to `out`.
  void append_string_granule(size_t granule, const Mark& mark, size_t rows, Column* out);
  // read_into of one fixed-width granule from the decoded block into `out` at row `row_at`
  // (LowCardinality codes widened to 4 bytes and checked against the dictionary).
  void copy_fixed_granule(size_t granule, const Mark& mark, size_t rows, size_t width,
                          size_t row_at, Column* out);
  // read_selected of one granule of a LowCardinality column with one-byte codes, straight from
  // its block's packed bytes (appending the `selected` codes to `out`). Returns false, doing
  // nothing, when the block is not bit-packed or is already decoded as planes.
  bool read_selected_packed(size_t granule, const Mark& mark, size_t rows, const uint8_t* m,
                            size_t selected, Column* out);
  // read_selected of one granule of a fixed-width column whose values start at element
  // `first_elem` of planes_: writes the `selected` values `m` picks, at their in-memory width,
  // to `dst` (LowCardinality codes widened to 4 bytes and checked).
  void copy_selected(size_t granule, size_t first_elem, size_t rows, const uint8_t* m,
                     size_t selected, char* dst);

  PartPtr part_;
  size_t column_;
  DataType type_;
  ColumnStats* stats_;
  std::shared_ptr<const io::ReadableFile> bin_;
  std::shared_ptr<const std::string> marks_;
  // Compressed bytes [window_offset_, window_offset_ + window_.size()) of the .bin file.
  PodVector<char> window_;
  uint64_t window_offset_ = 0;
  // The block of the window whose checksum was verified last: a filter that looks at a block's
  // descriptor and then decodes it verifies it once.
  uint64_t verified_offset_ = UINT64_MAX;
  BlockHeader verified_header_;
  // One past the last granule the current call reads: read-ahead stops at its mark.
  size_t range_end_ = 0;
  std::shared_ptr<const Dictionary> dict_;
  uint8_t code_width_ = 0;
  uint64_t block_offset_ = UINT64_MAX;
  PodVector<char> block_;
  // The last block decoded without unshuffling (read_selected).
  uint64_t planes_offset_ = UINT64_MAX;
  BlockHeader planes_header_;
  PodVector<char> planes_;
  // One granule's values rebuilt from planes_, before the selected ones are kept.
  PodVector<uint64_t> unshuffled_;
  // The last bit-packed block decoded only to its packed bytes (read_selected_packed).
  uint64_t packed_offset_ = UINT64_MAX;
  BlockHeader packed_header_;
  PodVector<char> packed_;
};

}  // namespace shardlab::engine
