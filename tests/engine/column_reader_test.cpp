#include "engine/storage/column_reader.h"

#include <sys/resource.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/errors.h"
#include "engine/common/file_io.h"
#include "shardlab/engine/query.h"
#include "shardlab/engine/table.h"
#include "tests/engine/test_util.h"

using namespace shardlab;
using namespace shardlab::engine;

namespace {

// Incompressible 8-byte values in 8 KiB granules (eight to a compressed block), and random
// letters of up to 800 bytes a row: scans cross several read-ahead windows (256 KiB), and a
// string granule makes a block larger than a window.
constexpr const char* kDdl =
    "CREATE TABLE r (k UInt32, v UInt64, s String) ENGINE = MergeTree() ORDER BY k "
    "SETTINGS index_granularity = 1024";
constexpr uint32_t kRows = 120'000;

struct Fixture {
  testing::TempDir dir;
  std::unique_ptr<Table> table;
  Column v{TypeId::kUInt64};
  Column s{TypeId::kString};
  PartPtr part;
  size_t v_col = 0, s_col = 0;

  Fixture() {
    table = Table::create(dir.path() / "r", kDdl);
    Block block;
    block.names = {"k", "v", "s"};
    Column k(TypeId::kUInt32);
    std::mt19937_64 rng(41);
    for (uint32_t row = 0; row < kRows; ++row) {
      k.push(row);
      v.push(rng());
      std::string text(rng() % 800, ' ');
      for (size_t at = 0; at < text.size(); at += 8) {
        const uint64_t bits = rng();
        for (size_t byte = 0; byte < 8 && at + byte < text.size(); ++byte)
          text[at + byte] = static_cast<char>('a' + ((bits >> (8 * byte)) & 0xFF) % 26);
      }
      s.push_string(text);
    }
    block.columns = {k, v, s};
    table->insert(block);
    REQUIRE(table->active_parts().size() == 1);
    part = table->active_parts().front();
    v_col = 1;
    s_col = 2;
    REQUIRE(part->schema().columns[v_col].name == "v");
  }
  size_t first_row(size_t granule) const { return granule * part->granularity(); }
  // Checks `got` against rows [first_row(first), ...) of the column with the mask applied.
  void check_rows(const Column& got, size_t first, size_t count, size_t column,
                  const std::vector<uint8_t>* mask = nullptr) const {
    size_t at = 0;
    const size_t begin = first_row(first);
    const size_t end = first_row(first + count - 1) + part->granule_rows(first + count - 1);
    for (size_t row = begin; row < end; ++row) {
      if (mask != nullptr && !(*mask)[row - begin]) continue;
      REQUIRE(at < got.rows);
      if (column == v_col) {
        REQUIRE(got.values<uint64_t>()[at] == v.values<uint64_t>()[row]);
      } else {
        REQUIRE(got.string_at(at) == s.string_at(row));
      }
      ++at;
    }
    CHECK(at == got.rows);
  }
};

uint64_t mark_block(const std::filesystem::path& marks, size_t granule) {
  std::ifstream in(marks, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(granule * 16));
  uint64_t block = 0;
  in.read(reinterpret_cast<char*>(&block), 8);
  return block;
}

void set_mark_block(const std::filesystem::path& marks, size_t granule, uint64_t block) {
  std::fstream out(marks, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(static_cast<std::streamoff>(granule * 16));
  out.write(reinterpret_cast<const char*>(&block), 8);
}

// The column's files as they are on disk, marks unchecked: what a reader would be given if
// damage had kept the marks' checksum (the reader itself must still never crash on them).
ColumnFiles unchecked_files(const Part& part, const std::string& column) {
  return {std::make_shared<const io::ReadableFile>(part.dir() / (column + ".bin")),
          std::make_shared<const std::string>(io::read_file(part.dir() / (column + ".mrk")))};
}

}  // namespace

TEST_CASE("column reads agree with the rows in every order, and read each block once in a scan",
          "[column_reader]") {
  Fixture f;
  const size_t granules = f.part->granules();
  REQUIRE(granules > 100);
  REQUIRE(std::filesystem::file_size(f.part->dir() / "v.bin") > 900'000);
  REQUIRE(std::filesystem::file_size(f.part->dir() / "s.bin") / granules > 256 << 10);
  for (const size_t column : {f.v_col, f.s_col}) {
    INFO("column " << column);
    {  // A whole scan decodes every block once: its bytes add up to the file.
      ColumnStats stats;
      ColumnReader reader(f.part, column, &stats);
      f.check_rows(reader.read(0, granules), 0, granules, column);
      CHECK(stats.compressed_bytes ==
            std::filesystem::file_size(f.part->dir() / (column == f.v_col ? "v.bin" : "s.bin")));
    }
    ColumnReader reader(f.part, column, nullptr);
    for (size_t g = 0; g < granules; ++g) f.check_rows(reader.read(g, 1), g, 1, column);
    for (size_t g = granules; g-- > 0;) f.check_rows(reader.read(g, 1), g, 1, column);
    std::mt19937_64 rng(5);
    for (int round = 0; round < 60; ++round) {
      const size_t first = rng() % granules;
      const size_t count = 1 + rng() % std::min<size_t>(granules - first, 40);
      f.check_rows(reader.read(first, count), first, count, column);
      // Sparse selections: a few rows of some granules, none of the others.
      std::vector<uint8_t> mask(f.first_row(first + count - 1) - f.first_row(first) +
                                f.part->granule_rows(first + count - 1));
      for (auto& byte : mask) byte = rng() % 200 == 0;
      f.check_rows(reader.read_selected(first, count, mask.data()), first, count, column, &mask);
    }
  }
}

TEST_CASE("marks that mislead the reader and files shrunk under it are named, never crash",
          "[column_reader][corruption]") {
  Fixture f;
  const auto marks = f.part->dir() / "v.mrk";
  const auto bin = f.part->dir() / "v.bin";
  // A granule that ends its block, so the next granule's mark is where the block ends.
  size_t g = f.part->granules() / 2;
  while (mark_block(marks, g + 1) == mark_block(marks, g)) ++g;
  const uint64_t block = mark_block(marks, g);
  REQUIRE(block > 0);

  SECTION("a mark inside the block before it") {
    // The marks now say block g ends 5 bytes after it starts: its header says otherwise, and
    // the reader reads the rest. The next granule's mark points at no block at all.
    set_mark_block(marks, g + 1, block + 5);
    // The marks' checksum names the damage when the files are opened...
    REQUIRE_THROWS_WITH(ColumnReader(f.part, f.v_col, nullptr),
                        Catch::Contains("v.mrk: checksum mismatch"));
    // ... and a reader given such marks anyway reads what it can and names the rest.
    ColumnReader reader(f.part, f.v_col, nullptr, unchecked_files(*f.part, "v"));
    f.check_rows(reader.read(g, 1), g, 1, f.v_col);
    try {
      reader.read(g + 1, 1);
      FAIL("a mark into the middle of a block went unnoticed");
    } catch (const CorruptionError& e) {
      CHECK(std::string(e.what()).find("v.bin") != std::string::npos);
    }
    std::vector<uint8_t> all(f.part->granule_rows(g), 1);
    f.check_rows(reader.read_selected(g, 1, all.data()), g, 1, f.v_col, &all);
  }
  SECTION("a file cut in the middle of a block") {
    const uint64_t size = std::filesystem::file_size(bin);
    const uint64_t next = mark_block(marks, g + 1);
    std::filesystem::resize_file(bin, (block + next) / 2);
    ColumnReader reader(f.part, f.v_col, nullptr, unchecked_files(*f.part, "v"));
    f.check_rows(reader.read(0, g - 7), 0, g - 7, f.v_col);
    try {
      reader.read(g, 1);
      FAIL("a truncated block went unnoticed");
    } catch (const CorruptionError& e) {
      CHECK(std::string(e.what()).find("v.bin: truncated compressed block at offset " +
                                       std::to_string(block)) != std::string::npos);
      CHECK(std::string(e.what()).find(std::to_string((next - block) / 2) + " remain") !=
            std::string::npos);
    }
    // The failed read moved the reader's window: the block verified before it is read again.
    std::vector<uint8_t> all(f.part->granule_rows(g - 8), 1);
    f.check_rows(reader.read_selected(g - 8, 1, all.data()), g - 8, 1, f.v_col, &all);
    REQUIRE_THROWS_WITH(reader.read(f.part->granules() - 1, 1),
                        Catch::Contains("v.bin: mark of granule") &&
                            Catch::Contains("past the end (" + std::to_string((block + next) / 2)));
    REQUIRE(size > (block + next) / 2);
  }
  SECTION("marks cut short") {
    std::filesystem::resize_file(marks, 16 * f.part->granules() - 3);
    REQUIRE_THROWS_WITH(ColumnReader(f.part, f.v_col, nullptr),
                        Catch::Contains("v.mrk: checksum mismatch"));
    REQUIRE_THROWS_WITH(
        ColumnReader(f.part, f.v_col, nullptr, unchecked_files(*f.part, "v")),
        Catch::Contains("v.mrk: expected " + std::to_string(16 * f.part->granules()) + " bytes") &&
            Catch::Contains("found " + std::to_string(16 * f.part->granules() - 3)));
  }
  SECTION("a read that failed leaves no bytes behind") {
    // The reader's window holds block 0 and the blocks after it, read ahead. A later read
    // into the same buffer fails: if what the buffer still held were taken for the block at
    // the new offset, block 0's valid header would pass, and its values be returned as that
    // block's. It needs a block at least as long as block 0, past the first window.
    const auto extent = [&](size_t first) {
      size_t next = first;
      while (next < f.part->granules() && mark_block(marks, next) == mark_block(marks, first))
        ++next;
      return (next < f.part->granules() ? mark_block(marks, next)
                                        : std::filesystem::file_size(bin)) -
             mark_block(marks, first);
    };
    const uint64_t first_block_bytes = extent(0);
    size_t target = 0;
    for (size_t at = 1; at < f.part->granules() && target == 0; ++at)
      if (mark_block(marks, at) != mark_block(marks, at - 1) &&
          mark_block(marks, at) > (512u << 10) && extent(at) >= first_block_bytes)
        target = at;
    REQUIRE(target != 0);
    std::string original;
    {
      std::ifstream in(bin, std::ios::binary);
      original.assign(std::istreambuf_iterator<char>(in), {});
    }
    ColumnReader reader(f.part, f.v_col, nullptr);
    f.check_rows(reader.read(0, 1), 0, 1, f.v_col);
    std::filesystem::resize_file(bin, mark_block(marks, target));
    REQUIRE_THROWS_WITH(reader.read(target, 1), Catch::Contains("ended"));
    {
      std::fstream out(bin, std::ios::in | std::ios::out | std::ios::binary);
      out.write(original.data(), static_cast<std::streamsize>(original.size()));
    }
    f.check_rows(reader.read(target, 1), target, 1, f.v_col);
  }
  SECTION("a file shrunk after the reader opened it") {
    ColumnReader reader(f.part, f.v_col, nullptr);
    std::filesystem::resize_file(bin, block);
    REQUIRE_THROWS_AS(reader.read(g, 1), RuntimeError);
    REQUIRE_THROWS_WITH(reader.read(g, 1), Catch::Contains("v.bin") && Catch::Contains("ended"));
  }
}

namespace {

size_t open_descriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("readers past the descriptor budget open their file for each read",
          "[column_reader][descriptors]") {
  Fixture f;
  const size_t granules = f.part->granules();
  io::set_read_descriptor_budget(2);
  const size_t before = open_descriptors();
  std::vector<std::unique_ptr<ColumnReader>> readers;
  for (int copy = 0; copy < 3; ++copy)
    for (const size_t column : {f.v_col, f.s_col})
      readers.push_back(std::make_unique<ColumnReader>(f.part, column, nullptr));
  CHECK(open_descriptors() == before + 2);
  // Interleaved reads, as a merge makes them: every reader gets its own rows.
  for (size_t g = 0; g < granules; g += 7)
    for (size_t r = 0; r < readers.size(); ++r)
      f.check_rows(readers[r]->read(g, 1), g, 1, r % 2 == 0 ? f.v_col : f.s_col);
  readers.clear();
  CHECK(open_descriptors() == before);
  io::set_read_descriptor_budget(0);  // back to the default
}

TEST_CASE("a merge of more column files than the open-file limit allows succeeds",
          "[column_reader][descriptors]") {
  // 120 parts of 6 columns: 720 column files read at once, under a limit of 200 descriptors.
  testing::TempDir dir;
  auto table = Table::create(
      dir.path() / "m",
      "CREATE TABLE m (t DateTime, k UInt32, g LowCardinality(String), s String, v Int64, "
      "f Float64) ENGINE = MergeTree() PARTITION BY toYYYYMMDD(t) ORDER BY (t, k) "
      "SETTINGS index_granularity = 64");
  std::mt19937_64 rng(8);
  std::map<uint32_t, int64_t> expected;  // k -> sum of v
  for (int insert = 0; insert < 120; ++insert) {
    Block block;
    block.names = {"t", "k", "g", "s", "v", "f"};
    Column t(TypeId::kDateTime), k(TypeId::kUInt32), g(TypeId::kString), s(TypeId::kString),
        v(TypeId::kInt64), fl(TypeId::kFloat64);
    for (int row = 0; row < 200; ++row) {
      t.push(static_cast<uint32_t>(1714521600 + rng() % 86400));
      const auto key = static_cast<uint32_t>(rng() % 50);
      k.push(key);
      g.push_string(rng() % 2 ? "click" : "buy");
      s.push_string(std::to_string(rng() % 1000));
      const auto value = static_cast<int64_t>(rng() % 1000);
      v.push(value);
      fl.push(0.5);
      expected[key] += value;
    }
    block.columns = {t, k, string_to_low_cardinality(g), s, v, fl};
    table->insert(block);
  }
  REQUIRE(table->active_parts().size() == 120);

  struct rlimit old_limit {};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &old_limit) == 0);
  struct rlimit low = old_limit;
  low.rlim_cur = std::min<rlim_t>(200, old_limit.rlim_cur);
  REQUIRE(open_descriptors() + 150 < low.rlim_cur);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  io::set_read_descriptor_budget(0);  // taken from the lowered limit on first use
  std::string error;
  try {
    table->optimize(/*final=*/true, 1714521600);
  } catch (const std::exception& e) {
    error = e.what();
  }
  const size_t budget = io::read_descriptor_budget();
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &old_limit) == 0);
  io::set_read_descriptor_budget(0);
  CHECK(budget == low.rlim_cur / 2);
  REQUIRE(error.empty());
  REQUIRE(table->active_parts().size() == 1);
  auto query = Query::prepare(table->schema(), "SELECT k, sum(v) FROM m GROUP BY k ORDER BY k");
  const QueryResult result = query->run(table->active_parts(), 1);
  REQUIRE(result.columns.size() == 2);
  REQUIRE(result.columns[0].rows == expected.size());
  size_t row = 0;
  for (const auto& [key, sum] : expected) {
    CHECK(result.columns[0].values<uint32_t>()[row] == key);
    CHECK(result.columns[1].values<int64_t>()[row] == sum);
    ++row;
  }
}
