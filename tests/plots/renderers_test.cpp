#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "base/errors.h"
#include "plots/latency_cdf_plot.h"
#include "plots/replica_lag_plot.h"
#include "plots/shard_load_plot.h"
#include "plots/throughput_plot.h"
#include "plots/utilisation_heatmap.h"
#include "tests/engine/test_util.h"
#include "tests/plots/plot_test_util.h"

using namespace shardlab::plots;
using shardlab::testing::has_png_signature;
using shardlab::testing::has_svg_root;
using shardlab::testing::slurp;
using shardlab::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// A real figure of the fixtures below is tens of kilobytes; a few kilobytes would be an
// empty canvas.
constexpr size_t kNonTrivialBytes = 8000;

std::vector<QueryLatency> latency_fixture() {
  std::vector<QueryLatency> queries(3);
  queries[0].query = "top10_beijing_women";
  for (int value_idx = 1; value_idx <= 1000; ++value_idx) {
    queries[0].histogram.record(int64_t{2000000} + value_idx * 5000);  // 2..7 ms
  }
  queries[0].histogram.record(900000000);  // one 0.9 s straggler
  queries[0].target_s = 0.01;
  queries[1].query = "daily <active> & users";
  for (int value_idx = 1; value_idx <= 200; ++value_idx) {
    queries[1].histogram.record(int64_t{40000} * value_idx);  // 40 us .. 8 ms
  }
  queries[2].query = "never_ran";
  queries[2].target_s = 1.0;
  return queries;
}

std::vector<double> grid(size_t rows, double interval_s) {
  std::vector<double> time_s;
  for (size_t row_idx = 0; row_idx < rows; ++row_idx) {
    time_s.push_back(static_cast<double>(row_idx) * interval_s);
  }
  return time_s;
}

std::vector<double> wave(size_t rows, double base, double amplitude, double phase) {
  std::vector<double> values;
  for (size_t row_idx = 0; row_idx < rows; ++row_idx) {
    values.push_back(base + amplitude * std::sin(static_cast<double>(row_idx) / 7.0 + phase));
  }
  return values;
}

ThroughputData throughput_fixture() {
  ThroughputData data;
  data.time_s = grid(120, 10);
  data.insert_rows_per_s = {{"sent", wave(120, 80000, 20000, 0)},
                            {"acknowledged", wave(120, 78000, 20000, 0.1)}};
  data.queries_per_s = {{"top10", wave(120, 2, 1, 0.5)}, {"daily_active", wave(120, 0.5, 0.2, 1)}};
  data.queries_per_s[1].values[40] = kNaN;  // an interval without a value: a gap
  return data;
}

ShardLoadData shard_fixture() {
  ShardLoadData data;
  data.shards = {"s1", "s2", "s3", "s4"};
  data.metrics = {{"rows", {1000000, 1000000, 1000000, 5000000}},
                  {"query CPU seconds", {12.5, 11.0, 13.0, 40.0}}};
  return data;
}

UtilisationData utilisation_fixture(size_t nodes, size_t rows) {
  UtilisationData data;
  data.time_s = grid(rows, 5);
  for (size_t node_idx = 0; node_idx < nodes; ++node_idx) {
    data.nodes.push_back("node-" + std::to_string(node_idx + 1));
    data.cpu.push_back(wave(rows, 0.5, 0.45, static_cast<double>(node_idx)));
    data.network.push_back(wave(rows, 0.2, 0.1, static_cast<double>(node_idx)));
  }
  if (rows > 3) data.cpu[0][3] = kNaN;
  return data;
}

ReplicaLagData lag_fixture() {
  ReplicaLagData data;
  data.time_s = grid(200, 1);
  std::vector<double> lagging(200, 0.05);
  for (size_t row_idx = 50; row_idx < 120; ++row_idx) {
    lagging[row_idx] = static_cast<double>(row_idx - 50);
  }
  for (size_t row_idx = 120; row_idx < 140; ++row_idx) {
    lagging[row_idx] = 70.0 * static_cast<double>(140 - row_idx) / 20.0;
  }
  data.replicas = {{"s1/r1", std::vector<double>(200, 0.05)}, {"s1/r2", lagging}};
  data.faults = {{50, 120, "node n2 down"},
                 {180, std::numeric_limits<double>::infinity(), "link r1-r2 lossy"}};
  return data;
}

