// Deep and long input: nesting past the parser's depth limit and statements past the element
// limit are input errors naming the position; long flat chains (a OR b OR ..., 1 + 1 + ...)
// parse, analyse and evaluate without recursing once per term; the alias-cycle check counts
// alias hops, not tree levels.
#include <fmt/format.h>
#include <pthread.h>

#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "base/errors.h"
#include "shardlab/engine/parser.h"
#include "shardlab/engine/query.h"
#include "shardlab/engine/table.h"
#include "shardlab/engine/table_schema.h"
#include "shardlab/engine/tsv_format.h"
#include "tests/engine/test_util.h"

using namespace shardlab;
using namespace shardlab::engine;

namespace {

// k = 0..999, v = k % 7 - 3.
class SmallTable {
 public:
  SmallTable() {
    table_ = Table::create(dir_.path() / "d",
                           "CREATE TABLE d (k UInt32, v Int64) ENGINE = MergeTree() ORDER BY k "
                           "SETTINGS index_granularity = 64");
    Block block;
    block.names = {"k", "v"};
    Column k(TypeId::kUInt32), v(TypeId::kInt64);
    for (uint32_t row = 0; row < 1000; ++row) {
      k.push(row);
      v.push(static_cast<int64_t>(row % 7) - 3);
    }
    block.columns = {k, v};
    table_->insert(block);
  }

  std::unique_ptr<Query> prepare(const std::string& query) const {
    return Query::prepare(table_->schema(), query);
  }
  std::string run(const Query& prepared) const {
    const QueryResult result = prepared.run(table_->active_parts(), 1);
    std::string out;
    append_tsv(result.columns, &out);
    return out;
  }

  // The answer as TabSeparated text.
  std::string sql(const std::string& query, unsigned threads = 2) const {
    auto prepared = Query::prepare(table_->schema(), query);
    const QueryResult result = prepared->run(table_->active_parts(), threads);
    std::string out;
    append_tsv(result.columns, &out);
    return out;
  }

