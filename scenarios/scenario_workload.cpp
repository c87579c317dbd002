// The table, workload, run and fault sections.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>

#include "shardlab/engine/date_time.h"
#include "base/errors.h"
#include "shardlab/engine/query.h"
#include "scenarios/scenario_sections.h"
#include "workloads/query_template.h"
#include "workloads/diurnal_curve.h"
#include "workloads/engine_block.h"

namespace shardlab::scenarios::detail {

namespace {

const SchemaNode& element_schema(std::string_view section) {
  return *scenario_schema().field(section)->element;
}

// The case study's shape: 1e5 rows/s at the peak of a 1e9-row day, 1e5 / (1e9 / 86400).
constexpr double kDefaultPeakToMean = 8.64;
constexpr uint64_t kMaxBatchRows = 100'000'000;
constexpr uint64_t kMaxClients = 100'000;
constexpr double kMaxQueryRate = 1e6;

std::optional<std::pair<size_t, size_t>> sql_line_column(std::string_view message) {
  const size_t at = message.find("(line ");
  if (at == std::string_view::npos) return std::nullopt;
  size_t line = 0;
  size_t column = 0;
  const char* p = message.data() + at + 6;
  const char* const end = message.data() + message.size();
  auto r = std::from_chars(p, end, line);
  if (r.ec != std::errc() || !std::string_view(r.ptr, end - r.ptr).starts_with(", column ")) {
    return std::nullopt;
  }
  r = std::from_chars(r.ptr + 9, end, column);
  if (r.ec != std::errc() || line == 0 || column == 0) return std::nullopt;
  return std::make_pair(line, column);
}

// The 1-based line `line` of `text`.
std::string_view nth_line(std::string_view text, size_t line) {
  for (size_t idx = 1; idx < line; ++idx) {
    const size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return {};
    text.remove_prefix(newline + 1);
  }
  return text.substr(0, text.find('\n'));
}

// file:line:col of character `column` on line `line` of the scalar, if the scalar is written so
// that its text can be found verbatim in the file.
std::optional<std::string> locate_in_scalar(const Field& field, size_t line, size_t column) {
  const Context& ctx = field.ctx();
  const YAML::Node& node = field.node();
  if (!node.IsScalar() || !ctx.from_file(node) || node.Mark().is_null()) return std::nullopt;
  const auto mark_line = static_cast<size_t>(node.Mark().line);
  const auto mark_column = static_cast<size_t>(node.Mark().column);
  const std::string_view first = ctx.line_text(mark_line);
  if (mark_column >= first.size()) return std::nullopt;
  const std::string_view wanted = nth_line(node.Scalar(), line);
  if (first[mark_column] == '|') {
    // A literal block: its lines are the file's lines after the indicator, less the
    // indentation of its first non-blank line.
    size_t indent = std::string_view::npos;
    for (size_t idx = mark_line + 1; indent == std::string_view::npos && idx <= mark_line + line;
         ++idx) {
      indent = ctx.line_text(idx).find_first_not_of(' ');
    }
    const size_t file_line = mark_line + line;
    const std::string_view text = ctx.line_text(file_line);
    if (indent == std::string_view::npos || text.size() < indent || text.substr(indent) != wanted) {
      return std::nullopt;
    }
    return fmt::format("{}:{}:{}", ctx.source(), file_line + 1, indent + column);
  }
  if (line != 1 || node.Scalar().find('\n') != std::string::npos) return std::nullopt;
  const size_t start =
      (first[mark_column] == '"' || first[mark_column] == '\'') ? mark_column + 1 : mark_column;
  if (first.substr(start).substr(0, wanted.size()) != wanted) return std::nullopt;
  return fmt::format("{}:{}:{}", ctx.source(), mark_line + 1,
                     ctx.char_column(mark_line, start) + column - 1);
}

std::string read_ddl(const MapReader& map, TableConfig* table) {
  if (auto f = map.find("ddl")) {
    table->ddl = f->scalar("a CREATE TABLE statement");
    try {
      table->schema = engine::TableSchema::from_ddl(table->ddl);
    } catch (const InputError& e) {
      fail_sql(*f, e.what());
    }
    try {
      // Only the columns matter here; the smallest generator config keeps the check cheap.
      workloads::GeneratorConfig probe;
      probe.days = 1;
      probe.total_rows = 1;
      probe.users = 1;
      probe.items = 1;
      workloads::EngineBlockSource source(probe, table->schema);
    } catch (const InputError& e) {
      f->fail(e.what());
    }
  } else {
    table->ddl = engine::kDefaultUserBehaviorDdl;
    table->schema = engine::TableSchema::from_ddl(table->ddl);
  }
  return table->ddl;
}

QueryTemplate read_query(const Field& field, const TableConfig& table,
                         std::optional<Field>* name_field) {
  const MapReader map = field.map(*scenario_schema().field("workload")->field("queries")->element);
  QueryTemplate query;
  *name_field = map.require("name", "a name such as top_items (answers/NAME.tsv)");
  query.name = (*name_field)->name("query name");
  const Field sql = map.require("sql", "a SELECT over the table");
  query.sql = sql.scalar("a SELECT statement");
  std::optional<workloads::QueryTemplateText> text;
  try {
    text.emplace(query.sql);
  } catch (const InputError& e) {
    fail_sql(sql, e.what());
  }
  for (const workloads::QueryParameter parameter : text->parameters()) {
    const std::string_view column = workloads::parameter_column(parameter);
    if (std::none_of(table.schema.columns.begin(), table.schema.columns.end(),
                     [&](const auto& c) { return c.name == column; })) {
      sql.fail(fmt::format("{{{}}} draws values of the column {}, which the table does not have",
                           workloads::parameter_name(parameter), column));
    }
  }
  try {
    // Checked with the most popular parameter values; other queries change only literals. An
    // error's position is in the expanded text, which differs from the template's only after a
    // placeholder.
    engine::Query::prepare(table.schema, text->expand(0, workloads::ParameterValues{}));
  } catch (const InputError& e) {
    fail_sql(sql, e.what());
  }
  query.rate_per_s = map.require("rate_per_s", "queries per second (0: closed-loop clients)")
                         .number(0, kMaxQueryRate);
  if (auto f = map.find("clients")) query.clients = static_cast<int>(f->count(1, kMaxClients));
  if (auto f = map.find("concurrency")) {
    query.concurrency = static_cast<int>(f->count(1, kMaxClients));
  }
  if (auto f = map.find("target_latency")) {
    query.target_latency_s = f->duration(Duration::nanoseconds(1)).seconds();
  }
  if (auto f = map.find("think_time")) {
    query.think_time = f->duration(Duration());
    if (query.rate_per_s > 0) {
      f->fail("think_time applies to closed-loop clients (rate_per_s: 0); an open workload's "
              "clients send at rate_per_s whatever the answers");
    }
  }
  return query;
}

// Sets the generator's rates so that the data set of `rows` rows over `days` days has the
// requested peak-to-mean ratio (see the top of scenario.h).
void set_curve(workloads::GeneratorConfig* generator, uint64_t rows, double peak_to_mean) {
  const double rows_per_day =
      std::max(1.0, std::round(static_cast<double>(rows) / generator->days));
  generator->rows_per_day = static_cast<uint64_t>(rows_per_day);
  generator->peak_rows_per_s = peak_to_mean * rows_per_day / dt::kSecondsPerDay;
}

std::vector<std::string> node_names(const ClusterConfig& cluster) {
  std::vector<std::string> names;
  for (const NodeConfig& node : cluster.nodes) names.push_back(node.name);
  return names;
}

// Targets that are cluster nodes, unique.
std::vector<std::string> read_node_targets(const Field& targets, const ClusterConfig& cluster,
                                           bool all_allowed) {
  const std::vector<std::string> names = node_names(cluster);
  if (all_allowed && !targets.is_null() && targets.node().IsScalar() &&
      targets.node().Scalar() == "all") {
    return names;
  }
  std::vector<std::string> out;
  for (const Field& item : targets.list_or_scalar("a list of cluster node names")) {
    const std::string name = item.choice("cluster node", names);
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      item.fail(fmt::format("'{}' is listed twice", name));
    }
    out.push_back(name);
  }
  if (out.empty()) targets.fail("expected at least one target");
  return out;
}

// rows, days and start: the data set's size and its window of event time.
void read_data_window(const MapReader& map, const Field& section, WorkloadConfig* workload) {
  workloads::GeneratorConfig& g = workload->generator;
  const Field rows = map.require("rows", "the number of rows to insert, e.g. 1e6");
  workload->rows = rows.count(1, workloads::kMaxGeneratedRows);
  g.total_rows = workload->rows;
  g.days = 1;
  if (auto f = map.find("days")) g.days = static_cast<int>(f->count(1, workloads::kMaxDays));
  if (auto f = map.find("start")) {
    const std::string text = f->scalar("a UTC time 'YYYY-MM-DD hh:mm:ss' or a date 'YYYY-MM-DD'");
    const std::optional<int64_t> start = dt::parse_date_time(text);
    if (!start) {
      f->fail(
          fmt::format("expected a UTC time 'YYYY-MM-DD hh:mm:ss' or a date 'YYYY-MM-DD', "
                      "got '{}'",
                      text));
    }
    g.start = *start;
  }
  if (auto f = map.find("history_days")) {
    workload->history_days = static_cast<int>(f->count(0, workloads::kMaxDays));
    if (int64_t{workload->history_days} * dt::kSecondsPerDay > g.start) {
      f->fail(fmt::format("{} day(s) of history would start before 1970-01-01",
                          workload->history_days));
    }
  }
  if (g.start < 0 || g.start > (int64_t{1} << 32) - int64_t{g.days} * dt::kSecondsPerDay) {
    (map.has("start") ? map.get("start") : section)
        .fail(fmt::format("the data set from {} over {} day(s) ends after 2106-02-07, the last "
                          "day a DateTime holds",
                          dt::date_time_to_string(g.start), g.days));
  }
}

// peak_rows_per_s or peak_to_mean: the insert curve's shape over the data window.
void read_insert_curve(const MapReader& map, WorkloadConfig* workload) {
  workloads::GeneratorConfig& g = workload->generator;
  const double mean = static_cast<double>(workload->rows) / (g.days * dt::kSecondsPerDay);
  double peak_to_mean = kDefaultPeakToMean;
  if (map.has("peak_rows_per_s") && map.has("peak_to_mean")) {
    map.get("peak_to_mean").fail("give either peak_rows_per_s or peak_to_mean, not both");
  }
  if (auto f = map.find("peak_rows_per_s")) {
    const double peak = f->number(0, 1e12, /*min_exclusive=*/true);
    peak_to_mean = peak / mean;
    if (peak_to_mean < 1 - 1e-9 || peak_to_mean > workloads::DiurnalCurve::kMaxPeakToMean) {
      f->fail(
          fmt::format("a peak of {} rows/s is {:.4g} times the mean rate of {} rows over {} "
                      "day(s) ({:.6g} rows/s); expected a peak from the mean to {:g} times it",
                      peak, peak_to_mean, workload->rows, g.days, mean,
                      workloads::DiurnalCurve::kMaxPeakToMean));
    }
    peak_to_mean = std::max(1.0, peak_to_mean);
  }
  if (auto f = map.find("peak_to_mean")) {
    peak_to_mean = f->number(1, workloads::DiurnalCurve::kMaxPeakToMean);
    workload->peak_as_ratio = true;
  }
  set_curve(&g, workload->rows, peak_to_mean);
  workload->peak_rows_per_s = peak_to_mean * mean;
}

// The generator's seed and value distributions, then workloads::validate() as the last word.
void read_distributions(const MapReader& map, const Field& section,
                        workloads::GeneratorConfig* generator) {
  workloads::GeneratorConfig& g = *generator;
  if (auto f = map.find("seed")) g.seed = f->count(0, UINT64_MAX);
  if (auto f = map.find("users")) g.users = f->count(1, workloads::kMaxIds);
  if (auto f = map.find("items")) g.items = f->count(1, workloads::kMaxIds);
  if (auto f = map.find("user_zipf_exponent")) {
    g.user_zipf_exponent = f->number(0, workloads::kMaxZipfExponent);
  }
  if (auto f = map.find("item_zipf_exponent")) {
    g.item_zipf_exponent = f->number(0, workloads::kMaxZipfExponent);
  }
  if (auto f = map.find("action_mix")) {
    const MapReader mix = f->map(*scenario_schema().field("workload")->field("action_mix"));
    if (auto w = mix.find("click")) g.action_mix.click = w->number(0, 1e12);
    if (auto w = mix.find("fav")) g.action_mix.fav = w->number(0, 1e12);
    if (auto w = mix.find("cart")) g.action_mix.cart = w->number(0, 1e12);
    if (auto w = mix.find("buy")) g.action_mix.buy = w->number(0, 1e12);
    const auto& m = g.action_mix;
    if (!(m.click + m.fav + m.cart + m.buy > 0)) f->fail("the weights must not all be 0");
  }
  if (auto f = map.find("female_ratio")) g.female_ratio = f->number(0, 1);
  if (auto f = map.find("utc_offset_hours")) g.utc_offset_hours = f->number(-12, 14);
  try {
    workloads::validate(g);
  } catch (const InputError& e) {
    section.fail(e.what());  // every field was checked above; this is the last word
  }
}

// workload.queries: templates with unique names.
std::vector<QueryTemplate> read_queries(const Field& field, const TableConfig& table) {
  std::vector<QueryTemplate> queries;
  std::map<std::string, std::string> seen;
  for (const Field& item : field.list("a list of query templates")) {
    std::optional<Field> name;
    QueryTemplate query = read_query(item, table, &name);
    const auto [it, inserted] = seen.emplace(query.name, name->where());
    if (!inserted) {
      name->fail(fmt::format("duplicate query name '{}' (first at {})", query.name, it->second));
    }
    queries.push_back(std::move(query));
  }
  return queries;
}

double read_factor(const MapReader& map, const std::string& kind) {
  const bool slow = kind == "slow_disk" || kind == "slow_node";
  if (!slow) {
    if (map.has("factor")) {
      map.get("factor").fail(
          fmt::format("'factor' applies to slow_disk and slow_node faults, "
                      "not to {}",
                      kind));
    }
    return 1.0;
  }
  return map
      .require("factor", kind == "slow_disk" ? "the disk bandwidth's multiplier in (0, 1]"
                                             : "the CPU speed's multiplier in (0, 1]")
      .number(0, 1, /*min_exclusive=*/true);
}

// broken_part's `parts`, and the keys that do not apply to it (an instant has no duration).
void read_broken_parts(const MapReader& map, ScheduledFault* fault) {
  if (fault->kind != "broken_part") {
    if (map.has("parts"))
      map.get("parts").fail(
          fmt::format("'parts' applies to broken_part faults, not to {}", fault->kind));
    return;
  }
  if (map.has("duration"))
    map.get("duration").fail("a broken_part fault is an instant; it takes no 'duration'");
  if (auto f = map.find("parts")) fault->parts = f->count(1, 1'000'000);
}

ScheduledFault read_fault(const Field& field, const ClusterConfig& cluster,
                          const TopologyConfig& topology, const RunConfig& run) {
  const MapReader map = field.map(element_schema("faults"));
  ScheduledFault fault;
  static const std::vector<std::string> kKinds(std::begin(kFaultKinds), std::end(kFaultKinds));
  fault.kind = map.require("kind", fmt::format("one of: {}", join_words(kKinds)))
                   .choice("fault kind", kKinds);
  const Field at = map.require("at", "the simulated time of the fault, e.g. 6h");
  fault.at = at.duration(Duration());
  if (fault.at >= run.duration) {
    at.fail(fmt::format("the fault at {} is not before the end of the run (run.duration is {})",
                        format_duration(fault.at), format_duration(run.duration)));
  }
  if (auto f = map.find("duration")) {
    if (!f->is_null() && f->node().IsScalar() && f->node().Scalar() == "forever") {
      fault.duration = Duration::max();
    } else {
      fault.duration = f->duration(Duration::nanoseconds(1));
    }
  }
  fault.factor = read_factor(map, fault.kind);
  read_broken_parts(map, &fault);
  const Field targets = map.require("targets", "the nodes, link ends or hosts it affects");
  if (fault.kind == "link_down") {
    std::vector<std::string> all = topology.hosts;
    all.insert(all.end(), topology.switches.begin(), topology.switches.end());
    const std::vector<Field> ends = targets.list("the two ends of a link, e.g. [n0, tor-r0]");
    if (ends.size() != 2) {
      targets.fail(fmt::format("expected the two ends of a link, e.g. [n0, {}r0], got {} names",
                               kTorPrefix, ends.size()));
    }
    for (const Field& end : ends) fault.targets.push_back(end.choice("host or switch", all));
    const bool linked =
        std::any_of(topology.links.begin(), topology.links.end(), [&](const auto& l) {
          return (l.a == fault.targets[0] && l.b == fault.targets[1]) ||
                 (l.a == fault.targets[1] && l.b == fault.targets[0]);
        });
    if (!linked) {
      targets.fail(fmt::format("no link joins '{}' and '{}'", fault.targets[0], fault.targets[1]));
    }
  } else if (fault.kind == "partition") {
    for (const Field& item : targets.list_or_scalar("a list of hosts")) {
      const std::string host = item.choice("host", topology.hosts);
      if (std::find(fault.targets.begin(), fault.targets.end(), host) != fault.targets.end()) {
        item.fail(fmt::format("'{}' is listed twice", host));
      }
      fault.targets.push_back(host);
    }
    if (fault.targets.empty()) targets.fail("expected at least one host");
    if (fault.targets.size() == topology.hosts.size()) {
      targets.fail(
          "a partition cuts the listed hosts off from the others, but every host is "
          "listed");
    }
  } else {
    fault.targets = read_node_targets(targets, cluster, /*all_allowed=*/false);
  }
  return fault;
}

}  // namespace

