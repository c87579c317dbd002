#include "engine/storage/column_reader.h"

#include "engine/codecs/bit_pack.h"
#include "shardlab/engine/codec.h"
#include "base/errors.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace shardlab::engine {

namespace {

// Calls f(row) for every row whose mask byte is set. Selections here are often sparse (a few
// rows in a granule), so sixteen mask bytes become a bit mask at once and only its set bits
// are visited, with no branch per clear byte.
template <typename F>
void for_each_selected(const uint8_t* mask, size_t rows, F&& f) {
  size_t row = 0;
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (; row + 16 <= rows; row += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(mask + row));
    auto set = static_cast<unsigned>(~_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, zero)) & 0xFFFF);
    for (; set != 0; set &= set - 1) f(row + static_cast<size_t>(__builtin_ctz(set)));
  }
#else
  for (; row + 8 <= rows; row += 8) {  // skip eight clear bytes at a time
    uint64_t word;
    std::memcpy(&word, mask + row, 8);
    if (word == 0) continue;
    for (size_t bit = 0; bit < 8; ++bit)
      if (mask[row + bit]) f(row + bit);
  }
#endif
  for (; row < rows; ++row)
    if (mask[row]) f(row);
}

// The selected values of a granule of a byte-shuffled block (planes of `plane_bytes` bytes,
// the granule at element `first_elem` of each). Constant planes, such as the high bytes of
// ids, are not read: their bytes come from the block header. The granule's values are rebuilt
// whole, one vectorisable pass per varying plane, and the selected ones kept after.
template <typename W>
void unshuffle_selected(const char* planes, size_t plane_bytes, const BlockHeader& header,
                        size_t first_elem, size_t rows, const uint8_t* mask, size_t selected,
                        W* out, PodVector<uint64_t>* scratch) {
  W fixed = 0;
  for (size_t plane = 0; plane < sizeof(W); ++plane)
    if (header.is_constant(plane))
      fixed |= static_cast<W>(W{header.constant_value[plane]} << (8 * plane));
  W* values = out;
  if (selected != rows) {
    scratch->resize((rows * sizeof(W) + 7) / 8);
    values = reinterpret_cast<W*>(scratch->data());
  }
  std::fill_n(values, rows, fixed);
  for (size_t plane = 0; plane < sizeof(W); ++plane) {
    if (header.is_constant(plane)) continue;
    const auto* __restrict src =
        reinterpret_cast<const uint8_t*>(planes + plane * plane_bytes + first_elem);
    W* __restrict dst = values;
    for (size_t row = 0; row < rows; ++row) dst[row] |= static_cast<W>(W{src[row]} << (8 * plane));
  }
  if (values == out) return;
  size_t n = 0;
  for_each_selected(mask, rows, [&](size_t row) { out[n++] = values[row]; });
}

// Window buffers of finished readers, for the thread's next ones: a query makes a reader per
// column per unit of granules, a merge one per column per part, and a fresh buffer of a few
// hundred kilobytes each time would be first touched page by page again (and, under
// AddressSanitizer, mapped and unmapped).
class SpareWindows {
 public:
  static PodVector<char> take() {
    auto& spare = list();
    if (spare.empty()) return {};
    PodVector<char> buffer = std::move(spare.back());
    spare.pop_back();
    return buffer;
  }
  static void give(PodVector<char>&& buffer) {
    auto& spare = list();
    if (buffer.capacity() == 0 || spare.size() >= kMaxSpare) return;
    buffer.clear();
    spare.push_back(std::move(buffer));
  }

 private:
  // Enough for the columns one query unit reads at once, bounding what a thread keeps to a
  // few megabytes.
  static constexpr size_t kMaxSpare = 16;
  // Room for all of them up front: give() runs in destructors, where growing could throw.
  static std::vector<PodVector<char>>& list() {
    thread_local std::vector<PodVector<char>> spare = [] {
      std::vector<PodVector<char>> room;
      room.reserve(kMaxSpare);
      return room;
    }();
    return spare;
  }
};

bool any_selected(const uint8_t* mask, size_t rows) {
  size_t row = 0;
  for (; row + 8 <= rows; row += 8) {
    uint64_t word;
    std::memcpy(&word, mask + row, 8);
    if (word != 0) return true;
  }
  for (; row < rows; ++row)
    if (mask[row]) return true;
  return false;
}

