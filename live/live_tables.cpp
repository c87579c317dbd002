#include "live/live_tables.h"

#include <fmt/format.h>

#include <cctype>

#include "base/errors.h"

namespace shardlab::live {

namespace {

using scenarios::ShardingKind;

// Position of `word` as a whole keyword at or after `from`, case-insensitive; npos if absent.
size_t find_keyword(const std::string& text, const std::string& word, size_t from = 0) {
  for (size_t at = from; at + word.size() <= text.size(); ++at) {
    bool same = true;
    for (size_t i = 0; i < word.size() && same; ++i) {
      same = std::toupper(static_cast<unsigned char>(text[at + i])) ==
             std::toupper(static_cast<unsigned char>(word[i]));
    }
    const auto is_word = [&](size_t i) {
      return i < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_');
    };
    if (same && (at == 0 || !is_word(at - 1)) && !is_word(at + word.size())) return at;
  }
  return std::string::npos;
}

std::string range_expression(const scenarios::Scenario& s) {
  const cluster_config::CheckedSharding checked =
      cluster_config::check_sharding(s.table.schema, s.cluster.sharding);
  std::string out = "multiIf(";
  for (size_t shard = 0; shard < checked.range_bounds.size(); ++shard) {
    out += fmt::format("toInt64({}) < {}, {}, ", s.cluster.sharding.key,
                       checked.range_bounds[shard], shard);
  }
  return out + std::to_string(checked.range_bounds.size()) + ")";
}

std::string list_expression(const scenarios::Scenario& s) {
  const scenarios::ShardingConfig& spec = s.cluster.sharding;
  if (!spec.default_shard) {
    throw InputError(
        "cluster.sharding: list sharding without default_shard cannot be played live: a "
        "ClickHouse sharding expression must send every row somewhere; give default_shard");
  }
  std::string out = "multiIf(";
  for (size_t shard = 0; shard < spec.lists.size(); ++shard) {
    std::string values;
    for (const std::string& value : spec.lists[shard]) {
      values += (values.empty() ? "" : ", ") + sql_quote(value);
    }
    if (values.empty()) continue;
    out += fmt::format("toString({}) IN ({}), {}, ", spec.key, values, shard);
  }
  return out + std::to_string(*spec.default_shard) + ")";
}

// The table's statement with its name and engine replaced.
std::string local_statement(const scenarios::Scenario& s, const std::string& local,
                            const std::string& engine) {
  const std::string& ddl = s.table.ddl;
  const size_t create = find_keyword(ddl, "TABLE");
  const size_t columns = ddl.find('(', create == std::string::npos ? 0 : create);
  const size_t engine_at = find_keyword(ddl, "ENGINE");
  const size_t merge_tree =
      find_keyword(ddl, "MergeTree", engine_at == std::string::npos ? 0 : engine_at);
  if (create == std::string::npos || columns == std::string::npos ||
      engine_at == std::string::npos || merge_tree == std::string::npos) {
    throw InputError("table.ddl: live mode expects CREATE TABLE name (...) ENGINE = MergeTree ...");
  }
  size_t engine_end = merge_tree + std::string("MergeTree").size();
  const size_t after = ddl.find_first_not_of(" \t\n", engine_end);
  if (after != std::string::npos && ddl[after] == '(') {
    const size_t close = ddl.find(')', after);
    if (close == std::string::npos) throw InputError("table.ddl: MergeTree( is not closed");
    if (ddl.find_first_not_of(" \t\n", after + 1) != close) {
      throw InputError(
          "table.ddl: live mode needs the MergeTree() form with PARTITION BY and "
          "ORDER BY clauses, not MergeTree(arguments)");
    }
    engine_end = close + 1;
  }
  return "CREATE TABLE " + local + " " + ddl.substr(columns, engine_at - columns) +
         "ENGINE = " + engine + ddl.substr(engine_end);
}

}  // namespace

std::string sql_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string sharding_expression(const scenarios::Scenario& s) {
  const scenarios::ShardingConfig& spec = s.cluster.sharding;
  switch (spec.kind) {
    case ShardingKind::kHash:
      return spec.key;
    case ShardingKind::kJump:
      return fmt::format("jumpConsistentHash(toUInt64({}), {})", spec.key, s.cluster.shards);
    case ShardingKind::kRandom:
      return "rand()";
    case ShardingKind::kRange:
      return range_expression(s);
    case ShardingKind::kList:
      return list_expression(s);
  }
  throw InputError("cluster.sharding: unknown kind");
}

LiveTables live_tables(const scenarios::Scenario& s, const std::string& database,
                       const std::string& cluster_name, const std::string& run_id) {
  if (s.table.schema.ttl) {
    throw InputError("table.ddl: TTL cannot be played live: ClickHouse 18.16 has no TTL (19.6)");
  }
  LiveTables t;
  const std::string& name = s.table.schema.name;
  t.database = database;
  t.run_id = run_id;
  t.distributed = database + "." + name;
  t.local = database + "." + name + "_local";
  const bool replicated = s.cluster.replicas > 1;
  const std::string engine =
      replicated ? fmt::format(
                       "ReplicatedMergeTree('/clickhouse/shardlab/{}/{}/{{shard}}/{}', "
                       "'{{replica}}')",
                       database, run_id, name)
                 : "MergeTree()";
  t.local_ddl = local_statement(s, t.local, engine);
  t.sharding_expression = sharding_expression(s);
  const scenarios::ShardingConfig& spec = s.cluster.sharding;
  const bool weighted = spec.kind == ShardingKind::kHash || spec.kind == ShardingKind::kRandom;
  for (size_t shard = 0; shard < s.cluster.shards; ++shard) {
    t.shard_weights.push_back(weighted && !spec.weights.empty() ? spec.weights[shard] : 1);
  }
  t.distributed_ddl =
      fmt::format("CREATE TABLE {} AS {} ENGINE = Distributed({}, {}, {}, {})", t.distributed,
                  t.local, cluster_name, database, name + "_local", t.sharding_expression);
  return t;
}

}  // namespace shardlab::live