// A placeholder has a title and one line of text.
constexpr size_t kPlaceholderBytes = 2000;

// Checks both files of `plot` in `dir` and returns the SVG text.
std::string check_files(const fs::path& dir, const RenderedPlot& plot, const std::string& name) {
  const size_t min_bytes = plot.placeholder ? kPlaceholderBytes : kNonTrivialBytes;
  CHECK(plot.name == name);
  CHECK(plot.png == name + ".png");
  CHECK(plot.svg == name + ".svg");
  const std::string png = slurp(dir / plot.png);
  const std::string svg = slurp(dir / plot.svg);
  CHECK(has_png_signature(png));
  CHECK(png.size() > min_bytes);
  CHECK(has_svg_root(svg));
  CHECK(svg.size() > min_bytes);
  // Nothing left behind but the two outputs.
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    CHECK((file.starts_with(name + ".") && file.find(".tmp.") == std::string::npos));
  }
  return svg;
}

}  // namespace

TEST_CASE("latency CDF: one line per query, targets, and names escaped in the SVG", "[plots]") {
  TempDir dir;
  const RenderedPlot plot = render_latency_cdf(dir.path(), "latency_cdf", latency_fixture());
  const std::string svg = check_files(dir.path(), plot, "latency_cdf");
  CHECK_FALSE(plot.placeholder);
  CHECK(plot.title == "Latency CDF per query");
  CHECK(svg.find("top10_beijing_women: n=1,001") != std::string::npos);
  CHECK(svg.find("daily &lt;active> &amp; users") != std::string::npos);
  CHECK(svg.find("never_ran (no data)") != std::string::npos);
  CHECK(svg.find("top10_beijing_women target 10 ms") != std::string::npos);
}

TEST_CASE("latency CDF: no completed query gives a placeholder", "[plots]") {
  TempDir dir;
  std::vector<QueryLatency> queries(1);
  queries[0].query = "idle";
  const RenderedPlot plot = render_latency_cdf(dir.path(), "latency_cdf", queries);
  const std::string svg = check_files(dir.path(), plot, "latency_cdf");
  CHECK(plot.placeholder);
  CHECK(plot.note == "no query execution completed");
  CHECK(svg.find("No data: no query execution completed") != std::string::npos);
  CHECK(render_latency_cdf(dir.path(), "none", {}).note == "the scenario runs no queries");
}

TEST_CASE("throughput: inserts and queries panels over simulated time", "[plots]") {
  TempDir dir;
  const RenderedPlot plot = render_throughput(dir.path(), "throughput", throughput_fixture());
  const std::string svg = check_files(dir.path(), plot, "throughput");
  CHECK_FALSE(plot.placeholder);
  CHECK(svg.find("Rows inserted per second") != std::string::npos);
  CHECK(svg.find("Queries completed per second") != std::string::npos);
  // 1200 s of run: minutes on the axis.
  CHECK(svg.find("simulated time (min)") != std::string::npos);

  ThroughputData inserts_only = throughput_fixture();
  inserts_only.queries_per_s.clear();
  const RenderedPlot single = render_throughput(dir.path(), "inserts", inserts_only);
  CHECK(slurp(dir.path() / single.svg).find("Queries completed") == std::string::npos);

  const RenderedPlot empty = render_throughput(dir.path(), "empty", ThroughputData{});
  CHECK(empty.placeholder);
  CHECK(empty.note == "no insert or query rates were recorded");
}

