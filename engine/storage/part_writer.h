// Writes one part from sorted rows, streaming: rows arrive in any number of write() calls
// and memory stays bounded by one granule plus one compressed block per column.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "shardlab/engine/expression.h"
#include "shardlab/engine/part.h"
#include "shardlab/engine/table_schema.h"

namespace shardlab::engine {

struct WriteStats {
  uint64_t rows = 0;
  uint64_t uncompressed_bytes = 0;
  uint64_t compressed_bytes = 0;  // .bin files, headers included
  uint64_t files_bytes = 0;       // everything written, metadata included
};

class PartWriter {
 public:
  // `dicts` gives, for each LowCardinality column, the dictionary the codes of every written
  // block refer to (null for other columns). `ttl` is the analysed TTL expression or null.
  // REQUIRES: `dir` does not exist; it is created.
  PartWriter(const TableSchema& schema, std::filesystem::path dir,
             std::vector<std::shared_ptr<const Dictionary>> dicts, ExprNodePtr ttl);
  ~PartWriter();

  // Appends rows [begin, end) of `block`, whose columns are in schema order and which continue
  // the sort order of everything written before.
  void write(const Block& block, size_t begin, size_t end);

  // Writes the indexes, metadata and checksums, and fsyncs every file and the directory.
  // `insert_first_block`/`insert_parts` are recorded for level-0 parts (0 otherwise).
  // REQUIRES: at least one row was written.
  void finish(uint64_t insert_first_block, uint64_t insert_parts);

  uint64_t rows() const { return stats_.rows; }
  const WriteStats& stats() const { return stats_; }

 private:
  struct Stream;
  void emit_granule(const Block& block, size_t begin, size_t count);
  void clear_pending();
  // REQUIRES: a LowCardinality column's codes refer to the part's dictionary for it.
  void check_dictionary(const Column& column, size_t col) const;
  // Widens the TTL range by the rows [begin, end) of `block`.
  void note_ttl(const Block& block, size_t begin, size_t end);

  const TableSchema& schema_;
  std::filesystem::path dir_;
  std::vector<std::shared_ptr<const Dictionary>> dicts_;
  ExprNodePtr ttl_;
  std::vector<std::unique_ptr<Stream>> streams_;
  Block pending_;  // fewer rows than a granule, waiting for more
  std::string index_bytes_;
  std::string last_key_bytes_;
  std::vector<Column> minmax_;  // per minmax column: {min, max}
  std::optional<std::pair<int64_t, int64_t>> ttl_range_;
  WriteStats stats_;
};

}  // namespace shardlab::engine
