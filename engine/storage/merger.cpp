#include "shardlab/engine/merger.h"

#include <algorithm>
#include <map>
#include <queue>

#include "base/errors.h"
#include "engine/storage/column_reader.h"
#include "engine/storage/part_writer.h"
#include "engine/types/order_bits.h"

namespace shardlab::engine {
namespace {

using Key128 = unsigned __int128;
constexpr size_t kGranulesPerChunk = 8;
constexpr size_t kOutputRows = 65536;

// Order-preserving unsigned image of a fixed-width key value, or nullopt for strings.
std::optional<size_t> key_bits(DataType type) {
  if (type.id == TypeId::kString) return std::nullopt;
  return type.width() * 8;
}

uint64_t order_bits_at(const Column& column, size_t row) {
  uint64_t out = 0;
  visit_fixed(column.type, [&](auto tag) {
    out = order_bits(column.values<typename decltype(tag)::type>()[row]);
  });
  return out;
}

struct Cursor {
  size_t order = 0;  // position in the plan: ties go to the earlier part, keeping merges stable
  PartPtr part;
  std::vector<std::unique_ptr<ColumnReader>> readers;
  std::vector<std::vector<uint32_t>> remap;  // LowCardinality: part code -> merged code
  size_t next_granule = 0;
  Block block;
  size_t pos = 0;
  std::vector<Key128> keys;  // composite keys, when the sort key fits 128 bits

  bool load(const TableSchema& schema, const std::vector<std::shared_ptr<const Dictionary>>& dicts,
            bool composite) {
    if (next_granule >= part->granules()) return false;
    const size_t count = std::min(kGranulesPerChunk, part->granules() - next_granule);
    // The block's columns are refilled in place: a merge loads thousands of chunks, and fresh
    // buffers for each would have the allocator, not the merge, take the time.
    block.columns.resize(readers.size());
    for (size_t col = 0; col < readers.size(); ++col) {
      Column& column = block.columns[col];
      readers[col]->read_into(next_granule, count, &column);
      if (column.type.id == TypeId::kLowCardinality) {
        uint32_t* codes = column.values<uint32_t>();
        for (size_t row = 0; row < column.rows; ++row) codes[row] = remap[col][codes[row]];
        column.dict = dicts[col];
      }
    }
    next_granule += count;
    pos = 0;
    if (composite) {
      const size_t rows = block.rows();
      keys.assign(rows, 0);
      for (size_t col : schema.key_columns) {
        const Column& column = block.columns[col];
        const size_t bits = column.type.width() * 8;
        for (size_t row = 0; row < rows; ++row)
          keys[row] = (keys[row] << bits) | order_bits_at(column, row);
      }
    }
    return true;
  }
};

int compare_key_rows(const TableSchema& schema, const Block& a, size_t row_a, const Block& b,
                     size_t row_b) {
  for (size_t col : schema.key_columns) {
    const Column& x = a.columns[col];
    const Column& y = b.columns[col];
    int c = 0;
    if (x.type.id == TypeId::kString) {
      const auto sx = x.string_at(row_a), sy = y.string_at(row_b);
      c = sx < sy ? -1 : (sy < sx ? 1 : 0);
    } else {
      const uint64_t vx = order_bits_at(x, row_a), vy = order_bits_at(y, row_b);
      c = vx < vy ? -1 : (vy < vx ? 1 : 0);
    }
    if (c != 0) return c;
  }
  return 0;
}

// Merged dictionaries: the sorted union of the parts' dictionaries, per LowCardinality column.
// Each cursor gets the map from its part's codes to the merged ones.
std::vector<std::shared_ptr<const Dictionary>> merge_dictionaries(const TableSchema& schema,
                                                                  const std::vector<PartPtr>& parts,
                                                                  std::vector<Cursor>* cursors) {
  const size_t ncols = schema.columns.size();
  std::vector<std::shared_ptr<const Dictionary>> dicts(ncols);
  for (size_t col = 0; col < ncols; ++col) {
    if (schema.columns[col].type.id != TypeId::kLowCardinality) continue;
    std::map<std::string, uint32_t> merged;
    for (const auto& part : parts)
      for (const auto& v : part->dictionary(col)->values()) merged.emplace(v, 0);
    std::vector<std::string> values;
    for (auto& [v, code] : merged) {
      code = static_cast<uint32_t>(values.size());
      values.push_back(v);
    }
    dicts[col] = std::make_shared<Dictionary>(std::move(values));
    for (size_t p = 0; p < parts.size(); ++p) {
      const auto& own = parts[p]->dictionary(col)->values();
      (*cursors)[p].remap.resize(ncols);
      for (const auto& v : own) (*cursors)[p].remap[col].push_back(merged.at(v));
    }
  }
  return dicts;
}

// True when the sorting key packs into one 128-bit integer per row, compared as such.
bool composite_key(const TableSchema& schema) {
  size_t total_bits = 0;
  for (size_t col : schema.key_columns) {
    const auto bits = key_bits(schema.columns[col].type);
    if (!bits) return false;
    total_bits += *bits;
  }
  return total_bits <= 128;
}

// The order of row `ra` of cursor a's block and row `rb` of b's: < 0, 0 or > 0.
int compare_rows(const TableSchema& schema, bool composite, const Cursor& a, size_t ra,
                 const Cursor& b, size_t rb) {
  if (composite) return a.keys[ra] < b.keys[rb] ? -1 : (b.keys[rb] < a.keys[ra] ? 1 : 0);
  return compare_key_rows(schema, a.block, ra, b.block, rb);
}

// The end of the longest run of c's rows, from its position, that sorts before the rival's
// current row (ties go to the earlier part).
size_t run_end(const TableSchema& schema, bool composite, const Cursor& c, const Cursor* rival) {
  const size_t rows = c.block.rows();
  if (rival == nullptr) return rows;
  size_t end = c.pos + 1;
  while (end < rows) {
    const int cmp = compare_rows(schema, composite, c, end, *rival, rival->pos);
    if (cmp > 0 || (cmp == 0 && c.order > rival->order)) break;
    ++end;
  }
  return end;
}

// The merge's output: rows are appended to block() and written in blocks of kOutputRows, less
// those whose TTL has passed. The part is created with the first row that survives.
class MergeOutput {
 public:
  MergeOutput(const TableSchema& schema, std::vector<std::shared_ptr<const Dictionary>> dicts,
              const std::filesystem::path& out_dir, const ExprNodePtr& ttl, int64_t now_s,
              MergeProfile* profile)
      : schema_(schema),
        dicts_(std::move(dicts)),
        out_dir_(out_dir),
        ttl_(ttl),
        now_s_(now_s),
        profile_(profile) {
    reset();
  }