TEST_CASE("shard load: bars, mean line and max/mean skew in the title", "[plots]") {
  TempDir dir;
  const RenderedPlot plot = render_shard_load(dir.path(), "shard_load", shard_fixture());
  const std::string svg = check_files(dir.path(), plot, "shard_load");
  // Rows: mean 2M, max 5M on s4.
  CHECK(svg.find("rows per shard: max/mean 2.5 (max on s4)") != std::string::npos);
  CHECK(svg.find("mean 2M") != std::string::npos);
  CHECK(svg.find("query CPU seconds per shard: max/mean 2.09 (max on s4)") != std::string::npos);

  CHECK(render_shard_load(dir.path(), "none", ShardLoadData{}).placeholder);
}

TEST_CASE("max/mean skew", "[plots]") {
  CHECK(max_over_mean(std::vector<double>{1, 1, 1, 1}) == 1.0);
  CHECK(max_over_mean(std::vector<double>{0, 0, 0, 4}) == 4.0);
  CHECK(std::isnan(max_over_mean(std::vector<double>{})));
  CHECK(std::isnan(max_over_mean(std::vector<double>{0, 0})));
}

TEST_CASE("utilisation heatmap: nodes by time, each resource on its own", "[plots]") {
  TempDir dir;
  const UtilisationData data = utilisation_fixture(6, 100);
  const RenderedPlot cpu =
      render_utilisation_heatmap(dir.path(), "utilisation_cpu", data, Resource::kCpu);
  const std::string svg = check_files(dir.path(), cpu, "utilisation_cpu");
  // The title states the peak; the colours are scaled to it.
  CHECK_THAT(cpu.title, Catch::Matchers::StartsWith("CPU utilisation per node: peak 9"));
  CHECK(colour_scale_top(0.95) == 1.0);
  CHECK(colour_scale_top(0.03) == Approx(0.05));
  CHECK(colour_scale_top(0.002) == Approx(0.002));
  CHECK(colour_scale_top(0) == 1.0);
  CHECK(colour_scale_top(1.7) == 1.0);
  CHECK(svg.find("node-6") != std::string::npos);
  CHECK(svg.find("CPU busy fraction") != std::string::npos);
  // The embedded cells are scaled without smoothing.
  CHECK(svg.find("<image image-rendering='optimizeSpeed' ") != std::string::npos);

  const RenderedPlot network =
      render_utilisation_heatmap(dir.path(), "utilisation_network", data, Resource::kNetwork);
  CHECK_FALSE(network.placeholder);
  // Disk was not recorded in this fixture.
  const RenderedPlot disk =
      render_utilisation_heatmap(dir.path(), "utilisation_disk", data, Resource::kDisk);
  CHECK(disk.placeholder);
  CHECK(disk.note == "disk utilisation was not recorded");
}

TEST_CASE("utilisation heatmap: one node, one interval, and long runs averaged", "[plots]") {
  TempDir dir;
  // A single row or column cannot be an image; it is drawn as boxes.
  const RenderedPlot one_node = render_utilisation_heatmap(
      dir.path(), "one_node", utilisation_fixture(1, 30), Resource::kCpu);
  CHECK(has_svg_root(slurp(dir.path() / one_node.svg)));
  const RenderedPlot one_row =
      render_utilisation_heatmap(dir.path(), "one_row", utilisation_fixture(4, 1), Resource::kCpu);
  CHECK(has_png_signature(slurp(dir.path() / one_row.png)));

  const RenderedPlot averaged = render_utilisation_heatmap(
      dir.path(), "averaged", utilisation_fixture(3, 2000), Resource::kCpu);
  CHECK_THAT(averaged.title,
             Catch::Matchers::EndsWith(" (each column averages 5 intervals)"));
}

TEST_CASE("replica lag: lines per replica with fault intervals shaded", "[plots]") {
  TempDir dir;
  const RenderedPlot plot = render_replica_lag(dir.path(), "replica_lag", lag_fixture());
  const std::string svg = check_files(dir.path(), plot, "replica_lag");
  CHECK(svg.find("node n2 down") != std::string::npos);
  CHECK(svg.find("link r1-r2 lossy") != std::string::npos);
  CHECK(svg.find("s1/r2") != std::string::npos);

  ReplicaLagData unreplicated;
  unreplicated.time_s = grid(10, 1);
  const RenderedPlot none = render_replica_lag(dir.path(), "none", unreplicated);
  CHECK(none.placeholder);
  CHECK(none.note == "no replica lag was recorded (no replicas)");
}

