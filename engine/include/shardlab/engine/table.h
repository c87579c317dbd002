// A MergeTree table in one directory: its definition (metadata.sql), its active parts, and
// the insert, merge and recovery rules that keep acknowledged data safe.
//
// Durability contract: insert() returns only after every part of the insert is complete,
// fsynced and renamed into place. A crash at any moment leaves either all parts of an insert
// or none visible after open(): level-0 parts record their insert (first block number and part
// count), and open() rolls back an insert whose parts are not all present.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shardlab/engine/merge_selector.h"
#include "shardlab/engine/merger.h"
#include "shardlab/engine/part.h"
#include "shardlab/engine/table_schema.h"

namespace shardlab::engine {

// What an open found and did. A writable open acts on it (removes leftovers, rolls back,
// detaches damaged parts); a read-only open only reports.
struct OpenReport {
  std::vector<std::string> removed_temporary;  // tmp_* leftovers of interrupted writes
  std::vector<std::string> removed_outdated;   // parts covered by a merged part
  std::vector<std::string> rolled_back;        // parts of inserts never acknowledged (journal)
  std::vector<std::string> broken;             // damaged parts found now (why, naming the file);
                                               // a writable open moves them to detached/
  std::vector<std::string> detached_broken;    // detached/broken_* left by earlier opens
  std::vector<std::string> missing;            // parts of acknowledged inserts that are gone

  // True when some acknowledged rows are not readable: a damaged part (now or detached earlier)
  // or a missing one. Reading such a table would give short answers.
  bool damaged() const { return !broken.empty() || !detached_broken.empty() || !missing.empty(); }
  // One line per finding, for messages.
  std::vector<std::string> damage_lines() const;
};

struct InsertResult {
  std::vector<std::string> parts;
  uint64_t rows = 0;
  uint64_t bytes_written = 0;
  uint64_t uncompressed_bytes = 0;
};

class Table {
 public:
  // Creates the directory and metadata.sql. Throws InputError for bad DDL and RuntimeError if
  // a table already exists there.
  static std::unique_ptr<Table> create(const std::filesystem::path& dir, std::string_view ddl);
  // Opens an existing table. A writable open takes the directory's lock (one writer per
  // table) and recovers from any interrupted write (see OpenReport); a read-only open changes
  // nothing on disk and just ignores leftovers. Damaged parts are left out and reported, never
  // taken as a reason to remove their healthy siblings; the caller decides whether a damaged
  // table may be read (OpenReport::damaged()).
  static std::unique_ptr<Table> open(const std::filesystem::path& dir, OpenReport* report,
                                     bool writable = true);
  static bool exists(const std::filesystem::path& dir);

  const TableSchema& schema() const { return schema_; }
  const std::filesystem::path& dir() const { return dir_; }

  // Sorts the block by the sorting key, splits it by partition and writes one level-0 part per
  // partition, atomically as a whole. The block's columns must match the schema by name and
  // type. Throws RuntimeError "Too many parts" when a target partition already holds more than
  // parts_to_throw_insert active parts.
  InsertResult insert(const Block& block);
  // The same, with block numbers given by the caller (the replication log's allocator) rather
  // than this table's counter: the insert's parts are numbered first_block, first_block + 1, ...
  // in partition-id order, so every replica of a shard agrees on part names. REQUIRES: the
  // numbers are unused in this table.
  InsertResult insert(const Block& block, uint64_t first_block);
  // How many parts (partitions) insert() would write for `block`: the block numbers to reserve.
  size_t partitions_of(const Block& block) const;

  // Makes a part of another table with the same schema active here, by hard-linking its files
  // (one copy on disk, as replicas sharing immutable part files). Active parts the new part
  // covers (a merged part fetched in place of its sources) are retired. Returns false, and does
  // nothing, if an active part already covers it. Throws RuntimeError on I/O failure.
  bool attach_linked(const Part& source);
  // The active part called `name`, or null.
  PartPtr find_active(const std::string& name) const;
  // Removes an active part from the table and from disk (an insert that was never completed,
  // rolled back). Returns false if no active part has that name.
  bool drop_part(const std::string& name);
  // Moves the active part `name` to detached/broken_<name>: a part found damaged while the
  // table is open (ClickHouse's part check does the same). Returns false if no active part has
  // that name.
  bool detach_broken(const std::string& name);

  // ClickHouse's insert delay for a partition with `parts` active parts, in milliseconds
  // (0 below parts_to_delay_insert).
  uint64_t insert_delay_ms(size_t parts) const;
  size_t max_parts_in_partition() const;

  // Active parts sorted by (partition, min_block): a consistent snapshot.
  std::vector<PartPtr> active_parts() const;

  std::optional<MergePlan> select_merge() const;
  // Runs a merge: writes the new part, renames it into place and retires the merged parts.
  MergeProfile merge(const MergePlan& plan, int64_t now_s);
  // Merges until the selector finds nothing (final=false) or every partition is one part with
  // TTL applied (final=true). Returns the profiles of the merges run.
  std::vector<MergeProfile> optimize(bool final, int64_t now_s,
                                     const std::function<void(const MergeProfile&)>& on_merge = {});

  ~Table();

 private:
  Table(std::filesystem::path dir, TableSchema schema);
  void load_parts(OpenReport* report, bool writable);
  // Loads the part directories (widest block range first), skipping those covered by a loaded
  // part, and detaches the damaged ones (writable). Throws CorruptionError, changing nothing,
  // if more than max_suspicious_broken_parts are damaged. Appends the damaged to *broken.
  std::vector<PartPtr> load_part_directories(
      const std::vector<std::pair<PartInfo, std::filesystem::path>>& candidates,
      OpenReport* report, bool writable, std::vector<PartInfo>* broken);
  // Reports blocks of acknowledged multi-part inserts that no part covers.
  void find_missing_parts(const std::vector<PartPtr>& loaded, const std::vector<PartInfo>& broken,
                          OpenReport* report) const;
  InsertResult insert_numbered(const Block& block, std::optional<uint64_t> first_block);
  // Row indices of an insert's block per partition id, in partition-id order.
  using RowsByPartition = std::map<std::string, std::vector<uint32_t>>;
  // Parts written under tmp_insert_* names, not yet visible: (directory, final name).
  using TempParts = std::vector<std::pair<std::filesystem::path, PartInfo>>;
  // Throws RuntimeError "Too many parts" if a partition of the insert already holds more than
  // parts_to_throw_insert active parts.
  void check_parts_limit(const RowsByPartition& by_partition) const;
  // Sorts each partition's rows by the key and writes them as level-0 parts numbered from
  // `first_block`, adding their sizes to *result. On failure removes the parts it completed.
  TempParts write_temp_parts(const Block& block, RowsByPartition* by_partition,
                             uint64_t first_block, InsertResult* result) const;
  // Renames written parts into place and makes them active, naming them in *result.
  void publish_parts(const TempParts& written, InsertResult* result);
  void retire(const std::vector<PartPtr>& parts);
  ExprNodePtr ttl_node() const { return ttl_node_; }

  std::filesystem::path dir_;
  TableSchema schema_;
  ExprNodePtr partition_node_;
  ExprNodePtr ttl_node_;
  int lock_fd_ = -1;
  mutable std::mutex mutex_;
  std::vector<PartPtr> parts_;  // active, sorted
  uint64_t next_block_ = 1;
};

}  // namespace shardlab::engine