// Widens `rows` stored dictionary codes of `code_width` bytes to 4 bytes into `dst`, returning
// the largest, in one pass.
inline uint32_t widen_codes(const char* src, size_t rows, uint8_t code_width, uint32_t* dst) {
  uint32_t worst = 0;
  switch (code_width) {
    case 1: {
      const auto* codes = reinterpret_cast<const uint8_t*>(src);
      for (size_t row = 0; row < rows; ++row) {
        dst[row] = codes[row];
        worst = std::max(worst, dst[row]);
      }
      break;
    }
    case 2:
      for (size_t row = 0; row < rows; ++row) {
        uint16_t c;
        std::memcpy(&c, src + row * 2, 2);
        dst[row] = c;
        worst = std::max(worst, dst[row]);
      }
      break;
    default:
      std::memcpy(dst, src, rows * 4);
      for (size_t row = 0; row < rows; ++row) worst = std::max(worst, dst[row]);
  }
  return worst;
}

}  // namespace

bool ColumnReader::filter_codes(size_t first_granule, size_t granule_count, const uint8_t* accept,
                                uint8_t* mask) {
  if (type_.id != TypeId::kLowCardinality || code_width_ != 1) return false;
  range_end_ = first_granule + granule_count;
  // Comparisons on a sorted dictionary accept one run of codes [lo, hi), or everything but
  // one run: then a vectorizable range test replaces the table lookup.
  size_t lo = 0;
  while (lo < 256 && !accept[lo]) ++lo;
  size_t hi = lo;
  while (hi < 256 && accept[hi]) ++hi;
  size_t rest = hi;
  while (rest < 256 && !accept[rest]) ++rest;
  const bool one_run = rest == 256;
  const auto run_lo = static_cast<uint8_t>(lo), run_span = static_cast<uint8_t>(hi - lo);
  const bool all = hi - lo == 256;
  size_t mask_at = 0;
  for (size_t g = first_granule; g < first_granule + granule_count; ++g) {
    const size_t rows = part_->granule_rows(g);
    uint8_t* __restrict m = mask + mask_at;
    mask_at += rows;
    if (!any_selected(m, rows)) continue;
    const size_t first = granule_in_planes(g, mark_of(g), rows, 1);
    const auto* __restrict codes = reinterpret_cast<const uint8_t*>(planes_.data() + first);
    uint8_t worst = 0;
    for (size_t row = 0; row < rows; ++row) worst = std::max(worst, codes[row]);
    check_code(worst, g);
    if (all) continue;
    if (one_run) {
      for (size_t row = 0; row < rows; ++row)
        m[row] &= static_cast<uint8_t>(static_cast<uint8_t>(codes[row] - run_lo) < run_span);
    } else {
      for (size_t row = 0; row < rows; ++row) m[row] &= accept[codes[row]];
    }
  }
  return true;
}

ColumnFiles ColumnFiles::open(const Part& part, size_t column) {
  const std::string base = column_file_base(part.schema().columns[column].name);
  return {std::make_shared<const io::ReadableFile>(part.dir() / (base + ".bin")),
          std::make_shared<const std::string>(part.read_checked(base + ".mrk"))};
}

ColumnReader::ColumnReader(const PartPtr& part, size_t column, ColumnStats* stats,
                           ColumnFiles files)
    : part_(part),
      column_(column),
      type_(part->schema().columns[column].type),
      stats_(stats),
      window_(SpareWindows::take()) {
  if (!files.bin) files = ColumnFiles::open(*part, column);
  bin_ = std::move(files.bin);
  marks_ = std::move(files.marks);
  if (marks_->size() != part->granules() * 16)
    throw CorruptionError(fmt::format(
        "{}: expected {} bytes of marks for {} granules, found {}",
        (part->dir() / (column_file_base(part->schema().columns[column].name) + ".mrk")).string(),
        part->granules() * 16, part->granules(), marks_->size()));
  if (type_.id == TypeId::kLowCardinality) {
    dict_ = part->dictionary(column);
    code_width_ = part->code_width(column);
  }
}

ColumnReader::~ColumnReader() { SpareWindows::give(std::move(window_)); }

ColumnReader::Mark ColumnReader::mark_of(size_t granule) const {
  Mark mark;
  std::memcpy(&mark, marks_->data() + granule * 16, 16);
  if (mark.block >= bin_->size())
    throw CorruptionError(
        fmt::format("{}: mark of granule {} points at offset {} past the end ({} bytes)",
                    bin_->path(), granule, mark.block, bin_->size()));
  return mark;
}

