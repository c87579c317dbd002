#include "results/summary_writer.h"

#include <fmt/format.h>

#include <cmath>

#include "base/atomic_file.h"
#include "results/number_format.h"

namespace shardlab::results {
namespace {

constexpr int kIndent = 2;

std::string render_float(double value) {
  if (!std::isfinite(value)) return "null";
  std::string text = format_number(value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string render_string(const std::string& text) {
  return Json(text).dump(-1, ' ', false, Json::error_handler_t::replace);
}

void render(const Json& value, int depth, std::string& out) {
  const std::string inner(static_cast<size_t>((depth + 1) * kIndent), ' ');
  const std::string outer(static_cast<size_t>(depth * kIndent), ' ');
  switch (value.type()) {
    case Json::value_t::object: {
      if (value.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      bool first = true;
      for (const auto& [key, member] : value.items()) {
        if (!first) out += ",\n";
        first = false;
        out += inner;
        out += render_string(key);
        out += ": ";
        render(member, depth + 1, out);
      }
      out += "\n" + outer + "}";
      return;
    }
    case Json::value_t::array: {
      if (value.empty()) {
        out += "[]";
        return;
      }
      out += "[\n";
      bool first = true;
      for (const Json& element : value) {
        if (!first) out += ",\n";
        first = false;
        out += inner;
        render(element, depth + 1, out);
      }
      out += "\n" + outer + "]";
      return;
    }
    case Json::value_t::number_float:
      out += render_float(value.get<double>());
      return;
    case Json::value_t::string:
      out += render_string(value.get_ref<const std::string&>());
      return;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::boolean:
    case Json::value_t::null:
    case Json::value_t::binary:
    case Json::value_t::discarded:
      out += value.dump();
      return;
  }
}

// "ci95" for 0.95, "ci99.9" for 0.999: the level in percent, shortest form.
std::string interval_key(double level) { return "ci" + format_number(level * 100.0); }

}  // namespace

Json json_number(double value) {
  if (!std::isfinite(value)) return Json(nullptr);
  return Json(round_significant(value));
}

Json latency_json(const LatencyHistogram& histogram, std::optional<uint64_t> errors) {
  Json out = Json::object();
  out["count"] = histogram.count();
  if (errors.has_value()) out["errors"] = *errors;
  Json latency = Json::object();
  const bool empty = histogram.empty();
  auto seconds = [empty](auto ns) {
    return empty ? Json(nullptr) : json_number(static_cast<double>(ns) / 1e9);
  };
  latency["mean"] = seconds(empty ? 0.0 : histogram.mean());
  latency["p50"] = seconds(empty ? 0 : histogram.quantile(0.5));
  latency["p90"] = seconds(empty ? 0 : histogram.quantile(0.9));
  latency["p99"] = seconds(empty ? 0 : histogram.quantile(0.99));
  latency["p999"] = seconds(empty ? 0 : histogram.quantile(0.999));
  latency["max"] = seconds(empty ? 0 : histogram.max());
  out["latency_s"] = std::move(latency);
  return out;
}

Json interval_json(const ConfidenceInterval& interval) {
  const std::string key = interval_key(interval.level);
  Json out = Json::object();
  out["mean"] = json_number(interval.mean);
  out[key + "_low"] = interval.has_interval() ? json_number(interval.low()) : Json(nullptr);
  out[key + "_high"] = interval.has_interval() ? json_number(interval.high()) : Json(nullptr);
  out["n"] = interval.n;
  return out;
}

std::string render_json(const Json& document) {
  std::string out;
  render(document, 0, out);
  out += "\n";
  return out;
}

void write_json(const std::filesystem::path& path, const Json& document) {
  base::write_file_atomically(path, render_json(document));
}

}  // namespace shardlab::results
