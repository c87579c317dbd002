#include "plots/report.h"

#include <catch2/catch.hpp>
#include <string>

#include "base/errors.h"
#include "plots/human_units.h"
#include "plots/markup.h"
#include "tests/engine/test_util.h"
#include "tests/plots/plot_test_util.h"

using namespace shardlab::plots;
using shardlab::results::Json;
using shardlab::results::LatencyHistogram;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

size_t occurrences(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

ReportInput report_fixture() {
  ReportInput input;
  input.scenario = "replica-failover";
  input.question =
      "What happens when a node dies during ingest?\n"
      "How many rows do async inserts lose?\n"
      "\n"
      "  Second paragraph: <b>bold</b> & 'quoted' | piped.  \n";
  LatencyHistogram fast;
  for (int value_idx = 1; value_idx <= 100; ++value_idx) fast.record(value_idx * 100000);
  LatencyHistogram slow;
  slow.record(12000000000);
  input.latency = {
      latency_row("top10", fast, 3, LatencyTarget{10.0, 0.99}),
      latency_row("scan <all> & more", slow, 0, LatencyTarget{10.0, 0.5}),
      latency_row("untimed", fast, 0),
      latency_row("idle", LatencyHistogram(), 0, LatencyTarget{1.0, 0.999}),
  };
  input.inserts = InsertCounters{1000000, 990000, 10000, 0, 990000};
  input.summary = Json::object();
  input.summary["inserts"]["rows_sent"] = 1000000;
  input.summary["inserts"]["rows_lost"] = 10000;
  input.summary["replication"]["max_lag_s"] = 70.25;
  input.summary["nodes"] = Json::array({Json::object({{"name", "n<1>"}, {"cpu", 0.5}})});
  input.summary["empty"] = Json::object();
  input.plots = {
      RenderedPlot{"latency_cdf", "Latency CDF per query", "latency_cdf.png", "latency_cdf.svg",
                   false, ""},
      RenderedPlot{"replica_lag", "Replica lag around faults", "replica_lag.png", "replica_lag.svg",
                   true, "no replica lag was recorded (no replicas)"},
  };
  input.files = {{"summary.json", "every simulated result"}, {"series/lag & more.csv", ""}};
  return input;
}

}  // namespace

TEST_CASE("latency rows and verdicts against the target", "[plots]") {
  const ReportInput input = report_fixture();
  CHECK(input.latency[0].count == 100);
  CHECK(input.latency[0].errors == 3);
  REQUIRE(input.latency[0].p99_s.has_value());
  CHECK(*input.latency[0].p99_s == Approx(0.0099).epsilon(0.004));
  CHECK(target_verdict(input.latency[0]) == TargetVerdict::kMet);
  CHECK(target_verdict(input.latency[1]) == TargetVerdict::kMissed);
  CHECK(target_verdict(input.latency[2]) == TargetVerdict::kNoTarget);
  CHECK(target_verdict(input.latency[3]) == TargetVerdict::kNoData);
  CHECK_FALSE(input.latency[3].mean_s.has_value());
}

TEST_CASE("report.md: question, tables, figures and summary", "[plots]") {
  const std::string md = render_report_markdown(report_fixture());
  CHECK(md.starts_with("# shardlab report: replica-failover\n\n## Question\n\n"));
  CHECK(contains(md,
                 "What happens when a node dies during ingest? How many rows do async inserts "
                 "lose?\n\n"));
  CHECK(contains(md, "Second paragraph: \\<b\\>bold\\</b\\> \\& 'quoted' \\| piped.\n\n"));
  CHECK(contains(md,
                 "| query | count | errors | mean | p50 | p90 | p99 | p99.9 | target | "
                 "verdict |\n| --- | ---: | ---: |"));
  CHECK(contains(md,
                 "| top10 | 100 | 3 | 5.05 ms | 5 ms | 9.01 ms | 9.93 ms | 10 ms | 10 s at p99 | "
                 "met (0.0993% of target) |\n"));
  CHECK(contains(md, "| scan \\<all\\> \\& more | 1 | 0 | 12 s |"));
  CHECK(contains(md, "| 10 s at p50 | missed (1.2\u00d7 target) |\n"));
  CHECK(contains(md, "| untimed | 100 | 0 |"));
  CHECK(contains(md, "| idle | 0 | 0 | n/a | n/a | n/a | n/a | n/a | 1 s at p99.9 | no data |\n"));
  CHECK(contains(md,
                 "| sent | 1,000,000 | 100% |\n| acknowledged | 990,000 | 99% |\n"
                 "| lost | 10,000 | 1% |\n| rejected | 0 | 0% |\n"
                 "| queryable after replication settled | 990,000 | 99% |\n"));
  CHECK(contains(md,
                 "### Latency CDF per query\n\n![Latency CDF per query](latency_cdf.png)\n\n"
                 "[latency\\_cdf.png](latency_cdf.png) \u00b7 "
                 "[latency\\_cdf.svg](latency_cdf.svg)\n"));
  CHECK(contains(md, "*No data: no replica lag was recorded (no replicas)*"));
  CHECK(contains(md, "- [summary.json](summary.json): every simulated result\n"));
  CHECK(contains(md, "- [series/lag \\& more.csv](series/lag%20%26%20more.csv)\n"));
  CHECK(contains(md, "| inserts.rows\\_sent | 1000000 |\n"));
  CHECK(contains(md, "| replication.max\\_lag\\_s | 70.25 |\n"));
  CHECK(contains(md, "| nodes\\[0\\].name | n\\<1\\> |\n"));
  CHECK(contains(md, "| empty | {} |\n"));
  CHECK(md.ends_with("|\n"));
  CHECK_FALSE(md.ends_with("\n\n"));
}