  Block& block() { return out_; }

  void flush() {
    if (out_.rows() == 0) return;
    Block kept;
    const Block& rows = ttl_ ? unexpired(&kept) : out_;
    if (rows.rows() > 0) {
      if (!writer_) writer_ = std::make_unique<PartWriter>(schema_, out_dir_, dicts_, ttl_);
      writer_->write(rows, 0, rows.rows());
    }
    reset();
  }

  // Flushes and completes the part. False when every row expired: no part was written.
  bool finish() {
    flush();
    if (!writer_) return false;
    writer_->finish(0, 0);
    profile_->rows_written = writer_->rows();
    profile_->bytes_written = writer_->stats().files_bytes;
    return true;
  }

 private:
  // Emptied after each flush but keeping its buffers, sized for a full output block plus the
  // longest run appended at once (a whole chunk).
  void reset() {
    if (out_.columns.empty()) {
      for (size_t col = 0; col < schema_.columns.size(); ++col) {
        out_.columns.emplace_back(schema_.columns[col].type);
        out_.columns.back().dict = dicts_[col];
        out_.names.push_back(schema_.columns[col].name);
        if (schema_.columns[col].type.is_fixed())
          out_.columns.back().data.reserve(
              (kOutputRows + kGranulesPerChunk * schema_.settings.index_granularity) *
              schema_.columns[col].type.width());
      }
      return;
    }
    for (Column& column : out_.columns) {
      column.rows = 0;
      column.data.clear();
      column.offsets.clear();
      column.chars.clear();
    }
  }

