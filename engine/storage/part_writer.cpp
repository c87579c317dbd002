#include "engine/storage/part_writer.h"

#include <algorithm>

#include "shardlab/engine/codec.h"
#include "base/errors.h"
#include "engine/common/file_io.h"

namespace shardlab::engine {

namespace {

// Three-way comparison of two single values of the same column type.
int compare_rows(const Column& a, size_t row_a, const Column& b, size_t row_b) {
  if (a.type.is_string_like()) {
    const auto x = a.string_at(row_a), y = b.string_at(row_b);
    return x < y ? -1 : (y < x ? 1 : 0);
  }
  int result = 0;
  visit_fixed(a.type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T x = a.values<T>()[row_a], y = b.values<T>()[row_b];
    result = x < y ? -1 : (y < x ? 1 : 0);
  });
  return result;
}

Column single_value(const Column& column, size_t row) {
  Column out(index_type(column.type));
  if (column.type.is_string_like()) {
    out.push_string(column.string_at(row));
  } else {
    const size_t w = column.type.width();
    out.data.assign(column.data.begin() + row * w, column.data.begin() + (row + 1) * w);
    out.rows = 1;
  }
  return out;
}

}  // namespace

struct PartWriter::Stream {
  std::unique_ptr<io::WritableFile> bin;
  std::unique_ptr<io::WritableFile> mrk;
  PodVector<char> raw;
  PodVector<char> compressed;
  uint64_t uncompressed_total = 0;
  size_t disk_width = 0;  // bytes per value on disk; 0 for String
  CodecSpec codec;
  uint64_t min_block_bytes = 0;

  void flush_block() {
    if (raw.empty()) return;
    compressed.clear();
    const size_t shuffle = disk_width > 1 ? disk_width : 0;
    compress_block(codec, raw.data(), raw.size(), shuffle, &compressed);
    bin->append(compressed.data(), compressed.size());
    uncompressed_total += raw.size();
    raw.clear();
  }
  void mark() {
    const uint64_t entry[2] = {bin->size(), raw.size()};
    mrk->append(entry, sizeof(entry));
  }
};

PartWriter::PartWriter(const TableSchema& schema, std::filesystem::path dir,
                       std::vector<std::shared_ptr<const Dictionary>> dicts, ExprNodePtr ttl)
    : schema_(schema), dir_(std::move(dir)), dicts_(std::move(dicts)), ttl_(std::move(ttl)) {
  std::filesystem::create_directories(dir_);
  for (size_t col = 0; col < schema_.columns.size(); ++col) {
    auto stream = std::make_unique<Stream>();
    const std::string base = column_file_base(schema_.columns[col].name);
    stream->bin = std::make_unique<io::WritableFile>(dir_ / (base + ".bin"));
    stream->mrk = std::make_unique<io::WritableFile>(dir_ / (base + ".mrk"));
    const DataType type = schema_.columns[col].type;
    if (type.id == TypeId::kLowCardinality) {
      SHARDLAB_ASSERT(dicts_.size() > col && dicts_[col], "no dictionary for {}",
                      schema_.columns[col].name);
      stream->disk_width = code_width_for(dicts_[col]->size());
    } else {
      stream->disk_width = type.width();
    }
    stream->codec = schema_.codec_of(col);
    stream->min_block_bytes = schema_.settings.min_compress_block_size;
    streams_.push_back(std::move(stream));
  }
  for (size_t col : schema_.minmax_columns)
    minmax_.emplace_back(index_type(schema_.columns[col].type));
}

PartWriter::~PartWriter() = default;

void PartWriter::write(const Block& block, size_t begin, size_t end) {
  if (ttl_ && begin < end) note_ttl(block, begin, end);
  const size_t granularity = schema_.settings.index_granularity;
  if (pending_.rows() > 0) {
    const size_t take = std::min(end - begin, granularity - pending_.rows());
    for (size_t col = 0; col < block.columns.size(); ++col) {
      check_dictionary(block.columns[col], col);
      append_range(&pending_.columns[col], block.columns[col], begin, begin + take);
    }
    begin += take;
    if (pending_.rows() == granularity) {
      emit_granule(pending_, 0, granularity);
      clear_pending();
    }
  }
  while (end - begin >= granularity) {
    emit_granule(block, begin, granularity);
    begin += granularity;
  }
  if (begin < end) {
    if (pending_.columns.empty()) {
      pending_.names = block.names;
      for (const Column& column : block.columns) {
        pending_.columns.emplace_back(column.type);
        pending_.columns.back().dict = column.dict;
      }
    }
    for (size_t col = 0; col < block.columns.size(); ++col) {
      // The pending rows are copied as codes, so they must mean the same strings.
      check_dictionary(block.columns[col], col);
      append_range(&pending_.columns[col], block.columns[col], begin, end);
    }
  }
}

