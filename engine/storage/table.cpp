#include "shardlab/engine/table.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "base/errors.h"
#include "engine/common/file_io.h"
#include "engine/storage/part_writer.h"
#include "engine/types/order_bits.h"
#include "shardlab/engine/date_time.h"
#include "shardlab/engine/parser.h"

namespace shardlab::engine {
namespace {

constexpr const char* kMetadataFile = "metadata.sql";
// More partitions than one insert could ever write (parts_to_throw_insert is per partition).
constexpr uint64_t kMaxInsertParts = 1 << 20;

bool part_order(const PartPtr& a, const PartPtr& b) {
  if (a->info().partition_id != b->info().partition_id)
    return a->info().partition_id < b->info().partition_id;
  return a->info().min_block < b->info().min_block;
}

// Partition ids follow ClickHouse: Date values as YYYYMMDD, other values in decimal.
std::string partition_id_of(const Column& values, size_t row) {
  std::string id;
  visit_fixed(values.type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = values.values<T>()[row];
    if (values.type.id == TypeId::kDate) {
      const dt::Civil c = dt::civil_from_days(static_cast<int64_t>(v));
      id = fmt::format("{:04}{:02}{:02}", c.year, c.month, c.day);
    } else {
      id = fmt::format("{}", v);
    }
  });
  return id;
}

// Throws InputError unless `block` has the schema's columns, in order, of equal length.
void check_insert_block(const TableSchema& schema, const Block& block) {
  const size_t rows = block.rows();
  if (block.columns.size() != schema.columns.size())
    throw InputError(fmt::format("insert into {} expects {} columns, got {}", schema.name,
                                 schema.columns.size(), block.columns.size()));
  for (size_t col = 0; col < schema.columns.size(); ++col) {
    if (block.columns[col].type != schema.columns[col].type || block.columns[col].rows != rows)
      throw InputError(
          fmt::format("insert column {} ('{}') expects {} with {} rows, got {} with {} rows",
                      col + 1, schema.columns[col].name, schema.columns[col].type.name(), rows,
                      block.columns[col].type.name(), block.columns[col].rows));
  }
}

// The rows of each partition, keyed by partition id: the map's order (partition-id order)
// makes part numbering deterministic. A null `partition_node` puts every row in "all".
// REQUIRES: block.rows() > 0.
std::map<std::string, std::vector<uint32_t>> split_by_partition(const Block& block,
                                                                const ExprNodePtr& partition_node) {
  const size_t rows = block.rows();
  std::map<std::string, std::vector<uint32_t>> by_partition;
  if (!partition_node) {
    auto& list = by_partition["all"];
    list.resize(rows);
    for (size_t r = 0; r < rows; ++r) list[r] = static_cast<uint32_t>(r);
    return by_partition;
  }
  std::vector<const Column*> inputs;
  for (const Column& c : block.columns) inputs.push_back(&c);
  const Column values = evaluate_column(*partition_node, inputs, rows);
  size_t row = 0;
  while (row < rows) {
    const std::string id = partition_id_of(values, row);
    auto& list = by_partition[id];
    // Rows usually arrive grouped by partition: extend the run without re-deriving the id.
    size_t end = row + 1;
    visit_fixed(values.type, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* v = values.values<T>();
      while (end < rows && v[end] == v[row]) ++end;
    });
    for (size_t r = row; r < end; ++r) list.push_back(static_cast<uint32_t>(r));
    row = end;
  }
  return by_partition;
}

std::vector<ColumnInfo> column_infos(const TableSchema& schema) {
  std::vector<ColumnInfo> infos;
  for (const auto& c : schema.columns) infos.push_back({c.name, c.type});
  return infos;
}