TEST_CASE("report.html: self-contained, escaped, figures linked relatively", "[plots]") {
  const std::string html = render_report_html(report_fixture());
  CHECK(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"));
  CHECK(contains(html, "<title>shardlab report: replica-failover</title>"));
  CHECK(contains(html, "<style>"));
  CHECK_FALSE(contains(html, "<script"));
  CHECK_FALSE(contains(html, "<link"));
  CHECK_FALSE(contains(html, "http"));
  CHECK(contains(html,
                 "<p>What happens when a node dies during ingest? How many rows do async "
                 "inserts lose?</p>"));
  CHECK(contains(html,
                 "<p>Second paragraph: &lt;b&gt;bold&lt;/b&gt; &amp; &#39;quoted&#39; | "
                 "piped.</p>"));
  CHECK_FALSE(contains(html, "<b>"));
  CHECK(contains(html, "<tr><td>top10</td><td class=\"num\">100</td><td class=\"num\">3</td>"));
  CHECK(contains(html, "<td class=\"met\">met (0.0993% of target)</td>"));
  CHECK(contains(html, "<td>scan &lt;all&gt; &amp; more</td>"));
  CHECK(contains(html, "<td class=\"missed\">missed (1.2\u00d7 target)</td>"));
  CHECK(contains(html,
                 "<a href=\"latency_cdf.svg\"><img src=\"latency_cdf.png\" "
                 "alt=\"Latency CDF per query\"></a>"));
  CHECK(contains(html, "No data: no replica lag was recorded (no replicas)"));
  CHECK(contains(html, "<a href=\"series/lag%20%26%20more.csv\">series/lag &amp; more.csv</a>"));
  CHECK(contains(html, "<td>nodes[0].name</td><td class=\"num\">n&lt;1&gt;</td>"));
  CHECK(contains(html, "<details>\n<summary>6 values</summary>"));
  CHECK(html.ends_with("</body>\n</html>\n"));
  for (const char* tag : {"table", "thead", "tbody", "figure", "details", "ul", "body", "html"}) {
    INFO(tag);
    CHECK(occurrences(html, std::string("<") + tag + ">") +
              occurrences(html, std::string("<") + tag + " ") ==
          occurrences(html, std::string("</") + tag + ">"));
  }
}

TEST_CASE("a report without queries, inserts, figures or summary says so", "[plots]") {
  ReportInput input;
  input.scenario = "empty";
  const std::string md = render_report_markdown(input);
  CHECK(contains(md, "*The scenario does not say which question it answers.*"));
  CHECK(contains(md, "*The scenario runs no queries.*"));
  CHECK(contains(md, "*The scenario inserts no rows.*"));
  CHECK(contains(md, "*No figures were drawn.*"));
  CHECK(contains(md, "*The summary is empty.*"));
  CHECK_FALSE(contains(md, "## Files"));
}

TEST_CASE("write_report writes both files, and the same input gives the same bytes", "[plots]") {
  shardlab::testing::TempDir dir;
  write_report(dir.path(), report_fixture());
  const std::string md = shardlab::testing::slurp(dir.path() / "report.md");
  const std::string html = shardlab::testing::slurp(dir.path() / "report.html");
  CHECK(md == render_report_markdown(report_fixture()));
  CHECK(html == render_report_html(report_fixture()));
  write_report(dir.path(), report_fixture());
  CHECK(shardlab::testing::slurp(dir.path() / "report.md") == md);
  CHECK_THROWS_AS(write_report(dir.path() / "absent", report_fixture()), shardlab::RuntimeError);
}

TEST_CASE("escaping for HTML and Markdown", "[plots]") {
  CHECK(html_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
  CHECK(html_escape("caf\u00e9") == "caf\u00e9");
  CHECK(markdown_escape("a<b>&c|d*e_f`g[h]~\\") == "a\\<b\\>\\&c\\|d\\*e\\_f\\`g\\[h\\]\\~\\\\");
  CHECK(markdown_escape("# not a heading") == "\\# not a heading");
  CHECK(markdown_escape("- not a list") == "\\- not a list");
  CHECK(markdown_escape("12. not a list, 3. fine") == "12\\. not a list, 3. fine");
  CHECK(markdown_escape("1) no") == "1\\) no");
  CHECK(markdown_escape("5.05 ms") == "5.05 ms");
  CHECK(markdown_escape("-0.5") == "-0.5");
  CHECK(markdown_escape("--- rule") == "\\--- rule");
  CHECK(markdown_escape("+ item") == "\\+ item");
  CHECK(markdown_escape_inline("# 1. - cell|x") == "# 1. - cell\\|x");
  CHECK(markdown_escape("two\nlines") == "two lines");
  CHECK(url_encode("a b/c&d.png") == "a%20b/c%26d.png");
}

TEST_CASE("numbers for people", "[plots]") {
  CHECK(format_duration(0.0042) == "4.2 ms");
  CHECK(format_duration(2.5e-7) == "250 ns");
  CHECK(format_duration(4.2e-5) == "42 \u00b5s");
  CHECK(format_duration(12.345) == "12.3 s");
  CHECK(format_duration(0.9997) == "1 s");
  CHECK(format_duration(4521.4) == "4,521 s");
  CHECK(format_duration(0) == "0 s");
  CHECK(format_duration(std::nan("")) == "n/a");
  CHECK(format_count(0) == "0");
  CHECK(format_count(999) == "999");
  CHECK(format_count(1234567) == "1,234,567");
  CHECK(format_si(1234567) == "1.23M");
  CHECK(format_si(999.7) == "1k");
  CHECK(format_si(12.5) == "12.5");
  CHECK(format_si(1e-5) == "1e-05");
  CHECK(format_ratio(1.8333) == "1.83");
}