void ColumnReader::fill_window(size_t granule, uint64_t offset, size_t bytes) {
  // Runs of blocks read in order (a scan) are read ahead; a reader that skips about (the rows
  // a filter selected) reads one block at a time.
  constexpr uint64_t kReadAhead = 256 << 10;
  const bool runs_on = offset == window_offset_ + window_.size();
  uint64_t end = offset + bytes;
  const size_t granules = part_->granules();
  for (size_t g = granule + 1; g <= granules; ++g) {
    uint64_t boundary = bin_->size();
    if (g < granules) std::memcpy(&boundary, marks_->data() + g * 16, 8);
    if (boundary <= offset) continue;  // granules in the same block
    if (boundary > end) {
      // The first boundary past the block is where it ends (marks point at block starts); the
      // ones after it end the blocks read ahead, while they belong to the granules the call
      // reads and fit in kReadAhead.
      const bool have_block = end > offset + bytes;
      if (have_block && (g > range_end_ || boundary - offset > kReadAhead)) break;
      end = boundary;
    }
    if (!runs_on || end - offset >= kReadAhead) break;
  }
  end = std::min(end, bin_->size());
  window_.clear();  // nothing to keep: no copy when the buffer grows
  window_.resize(end - offset);
  window_offset_ = offset;
  verified_offset_ = UINT64_MAX;
  try {
    window_.resize(bin_->read_at(offset, window_.size(), window_.data()));
  } catch (...) {
    window_.clear();  // what was read is not to be taken for the file's bytes
    throw;
  }
}

const char* ColumnReader::fetch_block(size_t granule, uint64_t offset, BlockHeader* header) {
  if (offset != verified_offset_) {
    const auto held = [&]() -> uint64_t {
      if (offset < window_offset_ || offset >= window_offset_ + window_.size()) return 0;
      return window_offset_ + window_.size() - offset;
    };
    if (held() == 0) fill_window(granule, offset, kBlockHeaderBytes + 1);
    // The marks normally bring in the whole block; a header that claims more (damaged marks
    // or a damaged header) gets one more read, up to the end of the file at most.
    const size_t need = claimed_block_bytes(window_.data() + (offset - window_offset_), held());
    if (held() < need && offset + held() < bin_->size()) fill_window(granule, offset, need);
    verified_header_ =
        read_block_header(window_.data() + (offset - window_offset_), held(), bin_->path(), offset);
    verified_offset_ = offset;
  }
  *header = verified_header_;
  return window_.data() + (offset - window_offset_);
}

void ColumnReader::count_block(const BlockHeader& header) {
  if (stats_ == nullptr) return;
  stats_->compressed_bytes += header.block_bytes();
  stats_->uncompressed_bytes += header.raw_bytes;
}

void ColumnReader::check_code(uint32_t largest, size_t granule) const {
  // A code outside the dictionary means a damaged file that still passed its checksum.
  if (largest >= dict_->size())
    throw CorruptionError(
        fmt::format("{}: code {} in granule {} is outside the {}-entry dictionary", bin_->path(),
                    largest, granule, dict_->size()));
}

void ColumnReader::load_block(size_t granule, uint64_t offset) {
  if (offset == block_offset_) return;
  BlockHeader header;
  const char* block = fetch_block(granule, offset, &header);
  decompress_block(header, block, &block_, bin_->path(), offset);
  block_offset_ = offset;
  count_block(header);
}

bool ColumnReader::try_read_whole_block(size_t granule, const Mark& mark, size_t rows, size_t width,
                                        char* dst) {
  // A plain fixed-width granule that fills its block alone (the usual case for 8-byte columns:
  // one granule is 64 KiB) decompresses straight into the column, skipping the block cache.
  if (!type_.is_fixed() || type_.id == TypeId::kLowCardinality || mark.in_block != 0) return false;
  if (granule + 1 < part_->granules()) {
    uint64_t next;
    std::memcpy(&next, marks_->data() + (granule + 1) * 16, 8);
    if (next == mark.block) return false;
  }
  BlockHeader header;
  const char* block = fetch_block(granule, mark.block, &header);
  if (header.raw_bytes != rows * width) return false;
  decompress_block_into(header, block, dst, bin_->path(), mark.block);
  count_block(header);
  return true;
}

Column ColumnReader::read(size_t first_granule, size_t granule_count) {
  Column out(type_);
  read_into(first_granule, granule_count, &out);
  return out;
}

