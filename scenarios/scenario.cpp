#include "scenarios/scenario.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "base/errors.h"
#include "scenarios/overrides.h"
#include "scenarios/platform.h"
#include "scenarios/scenario_sections.h"

namespace shardlab::scenarios {

namespace {

using detail::Context;
using detail::Field;
using detail::MapReader;

struct VariantSpec {
  VariantConfig config;
  std::vector<Override> set;
  // Applied after the file's smoke section, under --smoke only: a variant whose point needs
  // full-scale behaviour (a query slow enough to herd) says how its smoke form keeps it.
  std::vector<Override> smoke;
};

// The sections that describe changes to the rest of the file, read before any is applied.
struct ChangeSections {
  std::vector<Override> smoke;
  bool has_smoke = false;
  std::vector<VariantSpec> variants;
};

YAML::Node parse_yaml(const Context& ctx) {
  try {
    return YAML::Load(ctx.text());
  } catch (const YAML::Exception& e) {
    std::string message = fmt::format("invalid YAML: {}", e.msg);
    // yaml-cpp's message for a tab in the indentation does not say so.
    if (!e.mark.is_null() && e.mark.line >= 0 &&
        ctx.line_text(static_cast<size_t>(e.mark.line)).find('\t') != std::string_view::npos) {
      message += " (the line holds a tab; YAML indents with spaces only)";
    }
    ctx.fail_at(ctx.where(e.mark), message);
  }
}

// The comment lines at the top of the file, without their '#' and one following space.
std::string leading_comment(std::string_view text) {
  std::string out;
  bool started = false;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with('#')) {
      line.remove_prefix(1);
      if (line.starts_with(' ')) line.remove_prefix(1);
      out.append(line);
      out += '\n';
      started = true;
    } else if (started || line.find_first_not_of(" \t") != std::string_view::npos) {
      break;
    }
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

void check_target(const Override& change) {
  const std::string_view first = std::string_view(change.path).substr(0, change.path.find('.'));
  if (first == "smoke" || first == "variants") {
    throw InputError(
        fmt::format("{}: the smoke and variants sections cannot be overridden; "
                    "edit the file instead",
                    change.origin));
  }
}

// A mapping of dotted paths to values: the smoke section, or a variant's `set`.
std::vector<Override> read_override_map(const Field& field, std::string_view label) {
  std::vector<Override> out;
  if (field.is_null()) return out;
  if (!field.node().IsMap()) {
    field.fail(
        "expected a mapping of dotted paths to values, e.g. {workload.rows: 1e5, "
        "run.duration: 1h}");
  }
  std::map<std::string, std::string> seen;
  for (const auto& entry : field.node()) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) field.ctx().fail(key, "expected a dotted path such as workload.rows");
    const auto [it, inserted] = seen.emplace(key.Scalar(), field.ctx().where(key));
    if (!inserted) {
      field.ctx().fail(
          key, fmt::format("{}: '{}' is set twice (first at {})", label, key.Scalar(), it->second));
    }
    if (!entry.second.IsDefined() || entry.second.IsNull()) {
      field.ctx().fail(key, fmt::format("{}: '{}' has no value", label, key.Scalar()));
    }
    Override change;
    change.path = key.Scalar();
    change.value = entry.second;
    change.origin = fmt::format("{}: {}", field.ctx().where(key), label);
    check_target(change);
    out.push_back(std::move(change));
  }
  return out;
}

ChangeSections read_change_sections(const MapReader& top) {
  ChangeSections out;
  if (auto smoke = top.find("smoke")) {
    out.has_smoke = true;
    out.smoke = read_override_map(*smoke, "smoke");
  }
  if (auto variants = top.find("variants")) {
    std::map<std::string, std::string> seen;
    for (const Field& item :
         variants->list("a list of variants {name, description, set, smoke}")) {
      const MapReader map = item.map(*scenario_schema().field("variants")->element);
      VariantSpec variant;
      const Field name = map.require("name", "a name such as hash-user");
      variant.config.name = name.name("variant name");
      const auto [it, inserted] = seen.emplace(variant.config.name, name.where());
      if (!inserted) {
        name.fail(
            fmt::format("duplicate variant '{}' (first at {})", variant.config.name, it->second));
      }
      if (auto description = map.find("description")) {
        variant.config.description = description->scalar("a sentence");
      }
      const Field set = map.require("set", "a mapping of dotted paths to values");
      variant.set = read_override_map(set, fmt::format("variant '{}'", variant.config.name));
      if (variant.set.empty()) set.fail("expected at least one change");
      for (const Override& change : variant.set) variant.config.paths.push_back(change.path);
      if (auto smoke = map.find("smoke")) {
        variant.smoke =
            read_override_map(*smoke, fmt::format("variant '{}' smoke", variant.config.name));
        if (variant.smoke.empty()) smoke->fail("expected at least one change");
        for (const Override& change : variant.smoke) {
          variant.config.smoke_paths.push_back(change.path);
        }
      }
      out.variants.push_back(std::move(variant));
    }
    if (out.variants.empty()) {
      variants->fail("expected at least one variant (or leave the section out)");
    }
  }
  return out;
}