void fail_sql(const Field& field, const std::string& message) {
  std::optional<std::string> where;
  if (const auto position = sql_line_column(message)) {
    where = locate_in_scalar(field, position->first, position->second);
  }
  field.ctx().fail_at(where ? *where : field.where(), fmt::format("{}: {}", field.path(), message));
}

TableConfig read_table(const MapReader& root) {
  TableConfig table;
  const std::optional<Field> section = root.find("table");
  const Field field =
      section ? *section : Field(root.self().ctx(), YAML::Node(), YAML::Node(), "table");
  read_ddl(field.map(*scenario_schema().field("table")), &table);
  return table;
}

WorkloadConfig read_workload(const MapReader& root, const ClusterConfig& cluster,
                             const TableConfig& table) {
  WorkloadConfig workload;
  const Field section = root.require("workload", "the workload: rows, days, queries");
  const MapReader map = section.map(*scenario_schema().field("workload"));
  read_data_window(map, section, &workload);
  read_insert_curve(map, &workload);
  if (auto f = map.find("batch_rows")) workload.batch_rows = f->count(1, kMaxBatchRows);
  if (auto f = map.find("batch_interval")) {
    workload.batch_interval = f->duration(Duration::nanoseconds(1));
  }
  if (auto f = map.find("initiators")) {
    workload.initiators = read_node_targets(*f, cluster, /*all_allowed=*/true);
  } else {
    workload.initiators = node_names(cluster);
  }
  read_distributions(map, section, &workload.generator);
  if (auto f = map.find("queries")) workload.queries = read_queries(*f, table);
  return workload;
}