TEST_CASE("the same data gives byte-identical figures", "[plots]") {
  TempDir first;
  TempDir second;
  for (const fs::path& dir : {first.path(), second.path()}) {
    render_latency_cdf(dir, "latency_cdf", latency_fixture());
    render_utilisation_heatmap(dir, "utilisation_cpu", utilisation_fixture(5, 50), Resource::kCpu);
    render_replica_lag(dir, "replica_lag", lag_fixture());
  }
  for (const char* file : {"latency_cdf.png", "latency_cdf.svg", "utilisation_cpu.png",
                           "utilisation_cpu.svg", "replica_lag.png", "replica_lag.svg"}) {
    INFO(file);
    CHECK(slurp(first.path() / file) == slurp(second.path() / file));
  }
}

TEST_CASE("a failed render reports why and leaves no file behind", "[plots]") {
  TempDir dir;
  PlotOptions missing;
  missing.gnuplot = "shardlab-no-such-gnuplot";
  CHECK_THROWS_AS(render_shard_load(dir.path(), "shard_load", shard_fixture(), missing),
                  shardlab::RuntimeError);
  CHECK_THROWS_WITH(render_shard_load(dir.path(), "shard_load", shard_fixture(), missing),
                    Catch::Contains("cannot draw plot") &&
                        Catch::Contains("'shardlab-no-such-gnuplot' was not found on PATH"));
  CHECK(fs::is_empty(dir.path()));

  // An old figure stays when its replacement fails.
  render_shard_load(dir.path(), "shard_load", shard_fixture());
  const std::string before = slurp(dir.path() / "shard_load.svg");
  CHECK_THROWS(render_shard_load(dir.path(), "shard_load", shard_fixture(), missing));
  CHECK(slurp(dir.path() / "shard_load.svg") == before);

  const fs::path absent = dir.path() / "absent";
  CHECK_THROWS_WITH(render_shard_load(absent, "shard_load", shard_fixture()),
                    Catch::Contains("'" + absent.string() + "' is not a directory"));
}

namespace {

// A stand-in for gnuplot: a shell script that answers the version probe as gnuplot 5.4.4 with
// `terminals` and otherwise reads its input and does `action`.
fs::path fake_gnuplot(const fs::path& dir, const std::string& action,
                      const std::string& terminals = "png pngcairo svg") {
  const fs::path script = dir / "fake-gnuplot";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\ninput=$(cat)\ncase \"$input\" in\n  *GPVAL_TERMINALS*) printf '5.4.4\\n "
        << terminals << "\\n' >&2; exit 0;;\nesac\n"
        << action << "\n";
  }
  fs::permissions(script, fs::perms::owner_all);
  return script;
}

}  // namespace

