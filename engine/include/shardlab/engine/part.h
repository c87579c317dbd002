// A data part: an immutable directory of column files holding a sorted run of rows of one
// partition. The format is described in engine/FORMAT.md.
//
// Lifecycle (Table owns the transitions):
//   Temporary --rename--> Active --covered by a merge--> Outdated --files removed--> Deleted
// A Temporary part lives in a tmp_* directory and is never read; a part becomes Active only
// by the atomic rename of its complete, fsynced directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "shardlab/engine/table_schema.h"
#include "shardlab/engine/column.h"

namespace shardlab::engine {

namespace fs = std::filesystem;

enum class PartState : uint8_t { kTemporary, kActive, kOutdated, kDeleted };

// <partition_id>_<min_block>_<max_block>_<level>, as in ClickHouse.
struct PartInfo {
  std::string partition_id;
  uint64_t min_block = 0;
  uint64_t max_block = 0;
  uint32_t level = 0;

  std::string name() const;
  static std::optional<PartInfo> parse(const std::string& name);
  // True if `other` lies in this part's block range within the same partition.
  bool contains(const PartInfo& other) const {
    return partition_id == other.partition_id && min_block <= other.min_block &&
           other.max_block <= max_block && level >= other.level;
  }
};

struct FileChecksum {
  uint64_t size = 0;
  uint64_t hash = 0;
};

// File names of a column: <escaped name>.bin, .mrk, and .dict.bin for LowCardinality.
std::string column_file_base(const std::string& column);

struct ColumnStats {
  uint64_t compressed_bytes = 0;
  uint64_t uncompressed_bytes = 0;
};

class Part {
 public:
  // Loads the metadata of a complete part directory and checks every file's size against
  // checksums.txt, and the hash of every file it reads whole (part.txt, the indexes). Throws
  // CorruptionError naming the file on any mismatch. `check_sizes` false skips these checks,
  // for a part this process has just written.
  static std::shared_ptr<Part> load(const TableSchema& schema, const fs::path& dir,
                                    const PartInfo& info, bool check_sizes = true);

  // The same part hard-linked into `dir` (another replica's table of the same schema): shares
  // what was loaded and checked from this one instead of reading and checking it again. The
  // files are the same inodes, so corruption since this part's load shows up the same way in
  // both, when a block is read.
  std::shared_ptr<Part> linked_copy(const TableSchema& schema, const fs::path& dir) const;

  const PartInfo& info() const { return info_; }
  std::string name() const { return info_.name(); }
  const fs::path& dir() const { return dir_; }
  uint64_t rows() const { return rows_; }
  uint64_t granularity() const { return granularity_; }
  size_t granules() const { return granules_; }
  size_t granule_rows(size_t granule) const {
    return granule + 1 < granules_ ? granularity_ : rows_ - granularity_ * (granules_ - 1);
  }
  uint64_t bytes_on_disk() const { return bytes_on_disk_; }
  // Per key column, the value at the first row of each granule and, last, at the part's last
  // row (granules() + 1 rows). LowCardinality keys are held as String.
  const std::vector<Column>& index() const { return index_; }
  // Per minmax column of the schema: {min, max} (two rows).
  const std::vector<Column>& minmax() const { return minmax_; }
  std::optional<std::pair<int64_t, int64_t>> ttl_range() const { return ttl_range_; }
  // Level-0 parts record the insert that made them: the first block number and the number of
  // parts of that insert, so a crash between the renames of one insert can be rolled back.
  uint64_t insert_first_block() const { return insert_first_block_; }
  uint64_t insert_parts() const { return insert_parts_; }
  uint8_t code_width(size_t column) const { return code_width_[column]; }
  const std::map<std::string, FileChecksum>& checksums() const { return checksums_; }
  // A small file of the part (marks, say), read whole and checked against checksums.txt.
  // Throws CorruptionError naming the file if it is damaged.
  std::string read_checked(const std::string& file) const;
  ColumnStats column_stats(size_t column) const { return column_stats_[column]; }

  // The dictionary of a LowCardinality column, read on first use. Thread-safe.
  std::shared_ptr<const Dictionary> dictionary(size_t column) const;

  // Reads every file in full and compares its XXH3-64 hash with checksums.txt.
  void verify_contents() const;

  const TableSchema& schema() const { return *schema_; }

 private:
  Part() = default;

  const TableSchema* schema_ = nullptr;
  PartInfo info_;
  fs::path dir_;
  uint64_t rows_ = 0;
  uint64_t granularity_ = 0;
  size_t granules_ = 0;
  uint64_t bytes_on_disk_ = 0;
  std::vector<Column> index_;
  std::vector<Column> minmax_;
  std::optional<std::pair<int64_t, int64_t>> ttl_range_;
  uint64_t insert_first_block_ = 0;
  uint64_t insert_parts_ = 0;
  std::vector<uint8_t> code_width_;
  std::vector<ColumnStats> column_stats_;
  std::map<std::string, FileChecksum> checksums_;
  mutable std::mutex dict_mutex_;
  mutable std::vector<std::shared_ptr<const Dictionary>> dicts_;
};

using PartPtr = std::shared_ptr<const Part>;

// Every row of the named columns of `part`, read and decoded, for tools that inspect a part's
// rows outside a query (the reshard analysis). Throws InputError for an unknown column and
// CorruptionError for damaged files.
Block read_part_columns(const PartPtr& part, const std::vector<std::string>& names);

// Serialisation of single values in primary.idx and minmax files: fixed-width values as
// little-endian bytes, strings as a u32 length and the bytes.
void serialize_value(const Column& column, size_t row, std::string* out);
// Appends one value to `column` (LowCardinality is read as String). Returns false on a short
// buffer.
bool deserialize_value(std::string_view* in, Column* column);
DataType index_type(DataType type);

// The on-disk width of LowCardinality codes for a dictionary of `size` values.
uint8_t code_width_for(size_t dictionary_size);

}  // namespace shardlab::engine