// Permutation of `rows` sorting them by the key; ties keep their input order.
void sort_by_key(const TableSchema& schema, const Block& block, std::vector<uint32_t>* rows) {
  if (schema.key_columns.empty()) return;
  size_t bits = 0;
  bool composite = true;
  for (size_t col : schema.key_columns) {
    if (block.columns[col].type.id == TypeId::kString ||
        block.columns[col].type.id == TypeId::kLowCardinality)
      composite = false;
    bits += block.columns[col].type.width() * 8;
  }
  if (composite && bits <= 96) {
    // Pack the key's order-preserving bits with the row number into one 128-bit value: a
    // plain sort of those is a stable sort by key.
    std::vector<unsigned __int128> keys(rows->size(), 0);
    for (size_t col : schema.key_columns) {
      const Column& c = block.columns[col];
      const size_t width = c.type.width() * 8;
      visit_fixed(c.type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* v = c.values<T>();
        for (size_t idx = 0; idx < rows->size(); ++idx) {
          const uint64_t b = order_bits(v[(*rows)[idx]]);
          keys[idx] = (keys[idx] << width) | b;
        }
      });
    }
    for (size_t idx = 0; idx < rows->size(); ++idx) keys[idx] = (keys[idx] << 32) | (*rows)[idx];
    if (!std::is_sorted(keys.begin(), keys.end())) std::sort(keys.begin(), keys.end());
    for (size_t idx = 0; idx < rows->size(); ++idx) (*rows)[idx] = static_cast<uint32_t>(keys[idx]);
    return;
  }
  auto less = [&](uint32_t a, uint32_t b) {
    for (size_t col : schema.key_columns) {
      const Column& c = block.columns[col];
      if (c.type.is_string_like()) {
        const auto x = c.string_at(a), y = c.string_at(b);
        if (x != y) return x < y;
        continue;
      }
      bool decided = false, result = false;
      visit_fixed(c.type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T x = c.values<T>()[a], y = c.values<T>()[b];
        if (x != y) {
          decided = true;
          result = x < y;
        }
      });
      if (decided) return result;
    }
    return false;
  };
  std::stable_sort(rows->begin(), rows->end(), less);
}

}  // namespace

Table::Table(std::filesystem::path dir, TableSchema schema)
    : dir_(std::move(dir)), schema_(std::move(schema)) {
  const auto infos = column_infos(schema_);
  if (schema_.partition_by)
    partition_node_ = analyze_expression(*schema_.partition_by, infos, schema_.ddl);
  if (schema_.ttl) ttl_node_ = analyze_expression(*schema_.ttl, infos, schema_.ddl);
}

Table::~Table() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

bool Table::exists(const std::filesystem::path& dir) {
  return std::filesystem::exists(dir / kMetadataFile);
}

std::unique_ptr<Table> Table::create(const std::filesystem::path& dir, std::string_view ddl) {
  TableSchema schema = TableSchema::from_ddl(ddl);
  if (exists(dir))
    throw RuntimeError(
        fmt::format("a table already exists in '{}' ({} is present)", dir.string(), kMetadataFile));
  std::filesystem::create_directories(dir);
  io::write_file_durable(dir / "metadata.sql.tmp", ddl);
  io::rename_durable(dir / "metadata.sql.tmp", dir / kMetadataFile);
  OpenReport report;
  return open(dir, &report, true);
}

