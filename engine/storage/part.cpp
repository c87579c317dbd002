#include "shardlab/engine/part.h"

#include <charconv>
#include <map>
#include <optional>
#include <sstream>

#include "shardlab/engine/codec.h"
#include "base/errors.h"
#include "engine/common/file_io.h"

namespace shardlab::engine {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool parse_u64(std::string_view text, uint64_t* out, int base = 10) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out, base);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool parse_i64(std::string_view text, int64_t* out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

[[noreturn]] void corrupt(const fs::path& file, const std::string& what) {
  throw CorruptionError(fmt::format("{}: {}", file.string(), what));
}

// Files start with their format's version line; another version is reported, not misread.
// `also` is an older line that is still read.
void expect_first_line(const fs::path& file, std::string_view content, std::string_view line,
                       std::string_view also = {}) {
  const size_t end = content.find('\n');
  const std::string_view first = content.substr(0, end);
  if ((first != line && (also.empty() || first != also)) || end == std::string_view::npos)
    corrupt(file, fmt::format("unsupported format: expected the first line '{}', found '{}'", line,
                              first));
}

// A small file of the part that is read whole at load: it must be listed in checksums.txt and,
// when `verify` (an open, not a part just written), match its hash there. These files steer
// reads (row counts, index values, marks), so damage in them would give wrong answers rather
// than fail a block checksum.
std::string read_listed(const fs::path& dir, const std::string& file,
                        const std::map<std::string, FileChecksum>& sums, bool verify) {
  const fs::path path = dir / file;
  const auto it = sums.find(file);
  if (it == sums.end()) corrupt(path, "not listed in checksums.txt");
  std::string bytes = io::read_file(path);
  if (verify) {
    const uint64_t hash = XXH3_64bits(bytes.data(), bytes.size());
    if (bytes.size() != it->second.size || hash != it->second.hash)
      corrupt(path, fmt::format("checksum mismatch: expected {:016x} ({} bytes), actual {:016x} "
                                "({} bytes)",
                                it->second.hash, it->second.size, hash, bytes.size()));
  }
  return bytes;
}

}  // namespace

std::string Part::read_checked(const std::string& file) const {
  return read_listed(dir_, file, checksums_, /*verify=*/true);
}

std::string PartInfo::name() const {
  return fmt::format("{}_{}_{}_{}", partition_id, min_block, max_block, level);
}

std::optional<PartInfo> PartInfo::parse(const std::string& name) {
  const auto fields = split(name, '_');
  if (fields.size() != 4 || fields[0].empty()) return std::nullopt;
  PartInfo info;
  info.partition_id = std::string(fields[0]);
  uint64_t level = 0;
  if (!parse_u64(fields[1], &info.min_block) || !parse_u64(fields[2], &info.max_block) ||
      !parse_u64(fields[3], &level) || info.min_block > info.max_block || level > UINT32_MAX)
    return std::nullopt;
  info.level = static_cast<uint32_t>(level);
  return info;
}