RunConfig read_run(const MapReader& root, const WorkloadConfig& workload,
                   const std::string& scenario_name) {
  RunConfig run;
  run.duration = Duration::seconds(int64_t{workload.generator.days} * dt::kSecondsPerDay);
  run.out_dir = "out/" + scenario_name;
  for (const std::string_view output : kOutputs) {
    if (output != "trace") run.outputs.emplace_back(output);
  }
  const std::optional<Field> section = root.find("run");
  if (!section) return run;
  const MapReader map = section->map(*scenario_schema().field("run"));
  if (auto f = map.find("duration")) run.duration = f->duration(Duration::nanoseconds(1));
  if (auto f = map.find("warmup")) {
    run.warmup = f->duration(Duration());
    if (run.warmup >= run.duration) {
      f->fail(fmt::format("the warm-up ({}) must end before the run does (run.duration is {})",
                          format_duration(run.warmup), format_duration(run.duration)));
    }
  }
  if (auto f = map.find("seed")) run.seed = f->count(0, UINT64_MAX);
  if (auto f = map.find("replications")) run.replications = static_cast<int>(f->count(1, 1000));
  if (auto f = map.find("out_dir")) {
    run.out_dir = f->scalar("a directory");
    if (run.out_dir.empty()) f->fail("expected a directory, got an empty string");
  }
  if (auto f = map.find("trace_max_slices")) run.trace_max_slices = f->count(1, 100'000'000);
  if (auto f = map.find("speed")) run.speed = f->number(1e-3, 1e6);
  if (auto f = map.find("outputs")) {
    const std::vector<std::string> choices(std::begin(kOutputs), std::end(kOutputs));
    run.outputs.clear();
    for (const Field& item : f->list_or_scalar("a list of outputs")) {
      const std::string output = item.choice("output", choices);
      if (std::find(run.outputs.begin(), run.outputs.end(), output) != run.outputs.end()) {
        item.fail(fmt::format("'{}' is listed twice", output));
      }
      run.outputs.push_back(output);
    }
  }
  return run;
}