  // out_ without the rows whose TTL is at or before now (into *kept), or out_ if none is.
  const Block& unexpired(Block* kept) {
    std::vector<const Column*> inputs;
    for (const Column& c : out_.columns) inputs.push_back(&c);
    const Column values = evaluate_column(*ttl_, inputs, out_.rows());
    PodVector<uint8_t> mask(out_.rows());
    visit_fixed(values.type, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const int64_t scale = values.type.id == TypeId::kDate ? 86400 : 1;
      for (size_t row = 0; row < out_.rows(); ++row)
        mask[row] = static_cast<int64_t>(values.values<T>()[row]) * scale > now_s_;
    });
    const size_t selected = count_selected(mask.data(), out_.rows());
    profile_->rows_expired += out_.rows() - selected;
    if (selected == out_.rows()) return out_;
    kept->names = out_.names;
    for (const Column& c : out_.columns)
      kept->columns.push_back(filter_column(c, mask.data(), selected));
    return *kept;
  }

  const TableSchema& schema_;
  const std::vector<std::shared_ptr<const Dictionary>> dicts_;
  const std::filesystem::path out_dir_;
  const ExprNodePtr ttl_;
  const int64_t now_s_;
  MergeProfile* profile_;
  std::unique_ptr<PartWriter> writer_;
  Block out_;
};

}  // namespace

nlohmann::json MergeProfile::to_json() const {
  return {{"parts", parts},
          {"rows_read", rows_read},
          {"rows_written", rows_written},
          {"rows_expired", rows_expired},
          {"compressed_bytes_read", compressed_bytes_read},
          {"uncompressed_bytes_read", uncompressed_bytes_read},
          {"bytes_written", bytes_written},
          {"result_part", result_part}};
}

MergeProfile merge_parts(const TableSchema& schema, const MergePlan& plan,
                         const std::filesystem::path& out_dir, const ExprNodePtr& ttl,
                         int64_t now_s, bool* empty) {
  MergeProfile profile;
  profile.parts = plan.parts.size();
  const size_t ncols = schema.columns.size();
  std::vector<Cursor> cursors(plan.parts.size());
  const auto dicts = merge_dictionaries(schema, plan.parts, &cursors);
  const bool composite = composite_key(schema);

  std::vector<ColumnStats> read_stats(plan.parts.size());
  for (size_t p = 0; p < plan.parts.size(); ++p) {
    Cursor& c = cursors[p];
    c.order = p;
    c.part = plan.parts[p];
    c.remap.resize(ncols);
    for (size_t col = 0; col < ncols; ++col)
      c.readers.push_back(std::make_unique<ColumnReader>(c.part, col, &read_stats[p]));
    profile.rows_read += c.part->rows();
  }
  auto less = [&](const Cursor* a, const Cursor* b) {  // true if a comes after b (min-heap)
    const int c = compare_rows(schema, composite, *a, a->pos, *b, b->pos);
    return c != 0 ? c > 0 : a->order > b->order;
  };
  std::priority_queue<Cursor*, std::vector<Cursor*>, decltype(less)> heap(less);
  for (Cursor& c : cursors)
    if (c.load(schema, dicts, composite)) heap.push(&c);

  MergeOutput output(schema, dicts, out_dir, ttl, now_s, &profile);
  while (!heap.empty()) {
    Cursor* c = heap.top();
    heap.pop();
    const size_t end = run_end(schema, composite, *c, heap.empty() ? nullptr : heap.top());
    for (size_t col = 0; col < ncols; ++col)
      append_range(&output.block().columns[col], c->block.columns[col], c->pos, end);
    c->pos = end;
    if (c->pos < c->block.rows() || c->load(schema, dicts, composite)) heap.push(c);
    if (output.block().rows() >= kOutputRows) output.flush();
  }
  *empty = !output.finish();
  for (const auto& s : read_stats) {
    profile.compressed_bytes_read += s.compressed_bytes;
    profile.uncompressed_bytes_read += s.uncompressed_bytes;
  }
  if (!*empty) profile.result_part = plan.result.name();
  return profile;
}

}  // namespace shardlab::engine
