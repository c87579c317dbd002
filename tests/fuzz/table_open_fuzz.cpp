// Opening a table from damaged files. One small real table is written once per process: three
// parts (one insert over two partitions, then a second insert) with granules of 4 rows and
// compressed blocks of a few granules, so every part has several marks, index entries and
// blocks. Each input damages one file (or the whole part), then the table is opened read-only,
// queried (count, sums, GROUP BY, a filtered read through the primary index) and verified.
// Every step must succeed or throw CorruptionError, InputError or RuntimeError with a message;
// afterwards the damage is undone.
//
// Input: the first line names the file, as "<part>/<file>" relative to the table (an unknown
// name picks a file by its hash). The next byte is the damage, the rest its payload:
//   '=' the file's new contents are the payload
//   '@' the payload after its first two bytes (a little-endian offset, modulo the file's size
//       plus one) overwrites the file from there
//   '<' the file is cut to the length in the payload's first two bytes (modulo its size plus one)
//   '-' the file is deleted
//   'X' the whole part directory is deleted
// any other byte picks one of these by its value.
//
// A run where the open reports no damage and every step succeeds must also give the undamaged
// table's answers; a silently wrong answer is reported as a bug.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "shardlab/engine/io_settings.h"
#include "shardlab/engine/query.h"
#include "shardlab/engine/table.h"
#include "shardlab/engine/tsv_format.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace engine = shardlab::engine;
namespace fs = std::filesystem;
namespace fuzz = shardlab::fuzz;

constexpr const char* kDdl = R"(CREATE TABLE t (
    k UInt32, d Date, s String, lc LowCardinality(String), x Float64
) ENGINE = MergeTree() PARTITION BY toYYYYMM(d) ORDER BY k
SETTINGS index_granularity = 4, min_compress_block_size = 24, max_compress_block_size = 64)";

constexpr const char* kQueries[] = {
    "SELECT count() FROM t",
    "SELECT sum(k), sum(x), min(d), max(s) FROM t",
    "SELECT lc, count(), sum(x) FROM t GROUP BY lc ORDER BY lc",
    "SELECT k, s, lc FROM t WHERE k >= 40 AND k < 60 ORDER BY k, s",
};

constexpr uint16_t kJanuary2024 = 19723;  // days since 1970-01-01

