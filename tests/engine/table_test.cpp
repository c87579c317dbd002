#include "shardlab/engine/table.h"

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <tuple>

#include "base/errors.h"
#include "engine/common/file_io.h"
#include "shardlab/engine/query.h"
#include "shardlab/engine/tsv_format.h"
#include "tests/engine/test_util.h"

using namespace shardlab;
using namespace shardlab::engine;

namespace {

constexpr const char* kDdl =
    "CREATE TABLE ev (t DateTime, k UInt32, g LowCardinality(String), s String, v Int64, f "
    "Float64) "
    "ENGINE = MergeTree() PARTITION BY toYYYYMMDD(t) ORDER BY (t, k) SETTINGS index_granularity = "
    "64";
constexpr int64_t kStart = 1714521600;  // 2024-05-01 00:00:00

struct Row {
  uint32_t t, k;
  std::string g, s;
  int64_t v;
  double f;
};

std::vector<Row> random_rows(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  static const char* kGroups[] = {"click", "fav", "cart", "buy", "北京"};
  std::vector<Row> rows;
  for (size_t idx = 0; idx < n; ++idx) {
    Row r;
    r.t = static_cast<uint32_t>(kStart + rng() % (3 * 86400));
    r.k = static_cast<uint32_t>(rng() % 1000);
    r.g = kGroups[rng() % 5];
    r.s = "s" + std::to_string(rng() % 50);
    r.v = static_cast<int64_t>(rng() % 2001) - 1000;
    r.f = static_cast<double>(rng() % 10000) / 8.0;
    rows.push_back(r);
  }
  return rows;
}

Block to_block(const std::vector<Row>& rows) {
  Block b;
  b.names = {"t", "k", "g", "s", "v", "f"};
  Column t(TypeId::kDateTime), k(TypeId::kUInt32), g(TypeId::kString), s(TypeId::kString),
      v(TypeId::kInt64), f(TypeId::kFloat64);
  for (const Row& r : rows) {
    t.push(r.t);
    k.push(r.k);
    g.push_string(r.g);
    s.push_string(r.s);
    v.push(r.v);
    f.push(r.f);
  }
  b.columns = {t, k, string_to_low_cardinality(g), s, v, f};
  return b;
}

// The lines of `text`, without their newlines.
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t at = 0; at < text.size();) {
    const size_t end = std::min(text.find('\n', at), text.size());
    lines.push_back(text.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

std::string run_sql(const Table& table, const std::string& sql, WorkProfile* profile = nullptr) {
  auto q = Query::prepare(table.schema(), sql);
  QueryResult r = q->run(table.active_parts(), 2);
  if (profile) *profile = r.profile;
  std::string out;
  append_tsv(r.columns, &out);
  return out;
}

// The answers the engine must give, computed directly from the rows.
struct Reference {
  const std::vector<Row>& rows;
  std::string count_where(uint32_t from, uint32_t to, const std::string& g) const {
    size_t n = 0;
    for (const Row& r : rows) n += r.t >= from && r.t < to && r.g == g;
    return std::to_string(n) + "\n";
  }
  std::string sum_by_group() const {
    std::map<std::string, std::pair<int64_t, uint64_t>> agg;
    for (const Row& r : rows) {
      agg[r.g].first += r.v;
      agg[r.g].second++;
    }
    std::string out;
    for (const auto& [g, p] : agg)
      out += g + "\t" + std::to_string(p.first) + "\t" + std::to_string(p.second) + "\n";
    return out;
  }
  std::string distinct_strings() const {
    std::set<std::string> s;
    for (const Row& r : rows) s.insert(r.s);
    return std::to_string(s.size()) + "\n";
  }
};

}  // namespace

TEST_CASE("inserted rows come back exactly, before and after merges", "[table]") {
  testing::TempDir dir;
  auto table = Table::create(dir.path() / "t", kDdl);
  std::vector<Row> all;
  for (uint32_t batch = 0; batch < 6; ++batch) {
    auto rows = random_rows(3000, batch);
    table->insert(to_block(rows));
    all.insert(all.end(), rows.begin(), rows.end());
  }
  Reference ref{all};
  const uint32_t day2 = kStart + 86400, day3 = kStart + 2 * 86400;
  auto check_all = [&] {
    CHECK(run_sql(*table, "SELECT count() FROM ev") == std::to_string(all.size()) + "\n");
    CHECK(run_sql(*table,
                  "SELECT count() FROM ev WHERE t >= '2024-05-02 00:00:00' AND t < '2024-05-03 "
                  "00:00:00' AND g = 'click'") == ref.count_where(day2, day3, "click"));
    CHECK(run_sql(*table, "SELECT g, sum(v), count() FROM ev GROUP BY g ORDER BY g") ==
          ref.sum_by_group());
    CHECK(run_sql(*table, "SELECT uniqExact(s) FROM ev") == ref.distinct_strings());
    CHECK(run_sql(*table, "SELECT count(DISTINCT s) FROM ev WHERE g IN ('fav', '北京')") ==
          run_sql(*table, "SELECT uniqExact(s) FROM ev PREWHERE g = 'fav' OR g = '北京'"));
  };
  check_all();
  const size_t parts_before = table->active_parts().size();
  REQUIRE(parts_before >= 18);  // 6 inserts x 3 days
  table->optimize(/*final=*/true, kStart);
  CHECK(table->active_parts().size() == 3);
  check_all();
  // Reopening reads the same parts back.
  table.reset();
  OpenReport report;
  table = Table::open(dir.path() / "t", &report);
  CHECK(report.broken.empty());
  check_all();
}

TEST_CASE("aggregations give the same answers and profiles on any number of threads",
          "[table][threads]") {
  // Several parts of 64-row granules, so the selected granules split into shares that cut
  // units and parts at different places for each thread count.
  testing::TempDir dir;
  auto table = Table::create(dir.path() / "t", kDdl);
  for (uint32_t batch = 0; batch < 5; ++batch) table->insert(to_block(random_rows(4000, batch)));
  // Rows sorted, as GROUP BY without ORDER BY has no order.
  auto sorted_answer = [&](const std::string& sql, unsigned threads, WorkProfile* profile) {
    auto q = Query::prepare(table->schema(), sql);
    const QueryResult r = q->run(table->active_parts(), threads);
    *profile = r.profile;
    std::string text;
    append_tsv(r.columns, &text);
    std::vector<std::string_view> lines = split_lines(text);
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (std::string_view line : lines) out += fmt::format("{}\n", line);
    return out;
  };
  for (const std::string sql :
       {"SELECT k, count() FROM ev GROUP BY k",
        "SELECT k, count() AS c FROM ev WHERE g = 'click' GROUP BY k ORDER BY c DESC, k LIMIT 7",
        "SELECT g, k, sum(v), min(s), uniqExact(s) FROM ev WHERE t >= '2024-05-02 00:00:00' "
        "GROUP BY g, k",
        "SELECT count(), sum(v), max(f) FROM ev WHERE k < 500"}) {
    INFO(sql);
    WorkProfile one;
    const std::string expected = sorted_answer(sql, 1, &one);
    CHECK(expected.size() > 10);
    for (unsigned threads : {2u, 3u, 5u}) {
      INFO(threads << " threads");
      WorkProfile many;
      CHECK(sorted_answer(sql, threads, &many) == expected);
      CHECK(many.granules_read == one.granules_read);
      CHECK(many.rows_read == one.rows_read);
      CHECK(many.rows_aggregated == one.rows_aggregated);
      CHECK(many.groups == one.groups);
      CHECK(many.parts_selected == one.parts_selected);
    }
  }
}

TEST_CASE("ORDER BY on signed and unsigned keys, both directions, ties broken by the next key",
          "[table][order]") {
  testing::TempDir dir;
  auto table = Table::create(dir.path() / "t", kDdl);
  const auto rows = random_rows(5000, 7);
  table->insert(to_block(rows));
  // Per k: the sum of v (negative and positive) and the row count.
  std::map<uint32_t, std::pair<int64_t, uint64_t>> by_k;
  for (const Row& r : rows) {
    by_k[r.k].first += r.v;
    by_k[r.k].second++;
  }
  std::vector<std::tuple<uint32_t, int64_t, uint64_t>> groups;
  for (const auto& [k, agg] : by_k) groups.emplace_back(k, agg.first, agg.second);
  auto top = [&](auto before, size_t limit) {
    std::sort(groups.begin(), groups.end(), before);
    std::string out;
    for (size_t idx = 0; idx < std::min(limit, groups.size()); ++idx)
      out += std::to_string(std::get<0>(groups[idx])) + "\t" +
             std::to_string(std::get<1>(groups[idx])) + "\n";
    return out;
  };
  CHECK(run_sql(*table, "SELECT k, sum(v) AS s FROM ev GROUP BY k ORDER BY s DESC, k LIMIT 15") ==
        top(
            [](const auto& x, const auto& y) {
              return std::make_pair(-std::get<1>(x), std::get<0>(x)) <
                     std::make_pair(-std::get<1>(y), std::get<0>(y));
            },
            15));
  CHECK(run_sql(*table, "SELECT k, sum(v) AS s FROM ev GROUP BY k ORDER BY s, k DESC LIMIT 15") ==
        top(
            [](const auto& x, const auto& y) {
              return std::make_pair(std::get<1>(x), -int64_t{std::get<0>(x)}) <
                     std::make_pair(std::get<1>(y), -int64_t{std::get<0>(y)});
            },
            15));
  // Counts tie often: the second key decides, over every group (no LIMIT).
  std::string by_count;
  std::sort(groups.begin(), groups.end(), [](const auto& x, const auto& y) {
    return std::make_pair(std::get<2>(y), std::get<0>(x)) <
           std::make_pair(std::get<2>(x), std::get<0>(y));
  });
  for (const auto& g : groups)
    by_count += std::to_string(std::get<0>(g)) + "\t" + std::to_string(std::get<2>(g)) + "\n";
  CHECK(run_sql(*table, "SELECT k, count() AS c FROM ev GROUP BY k ORDER BY c DESC, k") ==
        by_count);
  // Cut to a LIMIT, with and without an offset: a few rows out of a thousand groups are picked
  // by a bounded heap, which must break the many ties on the count by k just the same.
  auto lines = [&](size_t from, size_t count) {
    std::istringstream in(by_count);
    std::string line, out;
    for (size_t idx = 0; std::getline(in, line) && idx < from + count; ++idx)
      if (idx >= from) out += line + "\n";
    return out;
  };
  CHECK(run_sql(*table, "SELECT k, count() AS c FROM ev GROUP BY k ORDER BY c DESC, k LIMIT 20") ==
        lines(0, 20));
  CHECK(run_sql(*table,
                "SELECT k, count() AS c FROM ev GROUP BY k ORDER BY c DESC, k LIMIT 45, 10") ==
        lines(45, 10));
  CHECK(run_sql(*table, "SELECT k, count() AS c FROM ev GROUP BY k ORDER BY c, k DESC LIMIT 1") ==
        [&] {
          auto least = groups.back();  // the fewest rows, then the largest k
          for (const auto& g : groups)
            if (std::get<2>(g) < std::get<2>(least) ||
                (std::get<2>(g) == std::get<2>(least) && std::get<0>(g) > std::get<0>(least)))
              least = g;
          return fmt::format("{}\t{}\n", std::get<0>(least), std::get<2>(least));
        }());
  // A Date first key, descending (the rows cover three days from 2024-05-01).
  size_t per_day[3] = {};
  for (const Row& r : rows) ++per_day[(r.t - kStart) / 86400];
  CHECK(run_sql(*table, "SELECT toDate(t) AS d, count() FROM ev GROUP BY d ORDER BY d DESC") ==
        fmt::format("2024-05-03\t{}\n2024-05-02\t{}\n2024-05-01\t{}\n", per_day[2], per_day[1],
                    per_day[0]));
}

TEST_CASE("primary key and partition pruning skip granules without changing answers", "[table]") {
  testing::TempDir dir;
  auto table = Table::create(dir.path() / "t", kDdl);
  auto rows = random_rows(20000, 7);
  table->insert(to_block(rows));
  table->optimize(true, kStart);
  WorkProfile narrow, wide;
  const std::string a = run_sql(*table,
                                "SELECT count(), sum(v) FROM ev WHERE t >= '2024-05-01 10:00:00' "
                                "AND t < '2024-05-01 11:00:00'",
                                &narrow);
  const std::string b = run_sql(
      *table,
      "SELECT count(), sum(v) FROM ev WHERE toStartOfHour(t) = toDateTime('2024-05-01 10:00:00')",
      &wide);
  CHECK(a == b);
  CHECK(narrow.parts_selected == 1);
  CHECK(narrow.granules_selected * 10 < narrow.granules_total);
  CHECK(wide.granules_read == wide.granules_total);
  CHECK(narrow.rows_passed == wide.rows_passed);
  // The inner granules of the range need no per-row time check: only the two edge granules
  // read the t column.
  CHECK(narrow.columns.at("t").uncompressed_bytes <= 2 * 64 * 4 * 64);
}

TEST_CASE("too many parts in a partition refuses inserts with ClickHouse's message", "[table]") {
  testing::TempDir dir;
  auto table = Table::create(
      dir.path() / "t",
      "CREATE TABLE ev (t DateTime, k UInt32) ENGINE = MergeTree() PARTITION BY toYYYYMMDD(t) "
      "ORDER BY t SETTINGS parts_to_delay_insert = 2, parts_to_throw_insert = 3");
  auto one = [&](uint32_t k) {
    Block b;
    b.names = {"t", "k"};
    Column t(TypeId::kDateTime), kc(TypeId::kUInt32);
    t.push(static_cast<uint32_t>(kStart));
    kc.push(k);
    b.columns = {t, kc};
    table->insert(b);
  };
  for (uint32_t k = 0; k < 4; ++k) one(k);
  CHECK(table->insert_delay_ms(2) > 0);
  CHECK(table->insert_delay_ms(1) == 0);
  try {
    one(99);
    FAIL("the fifth insert should be refused");
  } catch (const RuntimeError& e) {
    CHECK(std::string(e.what()).find("Too many parts (4)") != std::string::npos);
  }
}

TEST_CASE("TTL drops expired rows during merges", "[table]") {
  testing::TempDir dir;
  auto table = Table::create(
      dir.path() / "t",
      "CREATE TABLE ev (t DateTime, k UInt32) ENGINE = MergeTree() PARTITION BY toYYYYMMDD(t) "
      "ORDER BY t TTL t + INTERVAL 1 DAY");
  Block b;
  b.names = {"t", "k"};
  Column t(TypeId::kDateTime), k(TypeId::kUInt32);
  for (uint32_t idx = 0; idx < 100; ++idx) {
    t.push(static_cast<uint32_t>(kStart + idx * 3600));  // 100 hours
    k.push(idx);
  }
  b.columns = {t, k};
  table->insert(b);
  // At 2024-05-03 00:00 a row expires when t + 1 day <= now, as in ClickHouse: hours 0..24.
  table->optimize(true, kStart + 2 * 86400);
  CHECK(run_sql(*table, "SELECT count(), min(k) FROM ev") == "75\t25\n");
}

TEST_CASE("corrupt and truncated files are named, never crash", "[table][corruption]") {
  testing::TempDir dir;
  auto table = Table::create(dir.path() / "t", kDdl);
  table->insert(to_block(random_rows(5000, 3)));
  const PartPtr part = table->active_parts().front();
  const auto bin = part->dir() / "v.bin";
  {
    std::fstream f(bin, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    char c;
    f.read(&c, 1);
    c ^= 0x55;
    f.seekp(40);
    f.write(&c, 1);
  }
  try {
    run_sql(*table, "SELECT sum(v) FROM ev");
    FAIL("a flipped byte went unnoticed");
  } catch (const CorruptionError& e) {
    CHECK(std::string(e.what()).find("v.bin") != std::string::npos);
    CHECK(std::string(e.what()).find("checksum mismatch") != std::string::npos);
  }
  REQUIRE_THROWS_AS(part->verify_contents(), CorruptionError);
  // A truncated file fails the size check when the table is opened; the part is detached.
  std::filesystem::resize_file(part->dir() / "k.bin", 10);
  table.reset();
  OpenReport report;
  table = Table::open(dir.path() / "t", &report);
  REQUIRE(report.broken.size() == 1);
  CHECK(report.broken[0].find("k.bin: size mismatch") != std::string::npos);
  CHECK(std::filesystem::exists(dir.path() / "t" / "detached" / ("broken_" + part->name())));
}

TEST_CASE("parts of format 3 are still read; an unknown format is named", "[table][format]") {
  testing::TempDir dir;
  auto table = Table::create(dir.path() / "t", kDdl);
  // One insert per day, so that each part stands alone (an insert's parts live or go together).
  const auto rows = random_rows(2000, 5);
  for (uint32_t day = 0; day < 3; ++day) {
    std::vector<Row> of_day;
    std::copy_if(rows.begin(), rows.end(), std::back_inserter(of_day),
                 [&](const Row& r) { return (r.t - kStart) / 86400 == day; });
    table->insert(to_block(of_day));
  }
  const std::string sql = "SELECT g, sum(v), count() FROM ev GROUP BY g ORDER BY g";
  const std::string expected = run_sql(*table, sql);
  std::vector<std::filesystem::path> parts;
  for (const PartPtr& part : table->active_parts()) parts.push_back(part->dir());
  REQUIRE(parts.size() == 3);
  table.reset();
  // Gives part.txt another first line and reseals checksums.txt, as a writer of that format
  // would have left them.
  auto set_format = [](const std::filesystem::path& part, const std::string& line) {
    std::string meta = io::read_file(part / "part.txt");
    meta = line + meta.substr(meta.find('\n'));
    std::ofstream(part / "part.txt", std::ios::binary | std::ios::trunc) << meta;
    const std::string old_sums = io::read_file(part / "checksums.txt");
    std::string sums;
    for (std::string_view entry : split_lines(old_sums)) {
      if (entry.starts_with("self\t")) continue;
      sums += entry.starts_with("part.txt\t") ? fmt::format("part.txt\t{}\t{:016x}", meta.size(),
                                                            XXH3_64bits(meta.data(), meta.size()))
                                              : std::string(entry);
      sums += '\n';
    }
    sums += fmt::format("self\t{:016x}\n", XXH3_64bits(sums.data(), sums.size()));
    std::ofstream(part / "checksums.txt", std::ios::binary | std::ios::trunc) << sums;
  };
  for (const auto& part : parts) set_format(part, "format: shardlab-part-3");
  OpenReport report;
  table = Table::open(dir.path() / "t", &report);
  CHECK(report.broken.empty());
  CHECK(table->active_parts().size() == 3);
  CHECK(run_sql(*table, sql) == expected);
  table.reset();

  set_format(parts[0], "format: shardlab-part-5");
  OpenReport newer;
  table = Table::open(dir.path() / "t", &newer);
  REQUIRE(newer.broken.size() == 1);
  CHECK_THAT(newer.broken[0], Catch::Contains("part.txt") &&
                                  Catch::Contains("unsupported format") &&
                                  Catch::Contains("shardlab-part-5"));
  CHECK(table->active_parts().size() == 2);
}

namespace {

// The part directories of the table at `path`, sorted by name.
std::vector<std::string> part_names(const std::filesystem::path& path) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(path))
    if (PartInfo::parse(e.path().filename().string()))
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("open() rolls back an insert only from its journal", "[table][recovery]") {
  testing::TempDir dir;
  const auto path = dir.path() / "t";
  {
    auto table = Table::create(path, kDdl);
    table->insert(to_block(random_rows(2000, 1)));  // three parts, one insert, blocks 1..3
  }
  const auto names = part_names(path);
  REQUIRE(names.size() == 3);
  // A crash between the renames of one insert leaves its journal, some renamed parts and a
  // tmp_ directory for the rest.
  std::filesystem::create_directories(path / ("tmp_insert_" + names[1]));
  std::filesystem::remove_all(path / names[1]);
  { std::ofstream(path / "insert_1_3.journal") << names[0] << "\n"; }
  OpenReport read_only;
  Table::open(path, &read_only, /*writable=*/false);
  CHECK(read_only.rolled_back.size() == 2);
  CHECK(!read_only.damaged());
  CHECK(std::filesystem::exists(path / "insert_1_3.journal"));  // a read-only open changes nothing

  OpenReport report;
  auto table = Table::open(path, &report);
  CHECK(report.removed_temporary.size() == 1);
  CHECK(report.rolled_back.size() == 2);
  CHECK(!report.damaged());
  CHECK(table->active_parts().empty());
  CHECK(part_names(path).empty());
  CHECK(!std::filesystem::exists(path / "insert_1_3.journal"));
  CHECK(run_sql(*table, "SELECT count() FROM ev") == "0\n");
  // Block numbers of the rolled-back insert are never reused.
  table->insert(to_block(random_rows(10, 2)));
  CHECK(table->active_parts().front()->info().min_block >= 4);
}

TEST_CASE("an acknowledged insert keeps its healthy parts when one is deleted or damaged",
          "[table][recovery]") {
  testing::TempDir dir;
  const auto path = dir.path() / "t";
  std::string all;
  {
    auto table = Table::create(path, kDdl);
    table->insert(to_block(random_rows(2000, 1)));  // three parts, one acknowledged insert
    all = run_sql(*table, "SELECT count() FROM ev");
  }
  const auto names = part_names(path);
  REQUIRE(names.size() == 3);
  SECTION("a deleted part is reported missing") {
    std::filesystem::remove_all(path / names[1]);
    OpenReport report;
    auto table = Table::open(path, &report);
    CHECK(report.rolled_back.empty());
    REQUIRE(report.missing.size() == 1);
    CHECK_THAT(report.missing[0], Catch::Contains("block 2"));
    CHECK(report.damaged());
    CHECK(part_names(path) == std::vector<std::string>{names[0], names[2]});
  }
  SECTION("a damaged part goes to detached/, its siblings stay") {
    std::filesystem::resize_file(path / names[1] / "count.txt", 0);
    OpenReport report;
    auto table = Table::open(path, &report);
    CHECK(report.rolled_back.empty());
    REQUIRE(report.broken.size() == 1);
    CHECK_THAT(report.broken[0], Catch::Contains("count.txt"));
    CHECK(report.missing.empty());
    CHECK(part_names(path) == std::vector<std::string>{names[0], names[2]});
    CHECK(std::filesystem::exists(path / "detached" / ("broken_" + names[1])));
    table.reset();
    OpenReport again;
    table = Table::open(path, &again, /*writable=*/false);
    CHECK(again.broken.empty());
    CHECK(again.detached_broken == std::vector<std::string>{"broken_" + names[1]});
    CHECK(again.damaged());
    CHECK(table->active_parts().size() == 2);
  }
}

TEST_CASE("more damaged parts than max_suspicious_broken_parts refuse the open",
          "[table][recovery]") {
  testing::TempDir dir;
  const auto path = dir.path() / "t";
  {
    auto table = Table::create(path, std::string(kDdl) + ", max_suspicious_broken_parts = 1");
    table->insert(to_block(random_rows(2000, 1)));
  }
  const auto names = part_names(path);
  REQUIRE(names.size() == 3);
  for (size_t i = 0; i < 2; ++i) std::filesystem::remove(path / names[i] / "checksums.txt");
  OpenReport report;
  CHECK_THROWS_WITH(Table::open(path, &report),
                    Catch::Contains("2 damaged parts exceed max_suspicious_broken_parts = 1") &&
                        Catch::Contains("checksums.txt"));
  CHECK(part_names(path).size() == 3);  // nothing moved
  CHECK(!std::filesystem::exists(path / "detached"));
}

TEST_CASE("a part left behind by an interrupted merge is retired on open", "[table][recovery]") {
  testing::TempDir dir;
  const auto path = dir.path() / "t";
  {
    auto table = Table::create(path, kDdl);
    for (uint32_t idx = 0; idx < 3; ++idx) table->insert(to_block(random_rows(500, idx)));
    // Copy one source part aside, merge, then put the copy back as if its removal never ran.
    const PartPtr victim = table->active_parts().front();
    std::filesystem::copy(victim->dir(), dir.path() / "saved",
                          std::filesystem::copy_options::recursive);
    table->optimize(true, kStart);
    std::filesystem::rename(dir.path() / "saved", victim->dir());
  }
  OpenReport report;
  auto table = Table::open(path, &report);
  CHECK(report.removed_outdated.size() == 1);
  CHECK(run_sql(*table, "SELECT count() FROM ev") == "1500\n");
}

TEST_CASE("bad SQL and schema mistakes are input errors with positions", "[table][sql]") {
  testing::TempDir dir;
  auto table = Table::create(dir.path() / "t", kDdl);
  auto error_of = [&](const std::string& sql) -> std::string {
    try {
      Query::prepare(table->schema(), sql);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(error_of("SELECT nope FROM ev").find("unknown column 'nope'") != std::string::npos);
  CHECK(error_of("SELECT frob(k) FROM ev").find("unknown function 'frob'") != std::string::npos);
  CHECK(error_of("SELECT k FROM other").find("unknown table 'other'") != std::string::npos);
  CHECK(error_of("SELECT k, count() FROM ev").find("not under an aggregate function") !=
        std::string::npos);
  CHECK(error_of("SELECT k FROM ev WHERE count() > 1").find("not allowed in WHERE") !=
        std::string::npos);
  CHECK(error_of("SELECT k FROM ev WHERE t > 'yesterday'")
            .find("cannot parse 'yesterday' as DateTime") != std::string::npos);
  CHECK(error_of("SELECT g + 1 FROM ev").find("expects a number") != std::string::npos);
  // A constant that cannot be computed is an input error at its position (found by fuzz_sql).
  CHECK_THAT(error_of("SELECT k FROM ev WHERE 164 > 2 - 100 % 0"),
             Catch::Contains("position 38") && Catch::Contains("Division by zero"));
  REQUIRE_THROWS_AS(
      Table::create(dir.path() / "u", "CREATE TABLE x (a UInt8) ENGINE = MergeTree() ORDER BY b"),
      InputError);
}

TEST_CASE("equality on byte planes agrees with row-by-row evaluation", "[table][planes]") {
  testing::TempDir dir;
  auto table = Table::create(
      dir.path() / "t",
      "CREATE TABLE p (k UInt32, a Int16, b Int64, c UInt64, d Date) ENGINE = MergeTree() "
      "ORDER BY k SETTINGS index_granularity = 128");
  Block block;
  block.names = {"k", "a", "b", "c", "d"};
  Column k(TypeId::kUInt32), a(TypeId::kInt16), b(TypeId::kInt64), c(TypeId::kUInt64),
      d(TypeId::kDate);
  std::mt19937_64 rng(11);
  for (uint32_t row = 0; row < 20000; ++row) {
    k.push(row);
    a.push(static_cast<int16_t>(static_cast<int>(rng() % 21) - 10));
    // Long runs of one value make constant planes; a few large values vary the high planes.
    b.push(row < 10000 ? int64_t{-3}
                       : static_cast<int64_t>(rng() % 5) - (row % 997 == 0 ? int64_t{1} << 40 : 0));
    c.push(row % 3000 == 0 ? uint64_t{1} << 60 : rng() % 300);
    d.push(static_cast<uint16_t>(19844 + row / 5000));
  }
  block.columns = {k, a, b, c, d};
  table->insert(block);
  // The second form hides the equality from the plane path, so both paths are compared.
  for (const std::string cond :
       {"a = -5", "b = -3", "b = -1099511627776", "b = 2", "c = 1152921504606846976", "c = 7",
        "c = 100000", "d = '2024-05-02'", "a = 40000"}) {
    const std::string via_rows = "NOT (" + std::string(cond).replace(cond.find('='), 1, "!=") + ")";
    INFO(cond);
    CHECK(run_sql(*table, "SELECT count(), sum(k) FROM p WHERE " + cond) ==
          run_sql(*table, "SELECT count(), sum(k) FROM p WHERE " + via_rows));
  }
  CHECK(run_sql(*table, "SELECT count() FROM p WHERE b = -3") == "10000\n");
}

TEST_CASE("sparse reads of byte-shuffled columns agree with the rows, constant planes or not",
          "[table][planes]") {
  // Output columns read for the rows a filter on k keeps (late materialisation): 2-, 4- and
  // 8-byte values whose blocks have constant planes (long runs, small values) and varying
  // ones, at selectivities from a few rows a granule to all of them.
  testing::TempDir dir;
  auto table = Table::create(
      dir.path() / "t",
      "CREATE TABLE p (k UInt32, a Int16, b Int64, c UInt64, u UInt32) ENGINE = MergeTree() "
      "ORDER BY k SETTINGS index_granularity = 256");
  Block block;
  block.names = {"k", "a", "b", "c", "u"};
  Column k(TypeId::kUInt32), a(TypeId::kInt16), b(TypeId::kInt64), c(TypeId::kUInt64),
      u(TypeId::kUInt32);
  std::mt19937_64 rng(23);
  constexpr uint32_t kRows = 30000;
  for (uint32_t row = 0; row < kRows; ++row) {
    k.push(row);
    a.push(static_cast<int16_t>(static_cast<int>(rng() % 60001) - 30000));
    b.push(row < 12000 ? int64_t{-7} : static_cast<int64_t>(rng() % 100000) - 50000);
    c.push(row % 4000 == 0 ? uint64_t{1} << 62 : rng() % 70000);
    u.push(static_cast<uint32_t>(rng() % 10'000'000));
  }
  block.columns = {k, a, b, c, u};
  table->insert(block);
  for (const auto& [cond, keep] :
       std::vector<std::pair<std::string, std::function<bool(uint32_t)>>>{
           {"k % 97 = 5", [](uint32_t r) { return r % 97 == 5; }},
           {"k % 3 != 0", [](uint32_t r) { return r % 3 != 0; }},
           {"k < 29999", [](uint32_t r) { return r < 29999; }},
           {"k >= 0", [](uint32_t) { return true; }}}) {
    INFO(cond);
    std::string expected;
    for (uint32_t row = 0; row < kRows; ++row) {
      if (!keep(row)) continue;
      expected += fmt::format("{}\t{}\t{}\t{}\t{}\n", row, a.values<int16_t>()[row],
                              b.values<int64_t>()[row], c.values<uint64_t>()[row],
                              u.values<uint32_t>()[row]);
    }
    CHECK(run_sql(*table, "SELECT k, a, b, c, u FROM p WHERE " + cond + " ORDER BY k") == expected);
  }
}

TEST_CASE("replicas: numbered inserts, parts attached by hard link, merged parts replace sources",
          "[table][replication]") {
  shardlab::testing::TempDir dir;
  auto leader = Table::create(dir.path() / "r1", kDdl);
  auto follower = Table::create(dir.path() / "r2", kDdl);
  const auto rows_a = random_rows(500, 1);
  const auto rows_b = random_rows(500, 2);
  const Block a = to_block(rows_a);
  const Block b = to_block(rows_b);
  // Block numbers come from the shard's log: both tables would agree on part names.
  REQUIRE(leader->partitions_of(a) == 3);
  const InsertResult first = leader->insert(a, 10);
  CHECK(first.parts.front().find("_10_10_0") != std::string::npos);
  const InsertResult second = leader->insert(b, 13);
  CHECK(second.parts.back().find("_15_15_0") != std::string::npos);

  // The follower fetches every part by hard link: one copy on disk, same answers.
  for (const PartPtr& part : leader->active_parts()) REQUIRE(follower->attach_linked(*part));
  for (const PartPtr& part : leader->active_parts()) CHECK_FALSE(follower->attach_linked(*part));
  const std::string sql = "SELECT g, sum(v), count() FROM ev GROUP BY g ORDER BY g";
  CHECK(run_sql(*follower, sql) == run_sql(*leader, sql));
  const PartPtr some = leader->active_parts().front();
  CHECK(std::filesystem::hard_link_count(some->dir() / "checksums.txt") == 2);
  // The attached part is a copy of the source's metadata: the same as loading its directory.
  for (const PartPtr& attached : follower->active_parts()) {
    CHECK(attached->dir().parent_path() == dir.path() / "r2");
    const auto loaded = Part::load(attached->schema(), attached->dir(), attached->info());
    CHECK(attached->rows() == loaded->rows());
    CHECK(attached->granules() == loaded->granules());
    CHECK(attached->bytes_on_disk() == loaded->bytes_on_disk());
    CHECK(attached->ttl_range() == loaded->ttl_range());
    CHECK(attached->insert_first_block() == loaded->insert_first_block());
    CHECK(attached->checksums().size() == loaded->checksums().size());
    REQUIRE(attached->index().size() == loaded->index().size());
    for (size_t k = 0; k < loaded->index().size(); ++k)
      CHECK(attached->index()[k].data == loaded->index()[k].data);
    CHECK(&attached->schema() == &follower->schema());
  }

  // The leader merges; the follower takes the merged part in place of its sources.
  leader->optimize(true, kStart + 86400 * 400);
  REQUIRE(leader->active_parts().size() == 3);
  for (const PartPtr& merged : leader->active_parts()) REQUIRE(follower->attach_linked(*merged));
  CHECK(follower->active_parts().size() == 3);
  CHECK(run_sql(*follower, sql) == run_sql(*leader, sql));
  std::vector<Row> all = rows_a;
  all.insert(all.end(), rows_b.begin(), rows_b.end());
  CHECK(run_sql(*follower, sql) == Reference{all}.sum_by_group());
  CHECK(follower->find_active(leader->active_parts().front()->name()) != nullptr);
}

TEST_CASE("a part directory is removed whole, a nested one too, a missing one quietly",
          "[table][io]") {
  testing::TempDir tmp;
  const auto flat = tmp.path() / "part";
  std::filesystem::create_directories(flat);
  for (const char* name : {"a.bin", "a.mrk", "checksums.txt"}) std::ofstream(flat / name) << name;
  io::remove_flat_directory(flat);
  CHECK_FALSE(std::filesystem::exists(flat));

  const auto nested = tmp.path() / "nested";
  std::filesystem::create_directories(nested / "inner");
  std::ofstream(nested / "inner" / "x") << "x";
  std::ofstream(nested / "y") << "y";
  io::remove_flat_directory(nested);
  CHECK_FALSE(std::filesystem::exists(nested));

  CHECK_NOTHROW(io::remove_flat_directory(tmp.path() / "missing"));
}

TEST_CASE("sparse reads of 1-, 2- and 4-bit codes, from parts of every size, filtered or not",
          "[table][planes]") {
  // a, b and c have 2, 4 and 10 values: their codes pack at 1, 2 and 4 bits. Parts of 100 to
  // 6,000 rows put granule boundaries anywhere relative to the lanes, and a tiny part has
  // granules spanning several lanes. The last query filters on c and reads it back, so the
  // blocks it reads were decoded whole by the filter first.
  testing::TempDir dir;
  auto table =
      Table::create(dir.path() / "p",
                    "CREATE TABLE p (k UInt32, a LowCardinality(String), b LowCardinality(String), "
                    "c LowCardinality(String)) ENGINE = MergeTree() ORDER BY k SETTINGS "
                    "index_granularity = 64");
  std::mt19937 rng(21);
  struct PackedRow {
    uint32_t k;
    std::string a, b, c;
  };
  std::vector<PackedRow> all;
  for (size_t rows : {size_t{100}, size_t{6000}, size_t{13}, size_t{2500}}) {
    Block block;
    block.names = {"k", "a", "b", "c"};
    Column k(TypeId::kUInt32), a(TypeId::kString), b(TypeId::kString), c(TypeId::kString);
    for (size_t idx = 0; idx < rows; ++idx) {
      PackedRow r{static_cast<uint32_t>(rng() % 100000), "a" + std::to_string(rng() % 2),
                  "b" + std::to_string(rng() % 4), "c" + std::to_string(rng() % 10)};
      k.push(r.k);
      a.push_string(r.a);
      b.push_string(r.b);
      c.push_string(r.c);
      all.push_back(r);
    }
    block.columns = {k, string_to_low_cardinality(a), string_to_low_cardinality(b),
                     string_to_low_cardinality(c)};
    table->insert(block);
  }
  auto expect = [&](auto keep) {
    std::map<std::string, size_t> counts;
    for (const PackedRow& r : all)
      if (keep(r)) ++counts[r.a + "\t" + r.b + "\t" + r.c];
    std::string out;
    for (const auto& [key, n] : counts) out += key + "\t" + std::to_string(n) + "\n";
    return out;
  };
  CHECK(run_sql(*table,
                "SELECT a, b, c, count() FROM p WHERE k % 11 = 4 GROUP BY a, b, c "
                "ORDER BY a, b, c") == expect([](const PackedRow& r) { return r.k % 11 == 4; }));
  CHECK(run_sql(*table,
                "SELECT a, b, c, count() FROM p WHERE c IN ('c3', 'c7') AND k % 5 = 1 "
                "GROUP BY a, b, c ORDER BY a, b, c") ==
        expect([](const PackedRow& r) { return (r.c == "c3" || r.c == "c7") && r.k % 5 == 1; }));
}

TEST_CASE("count_selected counts every nonzero mask byte, at any length and alignment",
          "[column]") {
  std::mt19937 rng(9);
  std::vector<uint8_t> mask(8192 + 64);
  for (uint8_t& m : mask) {
    const uint32_t pick = rng() % 8;
    m = pick < 5 ? 0 : pick == 5 ? 1 : pick == 6 ? 2 : 255;
  }
  for (size_t offset : {size_t{0}, size_t{1}, size_t{7}}) {
    for (size_t rows : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{255},
                        size_t{256}, size_t{8192}}) {
      const size_t expected = static_cast<size_t>(std::count_if(
          mask.begin() + offset, mask.begin() + offset + rows, [](uint8_t m) { return m != 0; }));
      CHECK(count_selected(mask.data() + offset, rows) == expected);
    }
  }
}

TEST_CASE("sparse reads of bit-packed codes agree with the rows, across lane boundaries",
          "[table][planes]") {
  // Parts of about 1,000 rows hold one block per column: g's 5 codes pack at 4 bits into two
  // lanes of about 500 values, which 64-row granules straddle.
  testing::TempDir dir;
  auto table = Table::create(dir.path() / "t", kDdl);
  std::vector<Row> all;
  for (uint32_t batch = 0; batch < 3; ++batch) {
    auto rows = random_rows(3000, 40 + batch);
    table->insert(to_block(rows));
    all.insert(all.end(), rows.begin(), rows.end());
  }
  for (uint32_t modulus : {7u, 97u}) {
    std::map<std::string, size_t> counts;
    for (const Row& r : all)
      if (r.k % modulus == 3) ++counts[r.g];
    std::string expected;
    for (const auto& [g, n] : counts) expected += g + "\t" + std::to_string(n) + "\n";
    CHECK(run_sql(*table, fmt::format("SELECT g, count() FROM ev WHERE k % {} = 3 GROUP BY g "
                                      "ORDER BY g",
                                      modulus)) == expected);
  }
}