TEST_CASE("gnuplot failing or writing nothing fails the render", "[plots]") {
  TempDir tools;
  TempDir dir;
  PlotOptions options;
  options.gnuplot = fake_gnuplot(tools.path(), "echo 'line 3: boom' >&2; exit 3").string();
  CHECK_THROWS_WITH(render_shard_load(dir.path(), "shard_load", shard_fixture(), options),
                    Catch::Contains("cannot draw plot '" + (dir.path() / "shard_load").string() +
                                    "': gnuplot exited with status 3:\nline 3: boom"));
  CHECK(fs::is_empty(dir.path()));

  options.gnuplot = fake_gnuplot(tools.path(), "exit 0").string();
  CHECK_THROWS_WITH(render_shard_load(dir.path(), "shard_load", shard_fixture(), options),
                    Catch::Contains("gnuplot did not create"));
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("a gnuplot without the needed terminals, or not a gnuplot, is refused", "[plots]") {
  TempDir tools;
  TempDir dir;
  // Each script gets its own name: what a program offers is asked once per process.
  PlotOptions options;
  fs::create_directory(tools.path() / "no_svg");
  options.gnuplot = fake_gnuplot(tools.path() / "no_svg", "exit 0", "png dumb").string();
  CHECK_THROWS_WITH(
      render_shard_load(dir.path(), "shard_load", shard_fixture(), options),
      Catch::Contains("gnuplot 5.4.4 ('" + options.gnuplot + "') lacks the svg terminal"));
  fs::create_directory(tools.path() / "no_png");
  options.gnuplot = fake_gnuplot(tools.path() / "no_png", "exit 0", "svg dumb").string();
  CHECK_THROWS_WITH(render_shard_load(dir.path(), "shard_load", shard_fixture(), options),
                    Catch::Contains("lacks the pngcairo and png terminals"));
  // Reads everything, answers nothing.
  const fs::path silent = tools.path() / "silent";
  std::ofstream(silent) << "#!/bin/sh\ncat > /dev/null\n";
  fs::permissions(silent, fs::perms::owner_all);
  options.gnuplot = silent.string();
  CHECK_THROWS_WITH(render_shard_load(dir.path(), "shard_load", shard_fixture(), options),
                    Catch::Contains("'" + silent.string() + "' does not answer like gnuplot"));
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("columns without a single value are listed as having no data", "[plots]") {
  TempDir dir;
  const std::vector<double> empty(30, kNaN);
  ThroughputData throughput;
  throughput.time_s = grid(30, 5);
  throughput.queries_per_s = {{"never_ran", empty}};
  const RenderedPlot rates = render_throughput(dir.path(), "throughput", throughput);
  CHECK(slurp(dir.path() / rates.svg).find("never_ran (no data)") != std::string::npos);
  throughput.queries_per_s.push_back({"ran", wave(30, 2, 1, 0)});
  render_throughput(dir.path(), "throughput_mixed", throughput);

  ReplicaLagData lag;
  lag.time_s = grid(30, 5);
  lag.replicas = {{"s1/r1", empty}};
  const RenderedPlot lag_plot = render_replica_lag(dir.path(), "replica_lag", lag);
  CHECK_FALSE(lag_plot.placeholder);
  CHECK(slurp(dir.path() / lag_plot.svg).find("s1/r1 (no data)") != std::string::npos);

  UtilisationData utilisation;
  utilisation.time_s = grid(30, 5);
  utilisation.nodes = {"n1", "n2"};
  utilisation.disk = {empty, empty};
  const RenderedPlot disk =
      render_utilisation_heatmap(dir.path(), "disk", utilisation, Resource::kDisk);
  CHECK(has_svg_root(slurp(dir.path() / disk.svg)));
}

TEST_CASE("replica lag: the window zooms on a short outage and its catch-up", "[plots]") {
  ReplicaLagData data;
  data.time_s = grid(1000, 1);
  std::vector<double> lag(1000, 0.0);
  for (size_t t = 400; t < 500; ++t) lag[t] = t < 450 ? static_cast<double>(t - 399) : 500.0 - t;
  data.replicas.push_back(SeriesColumn{"largest replica lag", lag});
  data.faults.push_back({400, 450, "n2 down"});
  const auto window = fault_window(data);
  REQUIRE(window);
  CHECK(window->first == Approx(375));
  CHECK(window->second == Approx(525));
  TempDir dir;
  data.window_s = window;
  const RenderedPlot plot = render_replica_lag(dir.path(), "zoomed", data);
  CHECK_THAT(plot.title, Catch::Matchers::EndsWith("(zoomed on the faults; the whole run is in the CSV)"));
  // An outage over most of the run: the whole run is drawn.
  data.faults = {{100, 900, "n2 down"}};
  CHECK_FALSE(fault_window(data));
  data.faults.clear();
  CHECK_FALSE(fault_window(data));
}