std::unique_ptr<Table> Table::open(const std::filesystem::path& dir, OpenReport* report,
                                   bool writable) {
  if (!exists(dir))
    throw InputError(fmt::format("no table in '{}': {} is missing (create one with shardlab load)",
                                 dir.string(), (dir / kMetadataFile).string()));
  const std::string ddl = io::read_file(dir / kMetadataFile);
  TableSchema schema;
  try {
    schema = TableSchema::from_ddl(ddl);
  } catch (const InputError& e) {
    throw CorruptionError(fmt::format("{}: stored table definition is invalid: {}",
                                      (dir / kMetadataFile).string(), e.what()));
  }
  std::unique_ptr<Table> table(new Table(dir, std::move(schema)));
  if (writable) {
    table->lock_fd_ = ::open((dir / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (table->lock_fd_ < 0 || ::flock(table->lock_fd_, LOCK_EX | LOCK_NB) != 0)
      throw RuntimeError(
          fmt::format("table '{}' is being written by another process", dir.string()));
  }
  table->load_parts(report, writable);
  return table;
}

namespace {

// An insert that writes several parts commits them with several renames. Before the first
// rename it leaves insert_<first block>_<parts>.journal; the journal is removed, durably, before
// the insert is acknowledged. A journal found at open is therefore the one proof that an insert
// never returned, and its parts are rolled back. Damage found later is never such proof.
struct InsertJournal {
  std::filesystem::path file;
  uint64_t first_block = 0;
  uint64_t parts = 0;

  bool wrote(const PartInfo& info) const {
    return info.level == 0 && info.min_block >= first_block && info.min_block - first_block < parts;
  }
};

std::string journal_name(uint64_t first_block, uint64_t parts) {
  return fmt::format("insert_{}_{}.journal", first_block, parts);
}

std::optional<InsertJournal> parse_journal(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  unsigned long long first = 0, parts = 0;
  int consumed = 0;
  if (std::sscanf(name.c_str(), "insert_%llu_%llu.journal%n", &first, &parts, &consumed) != 2 ||
      static_cast<size_t>(consumed) != name.size() || name != journal_name(first, parts))
    return std::nullopt;
  return InsertJournal{path, first, parts};
}

// What an open finds in the table directory, before it reads any part.
struct DirectoryScan {
  std::vector<std::filesystem::path> temporary;  // tmp_* directories
  std::vector<InsertJournal> journals;
  // Part directories, widest block range first (see Table::load_parts).
  std::vector<std::pair<PartInfo, std::filesystem::path>> parts;
  std::vector<std::string> detached_broken;  // detached/broken_* left by earlier opens
};

DirectoryScan scan_directory(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> entries;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());
  DirectoryScan scan;
  for (const auto& path : entries) {
    const std::string name = path.filename().string();
    if (std::filesystem::is_regular_file(path)) {
      if (auto journal = parse_journal(path)) scan.journals.push_back(std::move(*journal));
      continue;
    }
    if (!std::filesystem::is_directory(path)) continue;
    if (name == "detached") {
      for (const auto& entry : std::filesystem::directory_iterator(path))
        if (entry.path().filename().string().rfind("broken_", 0) == 0)
          scan.detached_broken.push_back(entry.path().filename().string());
      std::sort(scan.detached_broken.begin(), scan.detached_broken.end());
    } else if (name.rfind("tmp_", 0) == 0) {
      scan.temporary.push_back(path);
    } else if (const auto info = PartInfo::parse(name)) {
      scan.parts.emplace_back(*info, path);
    }
  }
  std::stable_sort(scan.parts.begin(), scan.parts.end(), [](const auto& a, const auto& b) {
    const uint64_t wa = a.first.max_block - a.first.min_block,
                   wb = b.first.max_block - b.first.min_block;
    return wa != wb ? wa > wb : a.first.level > b.first.level;
  });
  return scan;
}

bool covers_block(const std::vector<PartInfo>& parts, uint64_t block) {
  return std::any_of(parts.begin(), parts.end(), [&](const PartInfo& info) {
    return info.min_block <= block && block <= info.max_block;
  });
}

}  // namespace

std::vector<std::string> OpenReport::damage_lines() const {
  std::vector<std::string> lines;
  for (const auto& why : broken) lines.push_back("damaged part: " + why);
  for (const auto& name : detached_broken)
    lines.push_back(fmt::format("damaged part detached earlier: detached/{}", name));
  for (const auto& what : missing) lines.push_back("missing part: " + what);
  return lines;
}

void Table::load_parts(OpenReport* report, bool writable) {
  DirectoryScan scan = scan_directory(dir_);
  report->detached_broken = scan.detached_broken;
  for (const auto& path : scan.temporary) {
    report->removed_temporary.push_back(path.filename().string());
    if (writable) std::filesystem::remove_all(path);
  }
  // New block numbers start above every part name seen, removed ones included, so a name is
  // never reused.
  for (const auto& [info, path] : scan.parts)
    next_block_ = std::max(next_block_, info.max_block + 1);
  for (const auto& journal : scan.journals)
    next_block_ = std::max(next_block_, journal.first_block + journal.parts);

  std::vector<std::pair<PartInfo, std::filesystem::path>> kept;
  for (auto& [info, path] : scan.parts) {
    const bool unacknowledged =
        std::any_of(scan.journals.begin(), scan.journals.end(),
                    [&info = info](const InsertJournal& j) { return j.wrote(info); });
    if (unacknowledged) {
      report->rolled_back.push_back(info.name());
      if (writable) std::filesystem::remove_all(path);
    } else {
      kept.emplace_back(std::move(info), std::move(path));
    }
  }
  std::vector<PartInfo> broken;
  std::vector<PartPtr> loaded = load_part_directories(kept, report, writable, &broken);
  if (writable) {
    io::sync_directory(dir_);
    // Only once the rolled-back parts are gone for good may their journal go.
    for (const auto& journal : scan.journals) std::filesystem::remove(journal.file);
    if (!scan.journals.empty()) io::sync_directory(dir_);
  }
  find_missing_parts(loaded, broken, report);
  for (const auto& part : loaded) parts_.push_back(part);
  std::sort(parts_.begin(), parts_.end(), part_order);
}

std::vector<PartPtr> Table::load_part_directories(
    const std::vector<std::pair<PartInfo, std::filesystem::path>>& candidates, OpenReport* report,
    bool writable, std::vector<PartInfo>* broken) {
  // Widest block ranges first: a part covered by a part already accepted is a leftover of a
  // merge whose clean-up was interrupted and is removed without being read (its files may be
  // half deleted). A covering part that is itself damaged does not hide what it covers.
  std::vector<PartPtr> active;
  std::vector<std::pair<PartInfo, std::filesystem::path>> damaged;
  std::vector<std::string> reasons;
  for (const auto& [info, path] : candidates) {
    const bool covered =
        std::any_of(active.begin(), active.end(),
                    [&info = info](const auto& part) { return part->info().contains(info); });
    if (covered) {
      report->removed_outdated.push_back(info.name());
      if (writable) std::filesystem::remove_all(path);
      continue;
    }
    try {
      active.push_back(Part::load(schema_, path, info));
    } catch (const CorruptionError& e) {
      damaged.emplace_back(info, path);
      reasons.push_back(e.what());
      broken->push_back(info);
    }
  }
  // As ClickHouse does, too many damaged parts at once suggests a wrong table directory or a
  // failing disk rather than a few damaged parts: refuse to open, and move nothing.
  const uint64_t limit = schema_.settings.max_suspicious_broken_parts;
  if (damaged.size() > limit)
    throw CorruptionError(fmt::format(
        "table '{}': {} damaged parts exceed max_suspicious_broken_parts = {}; nothing was "
        "changed. The first: {}",
        dir_.string(), damaged.size(), limit, reasons.front()));
  for (size_t i = 0; i < damaged.size(); ++i) {
    const auto& [info, path] = damaged[i];
    report->broken.push_back(reasons[i]);
    if (!writable) continue;
    const std::filesystem::path target = dir_ / "detached" / ("broken_" + info.name());
    std::filesystem::create_directories(target.parent_path());
    std::filesystem::remove_all(target);  // an older copy under the same name
    io::rename_durable(path, target);
  }
  return active;
}

void Table::find_missing_parts(const std::vector<PartPtr>& loaded,
                               const std::vector<PartInfo>& broken, OpenReport* report) const {
  // A level-0 part records the block numbers of its whole insert; a block that no part on disk
  // covers any more belonged to a part that was deleted. With a TTL, a merge may drop every
  // row of its parts and leave no part at all, so the check would be a false alarm there.
  if (ttl_node_) return;
  std::vector<PartInfo> present = broken;
  for (const auto& part : loaded) present.push_back(part->info());
  std::set<uint64_t> reported;
  for (const auto& part : loaded) {
    if (part->info().level != 0 || part->insert_parts() <= 1) continue;
    const uint64_t first = part->insert_first_block();
    // One part per partition: a count beyond any real insert is damage the checksums missed.
    if (part->insert_parts() > kMaxInsertParts || first > UINT64_MAX - part->insert_parts())
      continue;
    for (uint64_t b = first; b < first + part->insert_parts(); ++b) {
      if (covers_block(present, b) || !reported.insert(b).second) continue;
      report->missing.push_back(fmt::format(
          "block {} of the insert that wrote {} (blocks {}..{}) is in no part: a part of that "
          "acknowledged insert was deleted",
          b, part->name(), first, first + part->insert_parts() - 1));
    }
  }
}

std::vector<PartPtr> Table::active_parts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return parts_;
}