void PartWriter::check_dictionary(const Column& column, size_t col) const {
  if (column.type.id != TypeId::kLowCardinality) return;
  SHARDLAB_ASSERT(column.dict == dicts_[col] || column.dict->values() == dicts_[col]->values(),
                  "column {} written with a foreign dictionary", schema_.columns[col].name);
}

// Empties the pending block but keeps its columns' buffers: a merge fills it once per output
// block.
void PartWriter::clear_pending() {
  for (Column& column : pending_.columns) {
    column.rows = 0;
    column.data.clear();
    column.offsets.clear();
    column.chars.clear();
  }
}

void PartWriter::emit_granule(const Block& block, size_t begin, size_t count) {
  for (size_t col = 0; col < streams_.size(); ++col) {
    Stream& s = *streams_[col];
    const Column& column = block.columns[col];
    check_dictionary(column, col);
    if (s.raw.size() >= s.min_block_bytes) s.flush_block();
    s.mark();
    if (column.type.id == TypeId::kString) {
      // A granule of strings: the lengths as u32, then the bytes.
      const size_t at = s.raw.size();
      s.raw.resize(at + count * 4);
      size_t bytes = 0;
      for (size_t row = 0; row < count; ++row) {
        const auto len = static_cast<uint32_t>(column.string_at(begin + row).size());
        std::memcpy(s.raw.data() + at + row * 4, &len, 4);
        bytes += len;
      }
      const uint32_t first = begin == 0 ? 0 : column.offsets[begin - 1];
      s.raw.insert(s.raw.end(), column.chars.data() + first, column.chars.data() + first + bytes);
    } else if (column.type.id == TypeId::kLowCardinality) {
      const uint32_t* codes = column.values<uint32_t>() + begin;
      const size_t at = s.raw.size();
      s.raw.resize(at + count * s.disk_width);
      char* dst = s.raw.data() + at;
      switch (s.disk_width) {
        case 1:
          for (size_t row = 0; row < count; ++row) dst[row] = static_cast<char>(codes[row]);
          break;
        case 2:
          for (size_t row = 0; row < count; ++row) {
            const auto c = static_cast<uint16_t>(codes[row]);
            std::memcpy(dst + row * 2, &c, 2);
          }
          break;
        default:
          std::memcpy(dst, codes, count * 4);
      }
    } else {
      const size_t w = column.type.width();
      const char* src = reinterpret_cast<const char*>(column.data.data()) + begin * w;
      s.raw.insert(s.raw.end(), src, src + count * w);
    }
    if (s.raw.size() >= schema_.settings.max_compress_block_size) s.flush_block();
  }
  for (size_t col : schema_.key_columns) serialize_value(block.columns[col], begin, &index_bytes_);
  last_key_bytes_.clear();
  for (size_t col : schema_.key_columns)
    serialize_value(block.columns[col], begin + count - 1, &last_key_bytes_);
  for (size_t k = 0; k < schema_.minmax_columns.size(); ++k) {
    const Column& column = block.columns[schema_.minmax_columns[k]];
    size_t lo = begin, hi = begin;
    for (size_t row = begin + 1; row < begin + count; ++row) {
      if (compare_rows(column, row, column, lo) < 0) lo = row;
      if (compare_rows(column, row, column, hi) > 0) hi = row;
    }
    Column& mm = minmax_[k];
    const bool lower = mm.rows == 0 || compare_rows(column, lo, mm, 0) < 0;
    const bool higher = mm.rows == 0 || compare_rows(column, hi, mm, 1) > 0;
    if (!lower && !higher) continue;
    if (mm.rows == 2 && mm.type == column.type && mm.type.id != TypeId::kString &&
        mm.type.id != TypeId::kLowCardinality) {
      // In place: the usual case (a date or time partition key), once per granule.
      const size_t w = column.type.width();
      if (lower) std::memcpy(mm.data.data(), column.data.data() + lo * w, w);
      if (higher) std::memcpy(mm.data.data() + w, column.data.data() + hi * w, w);
      continue;
    }
    Column updated = single_value(lower ? column : mm, lower ? lo : 0);
    append_column(&updated, single_value(higher ? column : mm, higher ? hi : 1));
    mm = std::move(updated);
  }
  stats_.rows += count;
}