  // The input error the query gives, or "" if it gives none.
  std::string error(const std::string& query) const {
    try {
      sql(query);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }

 private:
  testing::TempDir dir_;
  std::unique_ptr<Table> table_;
};

std::string repeat(std::string_view text, size_t times) {
  std::string out;
  out.reserve(text.size() * times);
  for (size_t idx = 0; idx < times; ++idx) out += text;
  return out;
}

// `count` terms made by term(i), joined by `separator`.
std::string chain(size_t count, const std::function<std::string(size_t)>& term,
                  std::string_view separator) {
  std::string out;
  for (size_t idx = 0; idx < count; ++idx) {
    if (idx > 0) out += separator;
    out += term(idx);
  }
  return out;
}

std::string parse_error(const std::function<void()>& parse) {
  try {
    parse();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs `fn` on a thread of `stack_bytes` of stack; returns its exception's message or "".
// A stack overflow would kill the test process, which is the failure this guards against.
std::string on_stack_of(size_t stack_bytes, const std::function<void()>& fn) {
  struct Job {
    const std::function<void()>* fn;
    std::string error;
  } job{&fn, ""};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  pthread_t thread;
  const int rc = pthread_create(
      &thread, &attr,
      [](void* arg) -> void* {
        auto* j = static_cast<Job*>(arg);
        try {
          (*j->fn)();
        } catch (const std::exception& e) {
          j->error = e.what();
        }
        return nullptr;
      },
      &job);
  pthread_attr_destroy(&attr);
  REQUIRE(rc == 0);
  pthread_join(thread, nullptr);
  return job.error;
}

}  // namespace

TEST_CASE("nesting deeper than max_parser_depth is an input error at its position", "[sql][deep]") {
  const auto select = [](const std::string& sql) { return [sql] { parse_select(sql); }; };
  // Depth 1 is the whole expression; each parenthesis adds a level.
  CHECK(parse_error(select("SELECT " + repeat("(", 999) + "1" + repeat(")", 999) + " FROM t")) ==
        "");
  const std::string over =
      parse_error(select("SELECT " + repeat("(", 1000) + "1" + repeat(")", 1000) + " FROM t"));
  CHECK(contains(over, "position 1008 (line 1, column 1008)"));
  CHECK(contains(over, "more than 1000 levels deep"));
  CHECK(contains(over, "max_parser_depth"));
  // The cases of issue 20, which overflowed the stack.
  const std::string parens =
      parse_error(select("SELECT " + repeat("(", 10'000) + "1" + repeat(")", 10'000) + " FROM t"));
  CHECK(contains(parens, "position 1008"));
  CHECK(parens.size() < 600);  // the excerpt of the line is cut around the position
  const std::string minus = parse_error(select("SELECT " + repeat("- ", 50'000) + "1 FROM t"));
  CHECK(contains(minus, "position 2006"));
  CHECK(contains(minus, "max_parser_depth"));
  const std::string dates = parse_error(
      select("SELECT " + repeat("toDate(", 15'000) + "t" + repeat(")", 15'000) + " FROM t"));
  CHECK(contains(dates, "position 7008"));
  const std::string nots = parse_error(select("SELECT " + repeat("NOT ", 5000) + "1 FROM t"));
  CHECK(contains(nots, "position 4004"));
  // Sharding keys and DDL expressions go through parse_expression.
  const std::string hashes = parse_error(
      [] { parse_expression(repeat("cityHash64(", 20'000) + "user_id" + repeat(")", 20'000)); });
  CHECK(contains(hashes, "position 11001"));
  const std::string open = parse_error([] { parse_expression(repeat("(", 100'000)); });
  CHECK(contains(open, "position 1001"));
}

TEST_CASE("a statement of more than max_ast_elements elements is an input error", "[sql][deep]") {
  // Issue 20's 10 MB filter: 600,000 OR terms of three elements each.
  const std::string prefix = "SELECT count() FROM d WHERE ";
  const std::string sql =
      prefix + chain(
                   600'000, [](size_t) { return std::string("k = 123456"); }, " OR ");
  REQUIRE(sql.size() > 8'000'000);
  const std::string error = parse_error([&] { parse_select(sql); });
  // count() is element 1, the first term 2 to 4, OR 5; term t >= 2 adds elements 3t (k),
  // 3t + 1 and 3t + 2. Element 500,001 is the k of term 166,667, 14 characters a term.
  const size_t term_offset = prefix.size() + 14 * 166'666;
  CHECK(contains(error, fmt::format("position {} ", term_offset + 1)));
  CHECK(contains(error, "more than 500000 expression elements"));
  CHECK(contains(error, "max_ast_elements"));
  CHECK(error.size() < 600);
}

TEST_CASE("issue 20's ordinary queries are not alias cycles", "[sql][deep]") {
  const SmallTable t;
  // 34 terms of 1 + 1 + ...
  CHECK(t.sql("SELECT " +
              chain(
                  34, [](size_t) { return std::string("1"); }, " + ") +
              " FROM d LIMIT 1") == "34\n");
  // 40 ORed conditions: k = 0, 25, 50, ..., 975 each match one row.
  CHECK(t.sql("SELECT count() FROM d WHERE " +
              chain(
                  40, [](size_t i) { return fmt::format("k = {}", 25 * i); }, " OR ")) == "40\n");
  // 100 NOTs: an even number, so the condition itself.
  CHECK(t.sql("SELECT count() FROM d WHERE " + repeat("NOT ", 100) + "k < 10") == "10\n");
  CHECK(t.sql("SELECT " + repeat("NOT ", 101) + "1 FROM d LIMIT 1") == "0\n");
}

TEST_CASE("alias cycles count hops between aliases, however deep the expressions", "[sql][deep]") {
  const SmallTable t;
  CHECK(contains(t.error("SELECT a + 1 AS b, b + 1 AS a FROM d"),
                 "aliases refer to each other in a cycle"));
  CHECK(contains(t.error("SELECT b * 2 AS a, c - 1 AS b, k + a AS c FROM d"),
                 "aliases refer to each other in a cycle"));
  // A chain of 200 aliases, each one hop from the one before: no cycle.
  std::string items = "k AS a0";
  for (int idx = 1; idx <= 200; ++idx) items += fmt::format(", a{} + 1 AS a{}", idx - 1, idx);
  const std::string answer = t.sql("SELECT " + items + " FROM d WHERE k = 5");
  CHECK(answer.substr(answer.rfind('\t') + 1) == "205\n");
  // Deep expressions between aliases are fine too.
  CHECK(t.sql("SELECT " +
              chain(
                  300, [](size_t) { return std::string("k"); }, " + ") +
              " AS s, s + 1 AS u FROM d WHERE k = 2") == "600\t601\n");
  // Aliases can double a statement at each hop: the expanded size is limited as well.
  std::string doubling = "k AS a0";
  for (int idx = 1; idx <= 40; ++idx)
    doubling += fmt::format(", a{0} + a{0} AS a{1}", idx - 1, idx);
  const std::string blown = t.error("SELECT " + doubling + " FROM d");
  CHECK(contains(blown, "with its aliases substituted"));
  CHECK(contains(blown, "max_ast_elements"));
}

TEST_CASE("long flat chains parse, analyse and evaluate without deep recursion", "[sql][deep]") {
  const SmallTable t;
  // 100,000 ORed conditions (300,001 elements, under the limit): the even k.
  CHECK(t.sql("SELECT count() FROM d WHERE " +
              chain(
                  100'000, [](size_t i) { return fmt::format("k = {}", 2 * i); }, " OR ")) ==
        "500\n");
  // 100,000 ANDed conditions, each true for every row.
  CHECK(t.sql("SELECT count() FROM d WHERE " +
              chain(
                  100'000, [](size_t i) { return fmt::format("k != {}", 1000 + i); }, " AND ")) ==
        "1000\n");
  // A constant chain folds at analysis: 100,000 nested plus() calls.
  CHECK(t.sql("SELECT " +
              chain(
                  100'000, [](size_t) { return std::string("1"); }, " + ") +
              " FROM d LIMIT 1") == "100000\n");
  // A chain over a column is evaluated block by block along its spine.
  CHECK(t.sql("SELECT max(" +
              chain(
                  100'000, [](size_t) { return std::string("k"); }, " + ") +
              ") FROM d") == "99900000\n");
  CHECK(t.sql("SELECT " +
              chain(
                  50'000, [](size_t) { return std::string("v"); }, " - ") +
              " FROM d WHERE k = 6") == "-149994\n");
  CHECK(t.sql("SELECT count() FROM d WHERE k IN (" +
              chain(
                  100'000, [](size_t i) { return std::to_string(3 * i); }, ", ") +
              ")") == "334\n");
  CHECK(t.sql("SELECT cityHash64(" +
              chain(
                  20'000, [](size_t) { return std::string("k"); }, ", ") +
              ") = cityHash64(" +
              chain(
                  20'000, [](size_t) { return std::string("k"); }, ", ") +
              ") FROM d WHERE k = 1") == "1\n");
}

TEST_CASE("a partition key of a long chain is accepted", "[sql][deep]") {
  // 100,000 terms: the schema's column collection walks the chain without recursion.
  const TableSchema schema =
      TableSchema::from_ddl("CREATE TABLE p (k UInt32) ENGINE = MergeTree() PARTITION BY (" +
                            chain(
                                100'000, [](size_t) { return std::string("k"); }, " + ") +
                            ") % 4 ORDER BY k");
  CHECK(schema.minmax_columns.size() == 1);
}

TEST_CASE("the deepest accepted expressions fit the stacks they run on", "[sql][deep]") {
  // Queries are parsed and analysed on the main thread (8 MiB of stack) and evaluated on query
  // threads too, which get the stack limit, or 2 MiB when it is unlimited (glibc). Measured on
  // a Release build at depth 999: parsing takes about 1.75 MiB, evaluation under 128 KiB, or
  // 1 MiB where calls of more than two arguments nest 998 deep. AddressSanitizer's redzones
  // make the parser's frames several times larger: its suite runs with a 64 MiB stack limit
  // (scripts/test.sh), and the thread stacks here scale the same way.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  constexpr size_t kScale = 16;
#else
  constexpr size_t kScale = 1;
#endif
  constexpr size_t kPrepareStack = kScale * 3 << 20;
  constexpr size_t kRunStack = kScale * 3 << 19;
  const SmallTable t;
  const auto deepest = [](const std::string& open, const std::string& inner,
                          const std::string& close) {
    return repeat(open, 998) + inner + repeat(close, 998);
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SELECT count() FROM d WHERE " + deepest("intHash64(", "k", ")") + " != 0", "1000\n"},
      {"SELECT count() FROM d WHERE " + repeat("NOT ", 998) + "k < 10", "10\n"},
      {"SELECT sum(" + deepest("k + (", "k", ")") + ") FROM d", "499000500\n"},
      {"SELECT " + deepest("(1 + ", "1", ")") + " FROM d LIMIT 1", "999\n"},
      {"SELECT count() FROM d WHERE " + deepest("(k < 500) AND (", "k > 10", ")"), "489\n"},
      // Calls of more than two arguments evaluate theirs by recursion, once per nesting level.
      {"SELECT count() FROM d WHERE " + deepest("k = 1 OR k = 2 OR (", "k = 3", ")"), "3\n"},
      {"SELECT count() FROM d WHERE " + deepest("cityHash64(k, 1, ", "k", ")") + " != 0", "1000\n"},
  };
  for (const auto& [query, answer] : cases) {
    std::unique_ptr<Query> prepared;
    CHECK(on_stack_of(kPrepareStack, [&] { prepared = t.prepare(query); }) == "");
    REQUIRE(prepared);
    std::string got;
    CHECK(on_stack_of(kRunStack, [&] { got = t.run(*prepared); }) == "");
    CHECK(got == answer);
    // Freeing the trees recurses no deeper than building them.
    CHECK(on_stack_of(kRunStack, [&] { prepared.reset(); }) == "");
  }
}
