#include "engine/functions/city_hash.h"

#include <catch2/catch.hpp>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef SHARDLAB_TESTDATA_DIR
#define SHARDLAB_TESTDATA_DIR "../shared/testdata"
#endif

namespace shardlab::engine {
namespace {

// The hashes are usable in constant expressions (e.g. for precomputed shard keys).
static_assert(city_hash64_of_int<uint64_t>(0) == 4761183170873013810ULL);
static_assert(int_hash64(1) == 10577349846663553072ULL);

std::vector<std::string_view> split(std::string_view text, char sep, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    const size_t pos = text.find(sep);
    if (pos == std::string_view::npos) break;
    parts.push_back(text.substr(0, pos));
    text.remove_prefix(pos + 1);
  }
  parts.push_back(text);
  return parts;
}

template <typename T>
bool parse_number(std::string_view text, T* out) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

template <typename T>
bool hash_int_arg(std::string_view text, uint64_t* hash) {
  T value;
  if (!parse_number(text, &value)) return false;
  *hash = city_hash64_of_int<T>(value);
  return true;
}

// Hashes one textual argument the way ClickHouse hashes a value of the named type.
// Returns false for an unknown type or an unparsable value.
bool hash_arg(std::string_view kind, std::string_view text, uint64_t* hash) {
  if (kind == "String") {
    *hash = city_hash64(text);
    return true;
  }
  if (kind == "UInt8") return hash_int_arg<uint8_t>(text, hash);
  if (kind == "UInt16" || kind == "Date") return hash_int_arg<uint16_t>(text, hash);
  if (kind == "UInt32" || kind == "DateTime") return hash_int_arg<uint32_t>(text, hash);
  if (kind == "UInt64") return hash_int_arg<uint64_t>(text, hash);
  if (kind == "Int8") return hash_int_arg<int8_t>(text, hash);
  if (kind == "Int16") return hash_int_arg<int16_t>(text, hash);
  if (kind == "Int32") return hash_int_arg<int32_t>(text, hash);
  if (kind == "Int64") return hash_int_arg<int64_t>(text, hash);
  return false;
}

std::string repeat(std::string_view piece, size_t times) {
  std::string out;
  out.reserve(piece.size() * times);
  for (size_t i = 0; i < times; ++i) out += piece;
  return out;
}

}  // namespace

TEST_CASE("cityHash64 and intHash64 match every vector from ClickHouse 18.16.1", "[city_hash]") {
  const std::string path = std::string(SHARDLAB_TESTDATA_DIR) + "/cityhash64_vectors.tsv";
  INFO("vector file: " << path);
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.is_open());

  size_t rows = 0;
  size_t multi_arg_rows = 0;
  size_t int_hash_rows = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    ++rows;
    INFO("row " << rows << ": " << line);

    // kind <TAB> argument(s) <TAB> cityHash64 [<TAB> intHash64]. String arguments may contain
    // commas, so the argument list is split only into as many parts as there are kinds.
    const std::vector<std::string_view> fields = split(line, '\t', 4);
    REQUIRE((fields.size() == 3 || fields.size() == 4));
    const std::vector<std::string_view> kinds = split(fields[0], ',', SIZE_MAX);
    const std::vector<std::string_view> args = split(fields[1], ',', kinds.size());
    REQUIRE(args.size() == kinds.size());
    uint64_t expected_city = 0;
    REQUIRE(parse_number(fields[2], &expected_city));

    uint64_t running = 0;
    for (size_t i = 0; i < kinds.size(); ++i) {
      uint64_t h = 0;
      REQUIRE(hash_arg(kinds[i], args[i], &h));
      running = i == 0 ? h : combine_hashes(running, h);
    }
    CHECK(running == expected_city);
    if (kinds.size() > 1) ++multi_arg_rows;

    if (fields.size() == 4) {
      uint64_t value = 0;
      uint64_t expected_int = 0;
      REQUIRE(kinds.size() == 1);
      REQUIRE(parse_number(args[0], &value));
      REQUIRE(parse_number(fields[3], &expected_int));
      CHECK(int_hash64(value) == expected_int);
      ++int_hash_rows;
    }
  }
  // Guards against a truncated or emptied file silently passing.
  CHECK(rows >= 219);
  CHECK(multi_arg_rows >= 3);
  CHECK(int_hash_rows >= 14);
}