std::vector<ScheduledFault> read_faults(const MapReader& root, const ClusterConfig& cluster,
                                        const TopologyConfig& topology, const RunConfig& run) {
  std::vector<ScheduledFault> faults;
  if (auto f = root.find("faults")) {
    for (const Field& item : f->list("a list of faults {at, kind, targets, duration}")) {
      faults.push_back(read_fault(item, cluster, topology, run));
    }
  }
  return faults;
}

std::vector<RandomFault> read_random_faults(const MapReader& root, const ClusterConfig& cluster) {
  std::vector<RandomFault> faults;
  const std::optional<Field> section = root.find("random_faults");
  if (!section) return faults;
  static const std::vector<std::string> kKinds(std::begin(kRandomFaultKinds),
                                               std::end(kRandomFaultKinds));
  for (const Field& item : section->list("a list of random faults {kind, targets, mtbf, mttr}")) {
    const MapReader map = item.map(element_schema("random_faults"));
    RandomFault fault;
    fault.kind = map.require("kind", fmt::format("one of: {}", join_words(kKinds)))
                     .choice("random fault kind", kKinds);
    fault.targets = read_node_targets(map.require("targets", "cluster node names, or all"), cluster,
                                      /*all_allowed=*/true);
    fault.mtbf = map.require("mtbf", "the mean time between failures, e.g. 12h")
                     .duration(Duration::nanoseconds(1));
    fault.mttr = map.require("mttr", "the mean time to repair, e.g. 10min")
                     .duration(Duration::nanoseconds(1));
    fault.factor = read_factor(map, fault.kind);
    faults.push_back(std::move(fault));
  }
  return faults;
}

}  // namespace shardlab::scenarios::detail
