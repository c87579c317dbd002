#include "results/summary_writer.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "base/errors.h"
#include "engine/common/file_io.h"
#include "base/atomic_file.h"
#include "results/number_format.h"
#include "tests/engine/test_util.h"

using namespace shardlab::results;
using namespace shardlab::base;
namespace fs = std::filesystem;

namespace {

// Files in `dir` other than the expected ones: leftovers of a failed or abandoned write.
int count_entries(const fs::path& dir) {
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++entries;
  return entries;
}

Json sample_document() {
  LatencyHistogram latency;
  latency.record(1000000, 98);  // 1 ms
  latency.record(5000000, 2);   // 5 ms
  std::vector<double> replications = {1, 2, 3, 4, 5};
  Json doc = Json::object();
  doc["scenario"] = "smoke \"tiny\"";
  doc["seed"] = 42;
  doc["sum"] = 0.1 + 0.2;
  doc["whole"] = 2.0;
  doc["big"] = 1e16;
  doc["tiny"] = 1.5e-7;
  doc["not_a_number"] = std::numeric_limits<double>::quiet_NaN();
  doc["flags"] = Json::array({true, false, nullptr});
  doc["empty_object"] = Json::object();
  doc["empty_array"] = Json::array();
  doc["queries"]["top10"] = latency_json(latency, 3);
  doc["queries"]["none"] = latency_json(LatencyHistogram());
  doc["replicated"] = interval_json(mean_interval(replications));
  return doc;
}

constexpr const char* kSampleText =
    "{\n"
    "  \"scenario\": \"smoke \\\"tiny\\\"\",\n"
    "  \"seed\": 42,\n"
    "  \"sum\": 0.3,\n"
    "  \"whole\": 2.0,\n"
    "  \"big\": 1e+16,\n"
    "  \"tiny\": 1.5e-07,\n"
    "  \"not_a_number\": null,\n"
    "  \"flags\": [\n"
    "    true,\n"
    "    false,\n"
    "    null\n"
    "  ],\n"
    "  \"empty_object\": {},\n"
    "  \"empty_array\": [],\n"
    "  \"queries\": {\n"
    "    \"top10\": {\n"
    "      \"count\": 100,\n"
    "      \"errors\": 3,\n"
    "      \"latency_s\": {\n"
    "        \"mean\": 0.00108,\n"
    "        \"p50\": 0.001001471,\n"
    "        \"p90\": 0.001001471,\n"
    "        \"p99\": 0.004997119,\n"
    "        \"p999\": 0.005,\n"
    "        \"max\": 0.005\n"
    "      }\n"
    "    },\n"
    "    \"none\": {\n"
    "      \"count\": 0,\n"
    "      \"latency_s\": {\n"
    "        \"mean\": null,\n"
    "        \"p50\": null,\n"
    "        \"p90\": null,\n"
    "        \"p99\": null,\n"
    "        \"p999\": null,\n"
    "        \"max\": null\n"
    "      }\n"
    "    }\n"
    "  },\n"
    "  \"replicated\": {\n"
    "    \"mean\": 3.0,\n"
    "    \"ci95_low\": 1.03675684,\n"
    "    \"ci95_high\": 4.96324316,\n"
    "    \"n\": 5\n"
    "  }\n"
    "}\n";

}  // namespace

TEST_CASE("number format: rounded to 9 significant digits, shortest form", "[results][format]") {
  CHECK(kSignificantDigits == 9);
  CHECK(format_number(0.1 + 0.2) == "0.3");
  CHECK(format_number(2.0) == "2");
  CHECK(format_number(-0.0) == "0");
  CHECK(format_number(2.0 / 3.0) == "0.666666667");
  CHECK(format_number(1234567.0 / 1e9) == "0.001234567");
  CHECK(format_number(12345.6789012) == "12345.6789");
  CHECK(format_number(123456789012.0) == "123456789000");
  CHECK(format_number(0.0001) == "0.0001");
  CHECK(format_number(0.00001) == "1e-05");
  CHECK(format_number(-2.5e-9) == "-2.5e-09");
  CHECK(format_number(1e15) == "1000000000000000");
  CHECK(format_number(1e16) == "1e+16");
  CHECK(format_number(std::numeric_limits<double>::infinity()).empty());
  CHECK(format_number(std::nan("")).empty());
  CHECK(round_significant(0.30000000000000004) == 0.3);
  CHECK(round_significant(round_significant(2.0 / 3.0)) == round_significant(2.0 / 3.0));
}