size_t Table::max_parts_in_partition() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, size_t> counts;
  size_t best = 0;
  for (const auto& part : parts_) best = std::max(best, ++counts[part->info().partition_id]);
  return best;
}

uint64_t Table::insert_delay_ms(size_t parts) const {
  const auto& st = schema_.settings;
  if (parts < st.parts_to_delay_insert) return 0;
  const double max_k = static_cast<double>(st.parts_to_throw_insert - st.parts_to_delay_insert);
  const double k = static_cast<double>(1 + parts - st.parts_to_delay_insert);
  if (max_k <= 0) return st.max_delay_to_insert_s * 1000;
  return static_cast<uint64_t>(
      std::pow(static_cast<double>(st.max_delay_to_insert_s * 1000), std::min(1.0, k / max_k)));
}

InsertResult Table::insert(const Block& block) { return insert_numbered(block, std::nullopt); }

InsertResult Table::insert(const Block& block, uint64_t first_block) {
  return insert_numbered(block, first_block);
}

size_t Table::partitions_of(const Block& block) const {
  if (!partition_node_ || block.rows() == 0) return block.rows() == 0 ? 0 : 1;
  std::vector<const Column*> inputs;
  for (const Column& c : block.columns) inputs.push_back(&c);
  const Column values = evaluate_column(*partition_node_, inputs, block.rows());
  std::set<std::string> ids;
  for (size_t row = 0; row < block.rows(); ++row) ids.insert(partition_id_of(values, row));
  return ids.size();
}