std::string default_name(const std::string& source) {
  std::string name = std::filesystem::path(source).stem().string();
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) c = '_';
  }
  if (name.empty() || name.front() == '.') name = "scenario" + name;
  return name;
}

// The root mapping of the file, checked to be a non-empty mapping.
YAML::Node parse_root(const Context& ctx) {
  YAML::Node root = parse_yaml(ctx);
  const SchemaNode& schema = scenario_schema();
  if (!root.IsDefined() || root.IsNull()) {
    ctx.fail_at(ctx.source(),
                fmt::format("the scenario is empty; expected a mapping with the keys: {}",
                            schema.key_list()));
  }
  if (!root.IsMap()) {
    ctx.fail(root, fmt::format("expected a mapping with the keys: {}", schema.key_list()));
  }
  return root;
}

const VariantSpec& find_variant(const ChangeSections& sections, const std::string& variant,
                                const std::string& source) {
  std::vector<std::string> names;
  for (const VariantSpec& spec : sections.variants) {
    if (spec.config.name == variant) return spec;
    names.push_back(spec.config.name);
  }
  if (names.empty()) {
    throw InputError(
        fmt::format("{}: there is no variant '{}': the scenario has no "
                    "variants section",
                    source, variant));
  }
  std::string message = fmt::format("{}: there is no variant '{}' (variants: {})", source,
                                    variant, detail::join_words(names, names.size()));
  if (const std::string close = closest_word(variant, names); !close.empty()) {
    message += fmt::format("; did you mean '{}'?", close);
  }
  throw InputError(message);
}

// The overrides to apply, in order: the variant's `set`, the smoke section, the variant's own
// smoke changes, the --set arguments.
std::vector<Override> changes_to_apply(const ChangeSections& sections, const std::string& source,
                                       const std::vector<std::string>& overrides, bool smoke,
                                       const std::string& variant) {
  std::vector<Override> changes;
  const VariantSpec* chosen = variant.empty() ? nullptr : &find_variant(sections, variant, source);
  if (chosen) changes = chosen->set;
  if (smoke) {
    if (!sections.has_smoke) {
      throw InputError(fmt::format("{}: --smoke: the scenario has no smoke section", source));
    }
    changes.insert(changes.end(), sections.smoke.begin(), sections.smoke.end());
    if (chosen) changes.insert(changes.end(), chosen->smoke.begin(), chosen->smoke.end());
  }
  for (const std::string& argument : overrides) {
    Override change = parse_set_argument(argument);
    check_target(change);
    changes.push_back(std::move(change));
  }
  return changes;
}

Duration compressed(Duration span, double speed) {
  if (span == Duration::max()) return span;
  return Duration::nanoseconds(static_cast<int64_t>(
      std::llround(static_cast<long double>(span.ns()) / static_cast<long double>(speed))));
}

// run.speed: the day's axis divided by the speed, and its rows with it (scenario.h, RunConfig).
// Everything was validated on the day's axis first, so messages speak of what the file says.
void compress_time(Scenario* s) {
  const double speed = s->run.speed;
  if (speed == 1.0) return;
  WorkloadConfig& w = s->workload;
  const auto shrink = [speed](uint64_t rows) {
    return std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(static_cast<double>(rows) / speed)));
  };
  w.rows = shrink(w.rows);
  w.generator.total_rows = w.rows;
  // The curve keeps its shape: the peak follows the day's volume by the same ratio.
  const double peak_to_mean = workloads::peak_to_mean(w.generator);
  w.generator.rows_per_day = shrink(w.generator.rows_per_day);
  w.generator.peak_rows_per_s =
      peak_to_mean * static_cast<double>(w.generator.rows_per_day) / dt::kSecondsPerDay;
  w.peak_rows_per_s /= speed;
  s->run.duration = compressed(s->run.duration, speed);
  s->run.warmup = compressed(s->run.warmup, speed);
  for (ScheduledFault& fault : s->faults) {
    fault.at = compressed(fault.at, speed);
    fault.duration = compressed(fault.duration, speed);
  }
  for (RandomFault& fault : s->random_faults) {
    fault.mtbf = compressed(fault.mtbf, speed);
    fault.mttr = compressed(fault.mttr, speed);
  }
  if (s->reshard) s->reshard->at = compressed(s->reshard->at, speed);
  if (s->cache) {
    for (CacheCrash& crash : s->cache->crashes) {
      crash.at = compressed(crash.at, speed);
      crash.duration = compressed(crash.duration, speed);
    }
  }
}