void PartWriter::note_ttl(const Block& block, size_t begin, size_t end) {
  // Once per write() rather than per granule: evaluating the expression wants whole columns,
  // and a granule's would have to be copied out first.
  std::vector<Column> slice;
  std::vector<const Column*> inputs;
  if (begin == 0 && end == block.rows()) {
    for (const Column& column : block.columns) inputs.push_back(&column);
  } else {
    std::vector<uint32_t> rows(end - begin);
    for (size_t idx = 0; idx < rows.size(); ++idx) rows[idx] = static_cast<uint32_t>(begin + idx);
    slice.reserve(block.columns.size());
    for (const Column& column : block.columns)
      slice.push_back(gather_column(column, rows.data(), rows.size()));
    for (const Column& column : slice) inputs.push_back(&column);
  }
  const Column ttl = evaluate_column(*ttl_, inputs, end - begin);
  visit_fixed(ttl.type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t scale = ttl.type.id == TypeId::kDate ? 86400 : 1;
    for (size_t row = 0; row < ttl.rows; ++row) {
      const int64_t v = static_cast<int64_t>(ttl.values<T>()[row]) * scale;
      if (!ttl_range_) ttl_range_ = std::make_pair(v, v);
      ttl_range_->first = std::min(ttl_range_->first, v);
      ttl_range_->second = std::max(ttl_range_->second, v);
    }
  });
}

void PartWriter::finish(uint64_t insert_first_block, uint64_t insert_parts) {
  if (pending_.rows() > 0) {
    emit_granule(pending_, 0, pending_.rows());
    pending_ = Block();
  }
  SHARDLAB_ASSERT(stats_.rows > 0, "finish() of an empty part {}", dir_.string());
  std::string checksums = "checksums format version: shardlab-3\n";
  auto record = [&](const std::string& file, uint64_t size, uint64_t hash) {
    checksums += fmt::format("{}\t{}\t{:016x}\n", file, size, hash);
    stats_.files_bytes += size;
  };
  auto write_small = [&](const std::string& file, std::string_view content) {
    io::write_file_durable(dir_ / file, content);
    record(file, content.size(), XXH3_64bits(content.data(), content.size()));
  };

  std::string meta = fmt::format("format: shardlab-part-4\nrows: {}\ngranularity: {}\n",
                                 stats_.rows, schema_.settings.index_granularity);
  if (insert_parts > 0) meta += fmt::format("insert: {} {}\n", insert_first_block, insert_parts);
  if (ttl_range_) meta += fmt::format("ttl: {} {}\n", ttl_range_->first, ttl_range_->second);
  for (size_t col = 0; col < streams_.size(); ++col) {
    Stream& s = *streams_[col];
    s.flush_block();
    s.bin->finish();
    s.mrk->finish();
    const std::string base = column_file_base(schema_.columns[col].name);
    record(base + ".bin", s.bin->size(), s.bin->checksum());
    record(base + ".mrk", s.mrk->size(), s.mrk->checksum());
    stats_.uncompressed_bytes += s.uncompressed_total;
    stats_.compressed_bytes += s.bin->size();
    const uint64_t width =
        schema_.columns[col].type.id == TypeId::kLowCardinality ? s.disk_width : 0;
    meta += fmt::format("column: {} {} {} {}\n", base, width, s.bin->size(), s.uncompressed_total);
    if (dicts_.size() > col && dicts_[col]) {
      std::string raw;
      const auto count = static_cast<uint32_t>(dicts_[col]->size());
      raw.append(reinterpret_cast<const char*>(&count), 4);
      Column values(TypeId::kString);
      for (const auto& v : dicts_[col]->values()) values.push_string(v);
      for (size_t idx = 0; idx < values.rows; ++idx) serialize_value(values, idx, &raw);
      PodVector<char> block;
      compress_block(s.codec, raw.data(), raw.size(), 0, &block);
      write_small(base + ".dict.bin", std::string_view(block.data(), block.size()));
    }
  }
  index_bytes_ += last_key_bytes_;
  if (!schema_.key_columns.empty()) write_small("primary.idx", index_bytes_);
  for (size_t k = 0; k < schema_.minmax_columns.size(); ++k) {
    std::string bytes;
    serialize_value(minmax_[k], 0, &bytes);
    serialize_value(minmax_[k], 1, &bytes);
    write_small(
        "minmax_" + column_file_base(schema_.columns[schema_.minmax_columns[k]].name) + ".idx",
        bytes);
  }
  std::string columns_txt =
      fmt::format("columns format version: 1\n{} columns:\n", schema_.columns.size());
  for (const auto& c : schema_.columns)
    columns_txt += fmt::format("`{}` {}\n", c.name, c.type.name());
  write_small("columns.txt", columns_txt);
  write_small("count.txt", std::to_string(stats_.rows));
  write_small("part.txt", meta);
  checksums += fmt::format("self\t{:016x}\n", XXH3_64bits(checksums.data(), checksums.size()));
  io::write_file_durable(dir_ / "checksums.txt", checksums);
  stats_.files_bytes += checksums.size();
  io::sync_directory(dir_);
}

}  // namespace shardlab::engine