std::string column_file_base(const std::string& column) {
  std::string out;
  for (unsigned char c : column) {
    if (std::isalnum(c) || c == '_') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

uint8_t code_width_for(size_t dictionary_size) {
  if (dictionary_size <= 256) return 1;
  if (dictionary_size <= 65536) return 2;
  return 4;
}

DataType index_type(DataType type) {
  return type.id == TypeId::kLowCardinality ? DataType(TypeId::kString) : type;
}

void serialize_value(const Column& column, size_t row, std::string* out) {
  if (column.type.is_string_like()) {
    const std::string_view s = column.string_at(row);
    const auto len = static_cast<uint32_t>(s.size());
    out->append(reinterpret_cast<const char*>(&len), 4);
    out->append(s);
    return;
  }
  const size_t w = column.type.width();
  out->append(reinterpret_cast<const char*>(column.data.data()) + row * w, w);
}

bool deserialize_value(std::string_view* in, Column* column) {
  if (column->type.is_string_like()) {
    uint32_t len = 0;
    if (in->size() < 4) return false;
    std::memcpy(&len, in->data(), 4);
    if (in->size() - 4 < len) return false;
    column->push_string(in->substr(4, len));
    in->remove_prefix(4 + len);
    return true;
  }
  const size_t w = column->type.width();
  if (in->size() < w) return false;
  column->data.insert(column->data.end(), in->data(), in->data() + w);
  ++column->rows;
  in->remove_prefix(w);
  return true;
}

namespace {

// checksums.txt: a header line, then "file<TAB>size<TAB>hash" lines, then a line "self<TAB>hash"
// covering everything before it. Sets *own_bytes to the file's own size.
std::map<std::string, FileChecksum> read_checksums(const fs::path& dir, uint64_t* own_bytes) {
  const fs::path path = dir / "checksums.txt";
  if (!fs::exists(path)) corrupt(path, "missing (the part is incomplete)");
  const std::string checksums = io::read_file(path);
  *own_bytes = checksums.size();
  expect_first_line(path, checksums, "checksums format version: shardlab-3");
  const size_t self_at = checksums.rfind("self\t");
  if (self_at == std::string::npos || checksums.empty() || checksums.back() != '\n')
    corrupt(path, "truncated: no closing self-checksum line");
  uint64_t self_expected = 0;
  if (!parse_u64(std::string_view(checksums).substr(self_at + 5, checksums.size() - self_at - 6),
                 &self_expected, 16))
    corrupt(path, "malformed self-checksum line");
  const uint64_t self_actual = XXH3_64bits(checksums.data(), self_at);
  if (self_actual != self_expected)
    corrupt(path, fmt::format("checksum mismatch: expected {:016x}, actual {:016x}",
                              self_expected, self_actual));
  std::map<std::string, FileChecksum> sums;
  for (std::string_view line : split(std::string_view(checksums).substr(0, self_at), '\n')) {
    if (line.empty() || line.rfind("checksums format", 0) == 0) continue;
    const auto fields = split(line, '\t');
    FileChecksum sum;
    if (fields.size() != 3 || !parse_u64(fields[1], &sum.size) ||
        !parse_u64(fields[2], &sum.hash, 16))
      corrupt(path, fmt::format("malformed line '{}'", line));
    sums.emplace(std::string(fields[0]), sum);
  }
  return sums;
}

// Every file listed exists with its listed size (a stat each).
void check_file_sizes(const fs::path& dir, const std::map<std::string, FileChecksum>& sums) {
  for (const auto& [file, sum] : sums) {
    const fs::path path = dir / file;
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    if (ec) corrupt(path, "missing file listed in checksums.txt");
    if (size != sum.size)
      corrupt(path,
              fmt::format("size mismatch: expected {} bytes, actual {} bytes", sum.size, size));
  }
}

// What part.txt says.
struct PartMeta {
  uint64_t rows = 0;
  uint64_t granularity = 0;
  uint64_t insert_first_block = 0;
  uint64_t insert_parts = 0;
  std::optional<std::pair<int64_t, int64_t>> ttl_range;
  std::vector<uint8_t> code_width;
  std::vector<ColumnStats> column_stats;
};

// One "column: <file name> <code width> <compressed bytes> <uncompressed bytes>" line.
void parse_column_line(const TableSchema& schema, const fs::path& path,
                       const std::vector<std::string_view>& values, PartMeta* meta) {
  int idx = -1;
  for (size_t col = 0; col < schema.columns.size(); ++col)
    if (column_file_base(schema.columns[col].name) == values[0]) idx = static_cast<int>(col);
  if (idx < 0) corrupt(path, fmt::format("unknown column '{}'", values[0]));
  uint64_t width = 0;
  parse_u64(values[1], &width);
  meta->code_width[idx] = static_cast<uint8_t>(width);
  parse_u64(values[2], &meta->column_stats[idx].compressed_bytes);
  parse_u64(values[3], &meta->column_stats[idx].uncompressed_bytes);
}

// part.txt: the format line, then "key: value" lines.
PartMeta parse_part_meta(const TableSchema& schema, const fs::path& path, std::string_view text) {
  PartMeta meta;
  meta.code_width.assign(schema.columns.size(), 0);
  meta.column_stats.assign(schema.columns.size(), {});
  bool has_rows = false;
  // Version 4 added bit-packed blocks; a version 3 part has none and reads the same way.
  expect_first_line(path, text, "format: shardlab-part-4", "format: shardlab-part-3");
  for (std::string_view line : split(text, '\n')) {
    if (line.empty()) continue;
    const size_t colon = line.find(": ");
    if (colon == std::string_view::npos) corrupt(path, fmt::format("malformed line '{}'", line));
    const std::string_view key = line.substr(0, colon);
    const auto values = split(line.substr(colon + 2), ' ');
    auto need = [&](size_t n) {
      if (values.size() != n) corrupt(path, fmt::format("malformed line '{}'", line));
    };
    if (key == "rows") {
      need(1);
      has_rows = parse_u64(values[0], &meta.rows);
    } else if (key == "granularity") {
      need(1);
      parse_u64(values[0], &meta.granularity);
    } else if (key == "insert") {
      need(2);
      parse_u64(values[0], &meta.insert_first_block);
      parse_u64(values[1], &meta.insert_parts);
    } else if (key == "ttl") {
      need(2);
      int64_t lo = 0, hi = 0;
      if (!parse_i64(values[0], &lo) || !parse_i64(values[1], &hi))
        corrupt(path, fmt::format("malformed line '{}'", line));
      meta.ttl_range = std::make_pair(lo, hi);
    } else if (key == "column") {
      need(4);
      parse_column_line(schema, path, values, &meta);
    }
  }
  if (!has_rows || meta.granularity == 0 || meta.rows == 0)
    corrupt(path, "missing or zero rows/granularity");
  return meta;
}

// `count` entries of `columns`' values from primary.idx or a minmax index.
std::vector<Column> read_index_file(const TableSchema& schema, const fs::path& dir,
                                    const std::string& file, const std::vector<size_t>& columns,
                                    size_t count, const std::map<std::string, FileChecksum>& sums,
                                    bool verify) {
  const fs::path path = dir / file;
  const std::string bytes = read_listed(dir, file, sums, verify);
  std::string_view in(bytes);
  std::vector<Column> out;
  for (size_t col : columns) out.emplace_back(index_type(schema.columns[col].type));
  for (size_t row = 0; row < count; ++row)
    for (size_t k = 0; k < columns.size(); ++k)
      if (!deserialize_value(&in, &out[k]))
        corrupt(path, fmt::format("truncated: expected {} entries, file has {} bytes", count,
                                  bytes.size()));
  if (!in.empty()) corrupt(path, fmt::format("{} unexpected trailing bytes", in.size()));
  return out;
}

// Every column has its .bin and .mrk listed, and a LowCardinality column its code width.
void check_column_files(const TableSchema& schema, const fs::path& dir, const PartMeta& meta,
                        const std::map<std::string, FileChecksum>& sums) {
  for (size_t col = 0; col < schema.columns.size(); ++col) {
    const std::string base = column_file_base(schema.columns[col].name);
    for (const std::string& file : {base + ".bin", base + ".mrk"})
      if (!sums.count(file)) corrupt(dir / file, "column file missing from checksums.txt");
    if (schema.columns[col].type.id == TypeId::kLowCardinality && meta.code_width[col] == 0)
      corrupt(dir / "part.txt",
              fmt::format("no code width for column '{}'", schema.columns[col].name));
  }
}

}  // namespace

std::shared_ptr<Part> Part::load(const TableSchema& schema, const fs::path& dir,
                                 const PartInfo& info, bool check_sizes) {
  std::shared_ptr<Part> part(new Part());
  part->schema_ = &schema;
  part->info_ = info;
  part->dir_ = dir;
  uint64_t checksums_bytes = 0;
  part->checksums_ = read_checksums(dir, &checksums_bytes);
  if (check_sizes) check_file_sizes(dir, part->checksums_);
  part->bytes_on_disk_ = checksums_bytes;
  for (const auto& [file, sum] : part->checksums_) part->bytes_on_disk_ += sum.size;

  PartMeta meta = parse_part_meta(schema, dir / "part.txt",
                                  read_listed(dir, "part.txt", part->checksums_, check_sizes));
  check_column_files(schema, dir, meta, part->checksums_);
  part->rows_ = meta.rows;
  part->granularity_ = meta.granularity;
  part->granules_ = (meta.rows + meta.granularity - 1) / meta.granularity;
  part->insert_first_block_ = meta.insert_first_block;
  part->insert_parts_ = meta.insert_parts;
  part->ttl_range_ = meta.ttl_range;
  part->code_width_ = std::move(meta.code_width);
  part->column_stats_ = std::move(meta.column_stats);

  if (!schema.key_columns.empty())
    part->index_ = read_index_file(schema, dir, "primary.idx", schema.key_columns,
                                   part->granules_ + 1, part->checksums_, check_sizes);
  for (size_t col : schema.minmax_columns) {
    auto one = read_index_file(schema, dir, "minmax_" + column_file_base(schema.columns[col].name) +
                               ".idx", {col}, 2, part->checksums_, check_sizes);
    part->minmax_.push_back(std::move(one[0]));
  }
  part->dicts_.resize(schema.columns.size());
  return part;
}

std::shared_ptr<Part> Part::linked_copy(const TableSchema& schema, const fs::path& dir) const {
  std::shared_ptr<Part> part(new Part());
  part->schema_ = &schema;
  part->info_ = info_;
  part->dir_ = dir;
  part->rows_ = rows_;
  part->granularity_ = granularity_;
  part->granules_ = granules_;
  part->bytes_on_disk_ = bytes_on_disk_;
  part->index_ = index_;
  part->minmax_ = minmax_;
  part->ttl_range_ = ttl_range_;
  part->insert_first_block_ = insert_first_block_;
  part->insert_parts_ = insert_parts_;
  part->code_width_ = code_width_;
  part->column_stats_ = column_stats_;
  part->checksums_ = checksums_;
  std::lock_guard<std::mutex> lock(dict_mutex_);
  part->dicts_ = dicts_;  // dictionaries are immutable once read
  return part;
}

std::shared_ptr<const Dictionary> Part::dictionary(size_t column) const {
  std::lock_guard<std::mutex> lock(dict_mutex_);
  if (dicts_[column]) return dicts_[column];
  const fs::path path = dir_ / (column_file_base(schema_->columns[column].name) + ".dict.bin");
  const std::string file = io::read_file(path);
  const BlockHeader header = read_block_header(file.data(), file.size(), path.string(), 0);
  PodVector<char> raw;
  decompress_block(header, file.data(), &raw, path.string(), 0);
  std::string_view in(raw.data(), raw.size());
  uint32_t count = 0;
  if (in.size() < 4) corrupt(path, "truncated dictionary");
  std::memcpy(&count, in.data(), 4);
  in.remove_prefix(4);
  Column strings(TypeId::kString);
  for (uint32_t idx = 0; idx < count; ++idx)
    if (!deserialize_value(&in, &strings))
      corrupt(path, fmt::format("truncated dictionary: expected {} values", count));
  std::vector<std::string> values;
  values.reserve(count);
  for (uint32_t idx = 0; idx < count; ++idx) values.emplace_back(strings.string_at(idx));
  dicts_[column] = std::make_shared<Dictionary>(std::move(values));
  return dicts_[column];
}

void Part::verify_contents() const {
  for (const auto& [file, sum] : checksums_) {
    uint64_t size = 0;
    const uint64_t hash = io::file_checksum(dir_ / file, &size);
    if (size != sum.size)
      corrupt(dir_ / file,
              fmt::format("size mismatch: expected {} bytes, actual {} bytes", sum.size, size));
    if (hash != sum.hash)
      corrupt(dir_ / file,
              fmt::format("checksum mismatch: expected {:016x}, actual {:016x}", sum.hash, hash));
  }
}

}  // namespace shardlab::engine