// The sections, in dependency order (scenario_sections.h), into `scenario`.
void read_sections(const MapReader& top, Scenario* scenario) {
  scenario->name =
      top.has("name") ? top.get("name").name("scenario name") : default_name(scenario->source);
  scenario->hardware =
      detail::read_hardware(top, std::filesystem::path(scenario->source).parent_path().string());
  scenario->table = detail::read_table(top);
  detail::ClusterSection cluster = detail::read_cluster(top, scenario->hardware, scenario->table);
  scenario->topology = detail::read_topology(top, cluster);
  scenario->cluster = cluster.config;
  scenario->workload = detail::read_workload(top, scenario->cluster, scenario->table);
  scenario->run = detail::read_run(top, scenario->workload, scenario->name);
  scenario->faults =
      detail::read_faults(top, scenario->cluster, scenario->topology, scenario->run);
  scenario->random_faults = detail::read_random_faults(top, scenario->cluster);
  detail::ReshardSection reshard =
      detail::read_reshard(top, scenario->cluster, scenario->table, scenario->run);
  scenario->reshard = reshard.config;
  scenario->cache = detail::read_cache(top, scenario->cluster, scenario->workload, scenario->run,
                                       &scenario->topology);
  scenario->plan = detail::read_plan(top, scenario->hardware, scenario->workload);
  const workloads::GeneratorConfig& generator = scenario->workload.generator;
  detail::check_list_values(scenario->cluster.sharding, cluster.sharding_lists, generator,
                            &scenario->warnings);
  if (reshard.config) {
    detail::check_list_values(reshard.config->sharding, reshard.sharding_lists, generator,
                              &scenario->warnings);
  }
  compress_time(scenario);
  try {
    // Everything here was checked above, with places; this is a safety net.
    validate_platform(scenario->topology);
  } catch (const InputError& e) {
    throw InputError(fmt::format("topology: {}: {}", scenario->source, e.what()));
  }
}

Scenario parse_one(std::string_view yaml, const std::string& source,
                   const std::vector<std::string>& overrides, bool smoke,
                   const std::string& variant) {
  Context ctx(source, std::string(yaml));
  YAML::Node root = parse_root(ctx);
  const Field root_field(ctx, root, YAML::Node(YAML::NodeType::Undefined), "");
  const ChangeSections sections = read_change_sections(MapReader(root_field, scenario_schema()));

  Scenario scenario;
  for (const VariantSpec& spec : sections.variants) scenario.variants.push_back(spec.config);
  for (const Override& change : sections.smoke) scenario.smoke_paths.push_back(change.path);
  scenario.variant = variant;
  for (const Override& change : changes_to_apply(sections, source, overrides, smoke, variant)) {
    apply_override(root, change, ctx);
  }
  scenario.source = source;
  scenario.smoke = smoke;
  scenario.overrides = overrides;
  scenario.question = leading_comment(yaml);
  read_sections(MapReader(root_field, scenario_schema()), &scenario);
  return scenario;
}

// Prints each warning on stderr once per process: `shardlab check` loads a file several times
// (as written, per variant, with its smoke section), and one mention is enough.
void print_warnings(const std::vector<Scenario>& scenarios) {
  static std::mutex mutex;
  static std::set<std::string> printed;
  const std::lock_guard<std::mutex> lock(mutex);
  for (const Scenario& scenario : scenarios) {
    for (const std::string& warning : scenario.warnings) {
      if (printed.insert(warning).second) std::fprintf(stderr, "warning: %s\n", warning.c_str());
    }
  }
  std::fflush(stderr);
}

std::string read_text(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw InputError(fmt::format("cannot read the scenario file '{}'", path));
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) throw InputError(fmt::format("cannot read the scenario file '{}'", path));
  return text.str();
}