InsertResult Table::insert_numbered(const Block& block, std::optional<uint64_t> given_first) {
  InsertResult result;
  check_insert_block(schema_, block);
  const size_t rows = block.rows();
  if (rows == 0) return result;
  RowsByPartition by_partition = split_by_partition(block, partition_node_);
  check_parts_limit(by_partition);
  uint64_t first_block;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    first_block = given_first.value_or(next_block_);
    next_block_ = std::max(next_block_, first_block + by_partition.size());
  }
  const TempParts written = write_temp_parts(block, &by_partition, first_block, &result);
  publish_parts(written, &result);
  result.rows = rows;
  return result;
}

void Table::check_parts_limit(const RowsByPartition& by_partition) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [id, list] : by_partition) {
    const size_t count = static_cast<size_t>(
        std::count_if(parts_.begin(), parts_.end(),
                      [&id = id](const PartPtr& p) { return p->info().partition_id == id; }));
    if (count > schema_.settings.parts_to_throw_insert)
      throw RuntimeError(
          fmt::format("Too many parts ({}). Merges are processing significantly slower "
                      "than inserts (partition {}, parts_to_throw_insert = {})",
                      count, id, schema_.settings.parts_to_throw_insert));
  }
}

Table::TempParts Table::write_temp_parts(const Block& block, RowsByPartition* by_partition,
                                         uint64_t first_block, InsertResult* result) const {
  std::vector<std::shared_ptr<const Dictionary>> dicts;
  for (const Column& c : block.columns) dicts.push_back(c.dict);

  TempParts written;
  uint64_t block_number = first_block;
  try {
    for (auto& [id, list] : *by_partition) {
      sort_by_key(schema_, block, &list);
      Block sorted;
      sorted.names = block.names;
      for (const Column& c : block.columns)
        sorted.columns.push_back(gather_column(c, list.data(), list.size()));
      PartInfo info{id, block_number, block_number, 0};
      const std::filesystem::path tmp = dir_ / fmt::format("tmp_insert_{}", info.name());
      PartWriter writer(schema_, tmp, dicts, ttl_node_);
      writer.write(sorted, 0, sorted.rows());
      writer.finish(first_block, by_partition->size());
      result->bytes_written += writer.stats().files_bytes;
      result->uncompressed_bytes += writer.stats().uncompressed_bytes;
      written.emplace_back(tmp, info);
      ++block_number;
    }
  } catch (...) {
    for (const auto& [tmp, info] : written) std::filesystem::remove_all(tmp);
    throw;
  }
  return written;
}