void ColumnReader::check_granule_fits(size_t granule, const Mark& mark, uint64_t bytes) const {
  if (mark.in_block > block_.size() || block_.size() - mark.in_block < bytes)
    throw CorruptionError(
        fmt::format("{}: granule {} needs {} bytes at offset {} of a {}-byte "
                    "block at file offset {}",
                    bin_->path(), granule, bytes, mark.in_block, block_.size(), mark.block));
}

void ColumnReader::append_string_granule(size_t granule, const Mark& mark, size_t rows,
                                         Column* out) {
  // A granule of strings is `rows` 4-byte lengths, then the strings' bytes back to back.
  check_granule_fits(granule, mark, rows * 4);
  const char* src = block_.data() + mark.in_block;
  uint64_t bytes = 0;
  for (size_t row = 0; row < rows; ++row) {
    uint32_t len;
    std::memcpy(&len, src + row * 4, 4);
    bytes += len;
  }
  check_granule_fits(granule, mark, rows * 4 + bytes);
  const char* chars = src + rows * 4;
  for (size_t row = 0; row < rows; ++row) {
    uint32_t len;
    std::memcpy(&len, src + row * 4, 4);
    out->push_string(std::string_view(chars, len));
    chars += len;
  }
}

void ColumnReader::copy_fixed_granule(size_t granule, const Mark& mark, size_t rows, size_t width,
                                      size_t row_at, Column* out) {
  check_granule_fits(granule, mark, rows * width);
  const char* src = block_.data() + mark.in_block;
  if (type_.id == TypeId::kLowCardinality) {
    check_code(widen_codes(src, rows, code_width_, out->values<uint32_t>() + row_at), granule);
  } else {
    std::memcpy(out->data.data() + row_at * width, src, rows * width);
  }
}

void ColumnReader::read_into(size_t first_granule, size_t granule_count, Column* into) {
  range_end_ = first_granule + granule_count;
  Column& out = *into;
  out.type = type_;
  out.dict = dict_;
  out.rows = 0;
  out.data.clear();
  out.offsets.clear();
  out.chars.clear();
  size_t total_rows = 0;
  for (size_t g = first_granule; g < first_granule + granule_count; ++g)
    total_rows += part_->granule_rows(g);
  const size_t width = type_.id == TypeId::kLowCardinality ? code_width_ : type_.width();
  if (type_.is_fixed()) out.resize_fixed(total_rows);
  size_t row_at = 0;
  for (size_t g = first_granule; g < first_granule + granule_count; ++g) {
    const Mark mark = mark_of(g);
    const size_t rows = part_->granule_rows(g);
    if (try_read_whole_block(g, mark, rows, width,
                             reinterpret_cast<char*>(out.data.data()) + row_at * width)) {
      row_at += rows;
      continue;
    }
    load_block(g, mark.block);
    if (type_.id == TypeId::kString) {
      append_string_granule(g, mark, rows, &out);
      continue;
    }
    copy_fixed_granule(g, mark, rows, width, row_at, &out);
    row_at += rows;
  }
}

const BlockHeader& ColumnReader::load_planes(size_t granule, uint64_t offset) {
  if (offset == planes_offset_) return planes_header_;
  if (offset == packed_offset_) {
    // Already decoded to its packed bytes (and counted): unpacking them is all that is left.
    planes_header_ = packed_header_;
    planes_.resize(planes_header_.raw_bytes);
    unpack_bits(reinterpret_cast<const uint8_t*>(packed_.data()), planes_header_.raw_bytes,
                planes_header_.packed_bits, reinterpret_cast<uint8_t*>(planes_.data()));
    planes_offset_ = offset;
    return planes_header_;
  }
  const char* block = fetch_block(granule, offset, &planes_header_);
  decode_payload(planes_header_, block, &planes_, bin_->path(), offset);
  planes_offset_ = offset;
  count_block(planes_header_);
  return planes_header_;
}

size_t ColumnReader::granule_in_planes(size_t granule, const Mark& mark, size_t rows,
                                       size_t width) {
  load_planes(granule, mark.block);
  if (mark.in_block % width != 0 || mark.in_block + rows * width > planes_.size())
    throw CorruptionError(fmt::format("{}: granule {} does not fit its {}-byte block at offset {}",
                                      bin_->path(), granule, planes_.size(), mark.block));
  return mark.in_block / width;
}