// Rows i in [from, to): keys spread over 0..99, two months, three LowCardinality values.
engine::Block make_rows(uint32_t from, uint32_t to) {
  engine::Block block;
  block.names = {"k", "d", "s", "lc", "x"};
  engine::Column k(engine::TypeId::kUInt32), d(engine::TypeId::kDate);
  engine::Column s(engine::TypeId::kString), lc(engine::TypeId::kString);
  engine::Column x(engine::TypeId::kFloat64);
  static const char* const kKinds[] = {"click", "view", "buy"};
  for (uint32_t i = from; i < to; ++i) {
    k.push<uint32_t>(i * 37 % 100);
    d.push<uint16_t>(static_cast<uint16_t>(kJanuary2024 + (i % 2) * 31 + i / 8));
    s.push_string("row-" + std::to_string(i));
    lc.push_string(kKinds[i % 3]);
    x.push<double>(i * 0.25);
  }
  block.columns = {std::move(k), std::move(d), std::move(s), engine::string_to_low_cardinality(lc),
                   std::move(x)};
  return block;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The undamaged table: its directory, every part file's contents, and its answers.
struct Pristine {
  fs::path dir;
  std::map<std::string, std::string> files;  // "<part>/<file>" -> contents
  std::vector<std::string> file_names;
  std::vector<std::string> answers;  // per query, TabSeparated
};

std::string run_query(const engine::Table& table, const char* sql) {
  const std::unique_ptr<engine::Query> query = engine::Query::prepare(table.schema(), sql);
  const engine::QueryResult result = query->run(table.active_parts());
  std::string tsv;
  engine::append_tsv(result.columns, &tsv);
  return tsv;
}

// Writes one seed per file, "<part>/<file>\n=" and the file's real contents (the seed corpus of
// this target: regenerate it this way when the format changes).
void write_seeds(const Pristine& pristine, const fs::path& dir) {
  fs::create_directories(dir);
  for (const auto& [name, contents] : pristine.files) {
    std::string seed_name = name;
    std::replace(seed_name.begin(), seed_name.end(), '/', '.');
    fuzz::write_file(dir / seed_name, name + "\n=" + contents);
  }
}

Pristine make_pristine() {
  shardlab::io::set_durable(false);  // scratch data: fsyncs would only cost time
  Pristine pristine;
  pristine.dir = fuzz::scratch_dir() / "t";
  {
    const std::unique_ptr<engine::Table> table = engine::Table::create(pristine.dir, kDdl);
    table->insert(make_rows(0, 48));   // two partitions: two parts of one insert
    table->insert(make_rows(48, 72));  // two more
    for (const char* sql : kQueries) pristine.answers.push_back(run_query(*table, sql));
  }
  for (const auto& part : fs::directory_iterator(pristine.dir)) {
    if (!part.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(part.path())) {
      const std::string name =
          part.path().filename().string() + "/" + file.path().filename().string();
      pristine.files[name] = read_all(file.path());
    }
  }
  for (const auto& [name, contents] : pristine.files) pristine.file_names.push_back(name);
  if (pristine.file_names.empty()) fuzz::report_bug("the pristine table has no part files");
  if (const char* seeds = std::getenv("SHARDLAB_FUZZ_WRITE_SEEDS")) write_seeds(pristine, seeds);
  return pristine;
}

const Pristine& pristine() {
  static const Pristine table = make_pristine();
  return table;
}

uint32_t le16(std::string_view bytes) {
  if (bytes.size() < 2) return bytes.empty() ? 0 : static_cast<uint8_t>(bytes[0]);
  return static_cast<uint8_t>(bytes[0]) | static_cast<uint32_t>(static_cast<uint8_t>(bytes[1]))
                                              << 8;
}

// Applies the damage the input describes.
void damage(std::string_view input) {
  const Pristine& table = pristine();
  const size_t newline = input.find('\n');
  std::string name(input.substr(0, newline));
  std::string_view rest = newline == std::string_view::npos ? "" : input.substr(newline + 1);
  if (!table.files.count(name))
    name = table.file_names[std::hash<std::string>()(name) % table.file_names.size()];
  const std::string& original = table.files.at(name);
  const fs::path path = table.dir / name;
  char kind = rest.empty() ? '=' : rest[0];
  if (!rest.empty()) rest.remove_prefix(1);
  static const char kKinds[] = {'=', '@', '<', '-', 'X'};
  if (std::string_view("=@<-X").find(kind) == std::string_view::npos)
    kind = kKinds[static_cast<uint8_t>(kind) % sizeof(kKinds)];
  switch (kind) {
    case '=':
      fuzz::write_file(path, rest);
      break;
    case '@': {
      std::string contents = original;
      const size_t at = le16(rest) % (original.size() + 1);
      const std::string_view bytes = rest.size() > 2 ? rest.substr(2) : "";
      if (contents.size() < at + bytes.size()) contents.resize(at + bytes.size());
      contents.replace(at, bytes.size(), bytes);
      fuzz::write_file(path, contents);
      break;
    }
    case '<':
      fuzz::write_file(path,
                       std::string_view(original).substr(0, le16(rest) % (original.size() + 1)));
      break;
    case '-':
      fs::remove(path);
      break;
    default:
      fs::remove_all(path.parent_path());
  }
}

// Puts every file back as it was and removes whatever an open may have added.
void restore() {
  const Pristine& table = pristine();
  std::error_code ignored;
  fs::remove_all(table.dir / "detached", ignored);
  for (const auto& [name, contents] : table.files) {
    const fs::path path = table.dir / name;
    fs::create_directories(path.parent_path());
    if (fs::file_size(path, ignored) != contents.size() || read_all(path) != contents)
      fuzz::write_file(path, contents);
  }
}

// Opens, queries and verifies the damaged table; true when every step succeeded.
bool open_query_verify(std::vector<std::string>* answers) {
  std::unique_ptr<engine::Table> table;
  engine::OpenReport report;
  if (!fuzz::expect_clean([&] { table = engine::Table::open(pristine().dir, &report, false); },
                          /*data_errors_ok=*/true))
    return false;
  bool all_ok = !report.damaged();  // a damaged, detached or missing part: answers may be short
  for (const char* sql : kQueries) {
    all_ok &= fuzz::expect_clean([&] { answers->push_back(run_query(*table, sql)); },
                                 /*data_errors_ok=*/true);
  }
  for (const engine::PartPtr& part : table->active_parts())
    all_ok &= fuzz::expect_clean([&] { part->verify_contents(); }, /*data_errors_ok=*/true);
  return all_ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  damage(fuzz::as_text(data, size));
  std::vector<std::string> answers;
  const bool all_ok = open_query_verify(&answers);
  restore();
  if (all_ok && answers != pristine().answers)
    fuzz::report_bug("the damaged table opened, answered and verified, but answered differently");
  return 0;
}