void Table::publish_parts(const TempParts& written, InsertResult* result) {
  // Every part is complete and durable; now make them visible. Several renames cannot be one
  // atomic step, so a multi-part insert first leaves its journal (see InsertJournal): a crash
  // between these renames leaves the journal, and open() rolls the insert back.
  const bool journaled = written.size() > 1;
  const std::filesystem::path journal =
      journaled ? dir_ / journal_name(written.front().second.min_block, written.size())
                : std::filesystem::path();
  if (journaled) {
    std::string names;
    for (const auto& [tmp, info] : written) names += info.name() + "\n";
    io::write_file_durable(journal, names);
    io::sync_directory(dir_);
  }
  std::vector<PartPtr> parts;
  for (const auto& [tmp, info] : written) {
    const std::filesystem::path final_dir = dir_ / info.name();
    if (::rename(tmp.c_str(), final_dir.c_str()) != 0)
      throw RuntimeError(
          fmt::format("cannot rename '{}' to '{}'", tmp.string(), final_dir.string()));
    parts.push_back(Part::load(schema_, final_dir, info, /*check_sizes=*/false));
    result->parts.push_back(info.name());
    if (journaled) io::commit_pause();
  }
  io::sync_directory(dir_);
  if (journaled) {
    // The commit point: once the journal's removal is durable, the insert is acknowledged.
    std::filesystem::remove(journal);
    io::sync_directory(dir_);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& part : parts) parts_.push_back(std::move(part));
    std::sort(parts_.begin(), parts_.end(), part_order);
  }
}

PartPtr Table::find_active(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const PartPtr& part : parts_) {
    if (part->name() == name) return part;
  }
  return nullptr;
}

bool Table::drop_part(const std::string& name) {
  PartPtr doomed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = std::find_if(parts_.begin(), parts_.end(),
                                 [&](const PartPtr& p) { return p->name() == name; });
    if (it == parts_.end()) return false;
    doomed = *it;
    parts_.erase(it);
  }
  retire({doomed});
  io::sync_directory(dir_);
  return true;
}

bool Table::detach_broken(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = std::find_if(parts_.begin(), parts_.end(),
                                 [&](const PartPtr& p) { return p->name() == name; });
    if (it == parts_.end()) return false;
    parts_.erase(it);
  }
  const std::filesystem::path target = dir_ / "detached" / ("broken_" + name);
  std::filesystem::create_directories(target.parent_path());
  std::filesystem::remove_all(target);
  io::rename_durable(dir_ / name, target);
  return true;
}

