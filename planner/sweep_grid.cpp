#include "planner/sweep_grid.h"

#include <fmt/format.h>

#include <set>

#include "base/errors.h"

namespace shardlab::planner {

namespace {

std::string trim(std::string text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  const size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// The key's last dotted word, which names it well enough in a label (cluster.shards: shards).
std::string short_key(const std::string& key) {
  const size_t dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

std::string safe_dir_name(const std::string& label) {
  std::string out;
  for (const char c : label) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-' || c == '=' || c == ',' || u >= 0x80;
    out += plain ? c : '_';
  }
  return out;
}

}  // namespace

std::vector<std::string> SweepPoint::overrides() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : settings) out.push_back(key + "=" + value);
  return out;
}

Grid parse_grid(const std::string& argument) {
  const size_t eq = argument.find('=');
  if (eq == std::string::npos) {
    throw InputError(
        fmt::format("--grid {}: expected KEY=V1,V2,... (a scenario key and its values)", argument));
  }
  Grid grid;
  grid.key = trim(argument.substr(0, eq));
  if (grid.key.empty()) throw InputError(fmt::format("--grid {}: the key is empty", argument));
  const std::string values = argument.substr(eq + 1);
  int depth = 0;
  char quote = 0;
  std::string current;
  const auto flush = [&] {
    std::string value = trim(current);
    if (value.empty()) {
      throw InputError(fmt::format("--grid {}: an empty value (expected V1,V2,...)", argument));
    }
    grid.values.push_back(std::move(value));
    current.clear();
  };
  for (const char c : values) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[' || c == '{' || c == '(') {
      ++depth;
    } else if ((c == ']' || c == '}' || c == ')') && depth > 0) {
      --depth;
    } else if (c == ',' && depth == 0) {
      flush();
      continue;
    }
    current += c;
  }
  if (quote || depth != 0) {
    throw InputError(fmt::format("--grid {}: an unclosed {}", argument,
                                 quote ? "quote" : "bracket"));
  }
  flush();
  return grid;
}

std::vector<SweepPoint> sweep_points(const std::vector<Grid>& grids) {
  std::set<std::string> keys;
  for (const Grid& grid : grids) {
    if (!keys.insert(grid.key).second) {
      throw InputError(fmt::format("--grid {}: the key is swept twice", grid.key));
    }
  }
  std::vector<SweepPoint> points(1);
  for (const Grid& grid : grids) {
    std::vector<SweepPoint> crossed;
    for (const SweepPoint& point : points) {
      for (const std::string& value : grid.values) {
        SweepPoint next = point;
        next.settings.emplace_back(grid.key, value);
        crossed.push_back(std::move(next));
      }
    }
    points = std::move(crossed);
  }
  for (size_t idx = 0; idx < points.size(); ++idx) {
    SweepPoint& point = points[idx];
    point.index = idx;
    for (const auto& [key, value] : point.settings) {
      if (!point.label.empty()) point.label += ',';
      point.label += short_key(key) + "=" + value;
    }
    // The index keeps directories apart when two labels differ only in characters made safe.
    point.dir = fmt::format("{:03}-{}", idx + 1, safe_dir_name(point.label)).substr(0, 120);
  }
  return points;
}

}  // namespace shardlab::planner
