#include "apps/table_access.h"

#include <fmt/format.h>

#include <cstdio>

#include "base/errors.h"

namespace shardlab::apps {

void print_open_report(const engine::OpenReport& report) {
  for (const auto& n : report.removed_temporary)
    std::fprintf(stderr, "shardlab: removed leftover %s\n", n.c_str());
  for (const auto& n : report.removed_outdated)
    std::fprintf(stderr, "shardlab: removed outdated part %s\n", n.c_str());
  for (const auto& n : report.rolled_back)
    std::fprintf(stderr, "shardlab: rolled back part %s of an unacknowledged insert\n", n.c_str());
  for (const auto& n : report.broken)
    std::fprintf(stderr, "shardlab: warning: damaged part moved to detached/: %s\n", n.c_str());
  for (const auto& n : report.detached_broken)
    std::fprintf(stderr, "shardlab: warning: damaged part in detached/%s\n", n.c_str());
  for (const auto& n : report.missing)
    std::fprintf(stderr, "shardlab: warning: missing part: %s\n", n.c_str());
}

std::unique_ptr<engine::Table> open_for_reading(const std::string& dir, bool allow_broken_parts) {
  engine::OpenReport report;
  auto table = engine::Table::open(dir, &report, /*writable=*/false);
  if (!report.damaged()) return table;
  const auto lines = report.damage_lines();
  if (allow_broken_parts) {
    for (const auto& line : lines)
      std::fprintf(stderr, "shardlab: warning: answering without %s\n", line.c_str());
    return table;
  }
  std::string message =
      fmt::format("table '{}' has {} damaged or missing part(s); its answers would be short:", dir,
                  lines.size());
  for (const auto& line : lines) message += "\n  " + line;
  message +=
      "\nRestore the parts (or drop detached/broken_*), or pass --allow-broken-parts to answer "
      "from the healthy parts only";
  throw CorruptionError(message);
}

}  // namespace shardlab::apps