TEST_CASE("exact seconds from nanoseconds", "[results][format]") {
  CHECK(format_seconds(0) == "0");
  CHECK(format_seconds(1500000000) == "1.5");
  CHECK(format_seconds(250000) == "0.00025");
  CHECK(format_seconds(1) == "0.000000001");
  CHECK(format_seconds(-1) == "-0.000000001");
  CHECK(format_seconds(86400000000000) == "86400");
  CHECK(format_seconds(std::numeric_limits<int64_t>::min()) == "-9223372036.854775808");
}

TEST_CASE("summary JSON: exact text, stable bytes", "[results][json]") {
  const std::string text = render_json(sample_document());
  CHECK(text == kSampleText);
  CHECK(render_json(sample_document()) == text);
  // What is written reads back as the same document (up to the rounding).
  const Json back = Json::parse(text);
  CHECK(back["queries"]["top10"]["latency_s"]["max"].get<double>() == 0.005);
  CHECK(back["whole"].is_number_float());
  CHECK(render_json(Json::object()) == "{}\n");
  CHECK(render_json(Json(1.0 / 3.0)) == "0.333333333\n");
}

TEST_CASE("summary JSON: invalid UTF-8 is replaced, not fatal", "[results][json]") {
  Json doc = Json::object();
  doc["name"] = std::string("bad \xff byte");
  CHECK(render_json(doc) == "{\n  \"name\": \"bad \xEF\xBF\xBD byte\"\n}\n");
}

TEST_CASE("atomic writes publish whole files and leave nothing behind", "[results][io]") {
  shardlab::testing::TempDir dir;
  const fs::path path = dir.path() / "summary.json";
  write_json(path, sample_document());
  CHECK(shardlab::io::read_file(path) == kSampleText);
  write_file_atomically(path, "second\n");
  CHECK(shardlab::io::read_file(path) == "second\n");
  CHECK(count_entries(dir.path()) == 1);

  SECTION("an abandoned write leaves the old content") {
    {
      AtomicFile file(path);
      file.append("half of a");
      CHECK(fs::exists(file.temp_path()));
      CHECK(shardlab::io::read_file(path) == "second\n");
    }
    CHECK(shardlab::io::read_file(path) == "second\n");
    CHECK(count_entries(dir.path()) == 1);
  }
  SECTION("large content streams through the buffer") {
    std::string big;
    for (int line = 0; line < 100000; ++line) big += std::to_string(line) + ",x\n";
    AtomicFile file(path);
    for (size_t offset = 0; offset < big.size(); offset += 1000) {
      file.append(std::string_view(big).substr(offset, 1000));
    }
    file.commit();
    CHECK(shardlab::io::read_file(path) == big);
  }
}

TEST_CASE("atomic write failures name the path", "[results][io]") {
  shardlab::testing::TempDir dir;
  SECTION("missing directory") {
    const fs::path path = dir.path() / "no" / "such" / "summary.json";
    CHECK_THROWS_AS(write_json(path, Json::object()), shardlab::RuntimeError);
    CHECK_THROWS_WITH(write_json(path, Json::object()),
                      "cannot write '" + path.string() + "': cannot create temporary file '" +
                          path.string() + ".tmp." + std::to_string(::getpid()) +
                          "': No such file or directory");
  }
  SECTION("the destination is a directory: the rename fails, the temp file goes") {
    const fs::path path = dir.path() / "taken";
    fs::create_directories(path / "inside");
    CHECK_THROWS_WITH(
        write_file_atomically(path, "x"),
        Catch::StartsWith("cannot write '" + path.string() + "': cannot rename temporary file '"));
    CHECK(fs::is_directory(path / "inside"));
    CHECK(count_entries(dir.path()) == 1);
  }
}