bool Table::attach_linked(const Part& source) {
  const PartInfo& info = source.info();
  std::vector<PartPtr> covered;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const PartPtr& part : parts_) {
      if (part->info().contains(info)) return false;
      if (info.contains(part->info())) covered.push_back(part);
    }
  }
  const std::filesystem::path tmp = dir_ / ("tmp_fetch_" + info.name());
  std::filesystem::remove_all(tmp);
  std::error_code ec;
  std::filesystem::create_directory(tmp, ec);
  if (ec) throw RuntimeError(fmt::format("cannot create '{}': {}", tmp.string(), ec.message()));
  for (const auto& entry : std::filesystem::directory_iterator(source.dir())) {
    std::filesystem::create_hard_link(entry.path(), tmp / entry.path().filename(), ec);
    if (ec) {
      std::filesystem::remove_all(tmp);
      throw RuntimeError(fmt::format("cannot link '{}' into '{}': {}", entry.path().string(),
                                     tmp.string(), ec.message()));
    }
  }
  io::sync_directory(tmp);
  io::rename_durable(tmp, dir_ / info.name());
  PartPtr attached = source.linked_copy(schema_, dir_ / info.name());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::erase_if(parts_, [&](const PartPtr& p) {
      return std::find(covered.begin(), covered.end(), p) != covered.end();
    });
    parts_.push_back(attached);
    std::sort(parts_.begin(), parts_.end(), part_order);
    next_block_ = std::max(next_block_, info.max_block + 1);
  }
  retire(covered);
  io::sync_directory(dir_);
  return true;
}

std::optional<MergePlan> Table::select_merge() const {
  return engine::select_merge(active_parts(), schema_.settings);
}

void Table::retire(const std::vector<PartPtr>& parts) {
  // Outdated parts are deleted at once (the embedded engine keeps no old snapshots). Each is
  // first renamed to tmp_delete_*, atomically, so a crash mid-deletion leaves a tmp_ directory
  // that open() removes rather than a half-deleted part.
  for (const auto& part : parts) {
    const auto doomed = dir_ / ("tmp_delete_" + part->name());
    std::filesystem::rename(part->dir(), doomed);
    io::remove_flat_directory(doomed);
  }
}

MergeProfile Table::merge(const MergePlan& plan, int64_t now_s) {
  const std::filesystem::path tmp = dir_ / ("tmp_merge_" + plan.result.name());
  std::filesystem::remove_all(tmp);
  bool empty = false;
  MergeProfile profile;
  try {
    profile = merge_parts(schema_, plan, tmp, ttl_node_, now_s, &empty);
  } catch (...) {
    std::filesystem::remove_all(tmp);
    throw;
  }
  PartPtr merged;
  if (!empty) {
    io::rename_durable(tmp, dir_ / plan.result.name());
    merged = Part::load(schema_, dir_ / plan.result.name(), plan.result, /*check_sizes=*/false);
    io::commit_pause();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    std::erase_if(parts_, [&](const PartPtr& p) {
      return std::find(plan.parts.begin(), plan.parts.end(), p) != plan.parts.end();
    });
    if (merged) parts_.push_back(merged);
    std::sort(parts_.begin(), parts_.end(), part_order);
  }
  retire(plan.parts);
  io::sync_directory(dir_);
  return profile;
}

std::vector<MergeProfile> Table::optimize(
    bool final, int64_t now_s, const std::function<void(const MergeProfile&)>& on_merge) {
  std::vector<MergeProfile> profiles;
  auto run = [&](const MergePlan& plan) {
    profiles.push_back(merge(plan, now_s));
    if (on_merge) on_merge(profiles.back());
  };
  while (auto plan = select_merge()) run(*plan);
  if (!final) return profiles;
  std::map<std::string, std::vector<PartPtr>> by_partition;
  for (const auto& part : active_parts()) by_partition[part->info().partition_id].push_back(part);
  for (auto& [id, parts] : by_partition) {
    const bool expired =
        ttl_node_ && std::any_of(parts.begin(), parts.end(), [&](const PartPtr& p) {
          return p->ttl_range() && p->ttl_range()->first <= now_s;
        });
    if (parts.size() > 1 || expired) run(plan_for_parts(parts));
  }
  return profiles;
}

}  // namespace shardlab::engine