TEST_CASE("city_hash64 covers every CityHash v1.0.2 length path", "[city_hash]") {
  // Values from the vector file, pinned here so a wrong file path cannot hide a regression.
  CHECK(city_hash64("", 0) == 11160318154034397263ULL);
  CHECK(city_hash64(nullptr, 0) == 11160318154034397263ULL);
  CHECK(city_hash64("The", 3) == 9456065179546978676ULL);
  CHECK(city_hash64("The quick", 9) == 15693689613497209625ULL);
  CHECK(city_hash64("The quick brown fox jumps over the lazy dog") == 16697807905646383735ULL);
  CHECK(city_hash64("\xE5\x8C\x97\xE4\xBA\xAC") == 10367651947774127841ULL);  // 北京
}

// Every expected value below was returned by a real ClickHouse 18.16.1 server (Debian package
// clickhouse-server 18.16.1+ds, server time zone UTC) for `SELECT <sql>`.
TEST_CASE("cityHash64 of typed and multiple arguments matches ClickHouse 18.16.1", "[city_hash]") {
  struct ServerVector {
    const char* sql;
    uint64_t ours;
    uint64_t server;
  };
  const ServerVector kVectors[] = {
      // Signed integers: the bits are zero-extended, so -1 hashes like the unsigned maximum.
      {"cityHash64(toInt8(-1))", city_hash64_of_int<int8_t>(-1), 8055013221972926055ULL},
      {"cityHash64(-1)", city_hash64_of_int<int8_t>(-1), 8055013221972926055ULL},
      {"cityHash64(toInt8(-128))", city_hash64_of_int<int8_t>(-128), 10573636647639147473ULL},
      {"cityHash64(toInt8(127))", city_hash64_of_int<int8_t>(127), 6947037243239945742ULL},
      {"cityHash64(toInt16(-1))", city_hash64_of_int<int16_t>(-1), 6547939410751295652ULL},
      {"cityHash64(toInt16(-300))", city_hash64_of_int<int16_t>(-300), 764491623834447718ULL},
      {"cityHash64(toInt32(-1))", city_hash64_of_int<int32_t>(-1), 9168733277332772950ULL},
      {"cityHash64(toInt32(-123456))", city_hash64_of_int<int32_t>(-123456),
       1395566535042696914ULL},
      {"cityHash64(toInt64(-1))", city_hash64_of_int<int64_t>(-1), 14600443904207254319ULL},
      {"cityHash64(toInt64(-42))", city_hash64_of_int<int64_t>(-42), 1944804401150185880ULL},
      {"cityHash64(toInt64(-9223372036854775808))", city_hash64_of_int<int64_t>(INT64_MIN),
       7378616448805205431ULL},
      // Narrow unsigned integers.
      {"cityHash64(toUInt8(0))", city_hash64_of_int<uint8_t>(0), 4761183170873013810ULL},
      {"cityHash64(toUInt8(200))", city_hash64_of_int<uint8_t>(200), 14204231057850003148ULL},
      {"cityHash64(toUInt8(255))", city_hash64_of_int<uint8_t>(255), 8055013221972926055ULL},
      {"cityHash64(toUInt16(1000))", city_hash64_of_int<uint16_t>(1000), 11665508437937700255ULL},
      {"cityHash64(toUInt16(65535))", city_hash64_of_int<uint16_t>(65535), 6547939410751295652ULL},
      {"cityHash64(toUInt32(100000))", city_hash64_of_int<uint32_t>(100000),
       13709815420050784730ULL},
      {"cityHash64(toUInt32(4294967295))", city_hash64_of_int<uint32_t>(4294967295U),
       9168733277332772950ULL},
      // Floats hash their IEEE-754 bits.
      {"cityHash64(toFloat64(0))", city_hash64_of_float(0.0), 4761183170873013810ULL},
      {"cityHash64(toFloat64(-0.0))", city_hash64_of_float(-0.0), 7378616448805205431ULL},
      {"cityHash64(toFloat64(1.5))", city_hash64_of_float(1.5), 7287324520655339053ULL},
      {"cityHash64(toFloat64(-2.5))", city_hash64_of_float(-2.5), 11870588638301440237ULL},
      {"cityHash64(toFloat64(3.141592653589793))", city_hash64_of_float(3.141592653589793),
       3190576580093197310ULL},
      {"cityHash64(toFloat32(1.5))", city_hash64_of_float(1.5f), 17641193269776743632ULL},
      {"cityHash64(toFloat32(-0.25))", city_hash64_of_float(-0.25f), 16104544933135762999ULL},
      // Date is a UInt16 day number and DateTime a UInt32 Unix time (server time zone UTC):
      // toUInt16(toDate('2024-05-01')) = 19844, toUInt32(toDateTime('2024-05-01 00:00:00')) =
      // 1714521600, toUInt32(toDateTime('2024-05-01 12:34:56')) = 1714566896.
      {"cityHash64(toDate('2024-05-01'))", city_hash64_of_int<uint16_t>(19844),
       9539211450251481680ULL},
      {"cityHash64(toDate('1970-01-01'))", city_hash64_of_int<uint16_t>(0), 4761183170873013810ULL},
      {"cityHash64(toDateTime('2024-05-01 00:00:00'))", city_hash64_of_int<uint32_t>(1714521600),
       10875065163491508480ULL},
      {"cityHash64(toDateTime('2024-05-01 12:34:56'))", city_hash64_of_int<uint32_t>(1714566896),
       16994914867092399115ULL},
      // Long strings: many 64-byte blocks, and exactly 64 bytes (the last short-path length).
      {"cityHash64(arrayStringConcat(arrayMap(x -> 'abcdefg', range(300))))",
       city_hash64(repeat("abcdefg", 300)), 1680856743196880363ULL},
      {"cityHash64(arrayStringConcat(arrayMap(x -> 'x', range(64))))",
       city_hash64(std::string(64, 'x')), 6437053381938498259ULL},
      // Several arguments fold left to right into the running hash.
      {"cityHash64(toInt8(-1), toInt8(-1))",
       combine_hashes(city_hash64_of_int<int8_t>(-1), city_hash64_of_int<int8_t>(-1)),
       9867395006783657255ULL},
      {"cityHash64('', '')", combine_hashes(city_hash64(""), city_hash64("")),
       857056678345777455ULL},
      {"cityHash64(toUInt8(1), toUInt8(2), toUInt8(3))",
       combine_hashes(
           combine_hashes(city_hash64_of_int<uint8_t>(1), city_hash64_of_int<uint8_t>(2)),
           city_hash64_of_int<uint8_t>(3)),
       5148486779656494228ULL},
      {"cityHash64('a', 'b', 'c')",
       combine_hashes(combine_hashes(city_hash64("a"), city_hash64("b")), city_hash64("c")),
       9684406651005280037ULL},
      {"cityHash64(toUInt64(1001), 'click', toDate('2024-05-01'))",
       combine_hashes(combine_hashes(city_hash64_of_int<uint64_t>(1001), city_hash64("click")),
                      city_hash64_of_int<uint16_t>(19844)),
       12362918103661308806ULL},
      {"cityHash64(toInt32(-5), 'x', toFloat64(2.5))",
       combine_hashes(combine_hashes(city_hash64_of_int<int32_t>(-5), city_hash64("x")),
                      city_hash64_of_float(2.5)),
       15467845659352450772ULL},
      // The SQL intHash64 converts by value, so it sign-extends where cityHash64 does not.
      {"intHash64(toInt8(-1))", int_hash64(static_cast<uint64_t>(int8_t{-1})),
       14600443904207254319ULL},
      {"intHash64(toInt32(-1))", int_hash64(static_cast<uint64_t>(int32_t{-1})),
       14600443904207254319ULL},
      {"intHash64(toUInt8(255))", int_hash64(255), 8055013221972926055ULL},
      {"intHash64(toUInt32(4294967295))", int_hash64(4294967295ULL), 9168733277332772950ULL},
  };
  for (const ServerVector& v : kVectors) {
    INFO("SELECT " << v.sql);
    CHECK(v.ours == v.server);
  }
}

TEST_CASE("combine_hashes is the ordered Hash128to64 of (running, next)", "[city_hash]") {
  const uint64_t one = city_hash64_of_int<uint8_t>(1);
  const uint64_t two = city_hash64_of_int<uint8_t>(2);
  CHECK(combine_hashes(one, two) == hash128_to_64(one, two));
  CHECK(combine_hashes(one, two) == 463667963421364848ULL);  // cityHash64(toUInt8(1), toUInt8(2))
  CHECK(combine_hashes(two, one) != combine_hashes(one, two));
}

}  // namespace shardlab::engine