std::string trim_number(double value, int precision) {
  std::string text = fmt::format("{:.{}f}", value, precision);
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text;
}

}  // namespace

Scenario parse_scenario(std::string_view yaml, const std::string& source,
                        const std::vector<std::string>& overrides, bool smoke,
                        const std::string& variant) {
  return parse_one(yaml, source, overrides, smoke, variant);
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides,
                       bool smoke, const std::string& variant) {
  std::vector<Scenario> loaded;
  loaded.push_back(parse_one(read_text(path), path, overrides, smoke, variant));
  print_warnings(loaded);
  return std::move(loaded.front());
}

std::vector<Scenario> parse_scenario_variants(std::string_view yaml, const std::string& source,
                                              const std::vector<std::string>& overrides,
                                              bool smoke) {
  // The file as written first: it settles the variant names, and a mistake outside the
  // variants is reported once, without a variant's changes in the way.
  std::vector<Scenario> out;
  Scenario base = parse_one(yaml, source, overrides, smoke, "");
  if (base.variants.empty()) {
    out.push_back(std::move(base));
    return out;
  }
  for (const VariantConfig& variant : base.variants) {
    out.push_back(parse_one(yaml, source, overrides, smoke, variant.name));
  }
  return out;
}

std::vector<Scenario> load_scenario_variants(const std::string& path,
                                             const std::vector<std::string>& overrides,
                                             bool smoke) {
  std::vector<Scenario> loaded = parse_scenario_variants(read_text(path), path, overrides, smoke);
  print_warnings(loaded);
  return loaded;
}

int64_t data_seconds(const RunConfig& run, Duration span) {
  if (run.speed == 1.0) return span.ns() / 1'000'000'000;
  return static_cast<int64_t>(static_cast<long double>(span.ns()) * run.speed / 1e9L);
}

std::string format_duration(Duration duration) {
  if (duration == Duration::max()) return "forever";
  const int64_t ns = duration.ns();
  constexpr int64_t kMinute = int64_t{60} * 1'000'000'000;
  constexpr int64_t kHour = 60 * kMinute;
  if (ns == 0) return "0s";
  if (ns % kHour == 0) return fmt::format("{}h", ns / kHour);
  if (ns % kMinute == 0) return fmt::format("{}min", ns / kMinute);
  if (ns >= 1'000'000'000) return fmt::format("{}s", trim_number(ns / 1e9, 9));
  if (ns >= 1'000'000) return fmt::format("{}ms", trim_number(ns / 1e6, 6));
  if (ns >= 1'000) return fmt::format("{}us", trim_number(ns / 1e3, 3));
  return fmt::format("{}ns", ns);
}

std::string format_bytes(double bytes) {
  // The largest unit, binary or decimal, in which the size has at most two decimals: 64GiB,
  // 400MB, 1.5MB; else the largest decimal unit, rounded.
  static const std::pair<const char*, double> kUnits[] = {
      {"PiB", 0x1.0p50}, {"PB", 1e15},      {"TiB", 0x1.0p40}, {"TB", 1e12},      {"GiB", 0x1.0p30},
      {"GB", 1e9},       {"MiB", 0x1.0p20}, {"MB", 1e6},       {"KiB", 0x1.0p10}, {"kB", 1e3}};
  for (const auto& [unit, size] : kUnits) {
    const double hundredths = bytes / size * 100;
    if (bytes >= size && std::fabs(hundredths - std::round(hundredths)) < 1e-6) {
      return fmt::format("{}{}", trim_number(bytes / size, 2), unit);
    }
  }
  for (const auto& [unit, size] : kUnits) {
    if (bytes >= size && unit[1] != 'i')
      return fmt::format("{}{}", trim_number(bytes / size, 2), unit);
  }
  return fmt::format("{}B", trim_number(bytes, 2));
}

std::string format_bandwidth(double bytes_per_s) {
  const double bits = bytes_per_s * 8;
  static const std::pair<const char*, double> kUnits[] = {
      {"Tbit/s", 1e12}, {"Gbit/s", 1e9}, {"Mbit/s", 1e6}, {"kbit/s", 1e3}};
  for (const auto& [unit, size] : kUnits) {
    if (bits >= size) return fmt::format("{}{}", trim_number(bits / size, 2), unit);
  }
  return fmt::format("{}bit/s", trim_number(bits, 2));
}

}  // namespace shardlab::scenarios
