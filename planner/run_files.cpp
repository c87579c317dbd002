#include "planner/run_files.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>

#include "base/errors.h"

namespace shardlab::planner {

void write_metrics(const std::filesystem::path& path, const results::ReplicatedMetrics& metrics) {
  results::Json values = results::Json::object();
  for (const std::string& name : metrics.names()) values[name] = metrics.values(name);
  results::Json doc;
  doc["metrics"] = std::move(values);
  results::write_json(path, doc);
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError(fmt::format("cannot read '{}'", path.string()));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

results::Json read_json(const std::filesystem::path& path) {
  const std::string text = read_text(path);
  try {
    return results::Json::parse(text);
  } catch (const results::Json::exception& e) {
    throw RuntimeError(fmt::format("'{}' is not valid JSON: {}", path.string(), e.what()));
  }
}

results::ReplicatedMetrics read_metrics(const std::filesystem::path& path) {
  const results::Json doc = read_json(path);
  results::ReplicatedMetrics metrics;
  try {
    for (const auto& [name, values] : doc.at("metrics").items()) {
      for (const results::Json& value : values) metrics.add(name, value.get<double>());
    }
  } catch (const results::Json::exception& e) {
    throw RuntimeError(fmt::format("'{}' is not a metrics file: {}", path.string(), e.what()));
  }
  return metrics;
}

}  // namespace shardlab::planner