void ColumnReader::filter_equals(size_t first_granule, size_t granule_count, uint64_t value,
                                 uint8_t* mask) {
  SHARDLAB_ASSERT(type_.is_fixed() && type_.id != TypeId::kLowCardinality, "filter_equals on {}",
                  type_.name());
  range_end_ = first_granule + granule_count;
  const size_t width = type_.width();
  uint8_t bytes[8];
  std::memcpy(bytes, &value, 8);
  size_t mask_at = 0;
  for (size_t g = first_granule; g < first_granule + granule_count; ++g) {
    const size_t rows = part_->granule_rows(g);
    uint8_t* m = mask + mask_at;
    mask_at += rows;
    if (!any_selected(m, rows)) continue;
    const Mark mark = mark_of(g);
    if (mark.block != planes_offset_) {
      // The descriptor alone may rule the block out.
      BlockHeader header;
      fetch_block(g, mark.block, &header);
      bool possible = true;
      if (header.shuffle_width == width)
        for (size_t plane = 0; plane < width; ++plane)
          if (header.is_constant(plane) && header.constant_value[plane] != bytes[plane])
            possible = false;
      if (!possible) {
        std::memset(m, 0, rows);
        continue;
      }
    }
    const size_t first_elem = granule_in_planes(g, mark, rows, width);
    const BlockHeader& header = planes_header_;
    if (header.shuffle_width == width) {
      const size_t plane_bytes = planes_.size() / width;
      for (size_t plane = 0; plane < width; ++plane) {
        if (header.is_constant(plane)) {
          if (header.constant_value[plane] != bytes[plane]) std::memset(m, 0, rows);
          continue;
        }
        const auto* __restrict p =
            reinterpret_cast<const uint8_t*>(planes_.data() + plane * plane_bytes + first_elem);
        uint8_t* __restrict out = m;
        const uint8_t b = bytes[plane];
        for (size_t row = 0; row < rows; ++row) out[row] &= static_cast<uint8_t>(p[row] == b);
      }
    } else {
      const char* values = planes_.data() + first_elem * width;
      for (size_t row = 0; row < rows; ++row)
        m[row] &= static_cast<uint8_t>(std::memcmp(values + row * width, bytes, width) == 0);
    }
  }
}

bool ColumnReader::read_selected_packed(size_t granule, const Mark& mark, size_t rows,
                                        const uint8_t* m, size_t selected, Column* out) {
  // A block already decoded whole (by a filter on this column) is read from there.
  if (code_width_ != 1 || mark.block == planes_offset_) return false;
  if (mark.block != packed_offset_) {
    // A block that is not bit-packed is left to the planes path, which finds it verified.
    BlockHeader header;
    const char* block = fetch_block(granule, mark.block, &header);
    if (header.packed_bits == 0) return false;
    decode_packed(header, block, &packed_, bin_->path(), mark.block);
    packed_header_ = header;
    packed_offset_ = mark.block;
    count_block(header);
  }
  const size_t count = packed_header_.raw_bytes;
  const unsigned bits = packed_header_.packed_bits;
  if (mark.in_block > count || count - mark.in_block < rows)
    throw CorruptionError(fmt::format("{}: granule {} does not fit its {}-value block at offset {}",
                                      bin_->path(), granule, count, mark.block));
  const size_t stride = packed_bytes(count, bits);
  const auto value_mask = static_cast<uint8_t>((1u << bits) - 1);
  const auto* packed = reinterpret_cast<const uint8_t*>(packed_.data());
  const size_t at = out->data.size();
  out->data.resize(at + selected * 4);
  out->rows += selected;
  uint32_t* codes = reinterpret_cast<uint32_t*>(out->data.data() + at);
  uint32_t worst = 0;
  // Value i is in byte i % stride, lane i / stride: walk the granule lane by lane, so that
  // no selected row needs a division.
  const size_t first = mark.in_block;
  for (size_t lane_start = first - first % stride; lane_start < first + rows;
       lane_start += stride) {
    const size_t begin = std::max(first, lane_start);
    const size_t end = std::min(first + rows, lane_start + stride);
    const auto shift = static_cast<unsigned>(bits * (lane_start / stride));
    const uint8_t* bytes = packed + (begin - lane_start);  // bytes[k]: value begin + k
    for_each_selected(m + (begin - first), end - begin, [&](size_t k) {
      const uint32_t code = (bytes[k] >> shift) & value_mask;
      *codes++ = code;
      worst = std::max(worst, code);
    });
  }
  check_code(worst, granule);
  return true;
}

void ColumnReader::copy_selected(size_t granule, size_t first_elem, size_t rows,
                                 const uint8_t* m, size_t selected, char* dst) {
  const bool is_codes = type_.id == TypeId::kLowCardinality;
  const size_t disk_width = is_codes ? code_width_ : type_.width();
  if (is_codes) {
    // Codes narrower on disk than in memory: widen each selected one and check it.
    uint32_t* codes = reinterpret_cast<uint32_t*>(dst);
    uint32_t worst = 0;
    auto widen = [&]<typename Code>(Code) {
      const Code* from = reinterpret_cast<const Code*>(planes_.data()) + first_elem;
      for_each_selected(m, rows, [&](size_t row) {
        const uint32_t code = from[row];
        *codes++ = code;
        worst = std::max(worst, code);
      });
    };
    switch (disk_width) {  // a typed load per row, not a memcpy of a runtime size
      case 1:
        widen(uint8_t{});
        break;
      case 2:
        widen(uint16_t{});
        break;
      default:
        widen(uint32_t{});
    }
    check_code(worst, granule);
  } else if (planes_header_.shuffle_width == disk_width &&
             (disk_width == 2 || disk_width == 4 || disk_width == 8)) {
    const size_t plane_bytes = planes_.size() / disk_width;
    auto gather = [&]<typename W>(W* typed) {
      unshuffle_selected(planes_.data(), plane_bytes, planes_header_, first_elem, rows, m,
                         selected, typed, &unshuffled_);
    };
    if (disk_width == 2) {
      gather(reinterpret_cast<uint16_t*>(dst));
    } else if (disk_width == 4) {
      gather(reinterpret_cast<uint32_t*>(dst));
    } else {
      gather(reinterpret_cast<uint64_t*>(dst));
    }
  } else if (planes_header_.shuffle_width == disk_width && disk_width > 1) {
    const size_t plane = planes_.size() / disk_width;  // elements in the block
    for_each_selected(m, rows, [&](size_t row) {
      for (size_t byte = 0; byte < disk_width; ++byte)
        dst[byte] = planes_[byte * plane + first_elem + row];
      dst += disk_width;
    });
  } else {
    for_each_selected(m, rows, [&](size_t row) {
      std::memcpy(dst, planes_.data() + (first_elem + row) * disk_width, disk_width);
      dst += disk_width;
    });
  }
}

Column ColumnReader::read_selected(size_t first_granule, size_t granule_count,
                                   const uint8_t* mask) {
  range_end_ = first_granule + granule_count;
  Column out(type_);
  out.dict = dict_;
  const bool is_codes = type_.id == TypeId::kLowCardinality;
  // Bytes per value on disk and in memory (LowCardinality codes widen to 4 bytes).
  const size_t disk_width = is_codes ? code_width_ : type_.width();
  const size_t mem_width = type_.width();
  if (type_.is_fixed()) {
    // One allocation of the final size: growing granule by granule would leave a trail of
    // freed blocks of every size, and each block first touched costs a page fault per page.
    size_t rows = 0;
    for (size_t g = first_granule; g < first_granule + granule_count; ++g)
      rows += part_->granule_rows(g);
    out.data.reserve(count_selected(mask, rows) * mem_width);
  }
  size_t mask_at = 0;
  for (size_t g = first_granule; g < first_granule + granule_count; ++g) {
    const size_t rows = part_->granule_rows(g);
    const uint8_t* m = mask + mask_at;
    mask_at += rows;
    const size_t selected = count_selected(m, rows);
    if (selected == 0) continue;
    if (!type_.is_fixed()) {
      append_column(&out, filter_column(read(g, 1), m, selected));
      continue;
    }
    const Mark mark = mark_of(g);
    if (is_codes && read_selected_packed(g, mark, rows, m, selected, &out)) continue;
    const size_t first_elem = granule_in_planes(g, mark, rows, disk_width);
    const size_t at = out.data.size();
    out.data.resize(at + selected * mem_width);
    out.rows += selected;
    copy_selected(g, first_elem, rows, m, selected,
                  reinterpret_cast<char*>(out.data.data()) + at);
  }
  return out;
}

Block read_part_columns(const PartPtr& part, const std::vector<std::string>& names) {
  Block block;
  for (const std::string& name : names) {
    const int column = part->schema().column_index(name);
    if (column < 0) throw InputError("no column '" + name + "' in part " + part->name());
    ColumnReader reader(part, static_cast<size_t>(column), nullptr);
    block.names.push_back(name);
    block.columns.push_back(reader.read(0, part->granules()));
  }
  return block;
}

}  // namespace shardlab::engine
