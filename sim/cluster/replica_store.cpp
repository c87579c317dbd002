#include "sim/cluster/replica_store.h"

#include <algorithm>
#include <map>

#include "base/errors.h"
#include "sim/cluster/cost_model.h"
#include "sim/core/fault.h"

namespace shardlab::sim::cluster {

namespace {

// The part called `name` among `parts`, or one that covers it (a merge has absorbed it).
engine::PartPtr covering(const std::vector<engine::PartPtr>& parts, const std::string& name) {
  const std::optional<engine::PartInfo> info = engine::PartInfo::parse(name);
  for (const engine::PartPtr& p : parts) {
    if (p->name() == name || (info && p->info().contains(*info))) return p;
  }
  return nullptr;
}

}  // namespace

ReplicaStore::ReplicaStore(const std::filesystem::path& dir, std::string_view ddl,
                           StoreCaches* caches, size_t memo_copy, size_t kept_id)
    : table_(engine::Table::create(dir, ddl)),
      caches_(caches),
      memo_copy_(memo_copy),
      kept_id_(kept_id) {}

ReplicaStore::~ReplicaStore() = default;

// ---- Inserts ---------------------------------------------------------------------------------

uint64_t ReplicaStore::insert_delay_ms() const {
  return table_->insert_delay_ms(table_->max_parts_in_partition());
}

uint64_t ReplicaStore::partitions_of(const engine::Block& block) const {
  return table_->partitions_of(block);
}

engine::InsertResult ReplicaStore::insert(const engine::Block& block,
                                          std::optional<uint64_t> first_block) {
  engine::InsertResult result;
  try {
    result = first_block ? table_->insert(block, *first_block) : table_->insert(block);
  } catch (const RuntimeError& e) {
    throw SimFault(FaultKind::kRefused, e.what());
  }
  hidden_.insert(hidden_.end(), result.parts.begin(), result.parts.end());
  return result;
}

void ReplicaStore::publish(const engine::InsertResult& write) {
  std::erase_if(hidden_, [&](const std::string& p) {
    return std::find(write.parts.begin(), write.parts.end(), p) != write.parts.end();
  });
}

void ReplicaStore::roll_back(const engine::InsertResult& write) {
  publish(write);
  for (const std::string& name : write.parts) table_->drop_part(name);
}

// ---- Merges ----------------------------------------------------------------------------------

std::optional<engine::MergePlan> ReplicaStore::select_merge() const {
  return engine::select_merge(mergeable_parts(), table_->schema().settings);
}

bool ReplicaStore::has_all_active(const std::vector<engine::PartPtr>& parts) const {
  bool all = true;
  for (const engine::PartPtr& part : parts) {
    all = all && table_->find_active(part->name()) == part;
  }
  return all;
}

MergeOutcome ReplicaStore::merge(const engine::MergePlan& plan, int64_t now_s) {
  MergeOutcome outcome;
  outcome.profile = table_->merge(plan, now_s);
  if (!outcome.profile.result_part.empty()) {
    outcome.merged = table_->find_active(outcome.profile.result_part);
  }
  return outcome;
}

std::optional<std::vector<engine::PartPtr>> ReplicaStore::find_all_active(
    const std::vector<std::string>& names) const {
  std::vector<engine::PartPtr> parts;
  for (const std::string& name : names) {
    engine::PartPtr part = table_->find_active(name);
    if (!part) return std::nullopt;
    parts.push_back(std::move(part));
  }
  return parts;
}

MergeOutcome ReplicaStore::replay_merge(const std::string& result,
                                        const std::vector<std::string>& sources,
                                        int64_t merged_at_s) {
  engine::MergePlan plan;
  plan.result = *engine::PartInfo::parse(result);
  plan.partition_id = plan.result.partition_id;
  for (const std::string& name : sources) {
    engine::PartPtr part = table_->find_active(name);
    // A source fetched away meanwhile (covered by a newer part): apply the entry again later.
    if (!part) throw SimFault(FaultKind::kUnreachable, name + " is no longer active here");
    plan.rows += part->rows();
    plan.bytes += part->bytes_on_disk();
    plan.parts.push_back(std::move(part));
  }
  MergeOutcome outcome;
  outcome.profile = table_->merge(plan, merged_at_s);
  SHARDLAB_ASSERT(outcome.profile.result_part == result, "merging {} here made {}", result,
                  outcome.profile.result_part);
  outcome.merged = table_->find_active(outcome.profile.result_part);
  return outcome;
}

void ReplicaStore::drop_parts(const std::vector<std::string>& names) {
  for (const std::string& name : names) table_->drop_part(name);
}

std::vector<engine::PartPtr> ReplicaStore::mergeable_parts() const {
  std::vector<engine::PartPtr> parts = table_->active_parts();
  if (hidden_.empty()) return parts;
  // Writes in flight hold the newest block numbers of their partitions: the parts below the
  // lowest of them can merge (a merge must not span a block still being written); a partition
  // with no write in flight merges as usual. Waiting for no write at all would starve merges
  // under steady ingest, when some write is nearly always in flight.
  std::map<std::string, uint64_t> first_hidden;
  for (const std::string& name : hidden_) {
    const std::optional<engine::PartInfo> info = engine::PartInfo::parse(name);
    if (!info) continue;
    auto [it, inserted] = first_hidden.emplace(info->partition_id, info->min_block);
    if (!inserted) it->second = std::min(it->second, info->min_block);
  }
  std::erase_if(parts, [&](const engine::PartPtr& part) {
    const auto it = first_hidden.find(part->info().partition_id);
    return it != first_hidden.end() && part->info().max_block >= it->second;
  });
  return parts;
}

// ---- Replication -----------------------------------------------------------------------------

bool ReplicaStore::has_covering(const std::string& part) const {
  return covering(table_->active_parts(), part) != nullptr;
}

engine::PartPtr ReplicaStore::find_visible_covering(const std::string& part) const {
  return covering(visible_parts(), part);
}

bool ReplicaStore::attach_from(const ReplicaStore& peer, const engine::PartPtr& part) {
  if (peer.table_->find_active(part->name()) != part) return false;
  table_->attach_linked(*part);
  return true;
}

bool ReplicaStore::detach_broken(const std::string& part) {
  return !hidden(part) && table_->detach_broken(part);
}

bool ReplicaStore::holds(const std::string& part) const {
  return has_covering(part) && !hidden(part);
}

// ---- Queries ---------------------------------------------------------------------------------

bool ReplicaStore::hidden(const std::string& part) const {
  return std::find(hidden_.begin(), hidden_.end(), part) != hidden_.end();
}

std::vector<engine::PartPtr> ReplicaStore::visible_parts() const {
  std::vector<engine::PartPtr> parts = table_->active_parts();
  if (!hidden_.empty()) {
    std::erase_if(parts, [&](const engine::PartPtr& p) { return hidden(p->name()); });
  }
  return parts;
}

uint64_t ReplicaStore::visible_rows() const {
  uint64_t rows = 0;
  for (const engine::PartPtr& part : visible_parts()) rows += part->rows();
  return rows;
}

engine::PartPtr ReplicaStore::find_active(const std::string& name) const {
  return table_->find_active(name);
}

const engine::PartResult& ReplicaStore::memoised(const engine::Query& query,
                                                 const engine::PartPtr& part, MemoStats* stats) {
  PartResultCache& memo = caches_->memo;
  if (const engine::PartResult* found = memo.find(memo_copy_, query.fingerprint(), part->name())) {
    ++stats->hits;
    return *found;
  }
  ++stats->misses;
  return memo.insert(memo_copy_, query.fingerprint(), part->name(), query.run_part(part));
}

engine::PartResult ReplicaStore::run_query(const engine::Query& query, std::vector<PartRead>* reads,
                                           MemoStats* stats) {
  engine::PartResult partial = query.empty_result();
  const std::vector<engine::PartPtr> parts = visible_parts();
  std::vector<engine::WorkProfile> profiles(parts.size());
  if (!partial.aggregate) {
    for (size_t idx = 0; idx < parts.size(); ++idx) {
      const engine::PartResult& result = memoised(query, parts[idx], stats);
      PartResultCache::accumulate(result, &partial);
      profiles[idx] = result.profile;
    }
  } else {
    aggregate(query, parts, &partial, &profiles, stats);
  }
  if (reads) {
    for (size_t idx = 0; idx < parts.size(); ++idx) {
      reads->push_back(PartRead{parts[idx], std::move(profiles[idx])});
    }
  }
  partial.profile.groups = partial.aggregate ? partial.aggregate->groups() : 0;
  partial.profile.result_bytes = partial_result_bytes(partial);
  return partial;
}

void ReplicaStore::aggregate(const engine::Query& query, const std::vector<engine::PartPtr>& parts,
                             engine::PartResult* partial,
                             std::vector<engine::WorkProfile>* profiles, MemoStats* stats) {
  // Aggregations start from the replica's kept merged state of its settled parts (large ones,
  // which later merges rarely combine with parts the state has not seen), brought up to date,
  // and merge in only the recent parts, which inserts and merges keep replacing.
  std::vector<engine::PartPtr> settled;
  std::vector<size_t> settled_at, recent_at;
  for (size_t idx = 0; idx < parts.size(); ++idx) {
    if (parts[idx]->rows() >= caches_->settled_rows) {
      settled.push_back(parts[idx]);
      settled_at.push_back(idx);
    } else {
      recent_at.push_back(idx);
    }
  }
  MergedAggregateCache& kept = caches_->merged;
  auto update = kept.begin(kept_id_, query.fingerprint(), settled, std::move(*partial->aggregate));
  for (size_t k = 0; k < settled.size(); ++k) {
    const engine::PartResult& result = memoised(query, settled[k], stats);
    if (update.needs(k)) {
      update.add(*result.aggregate);
    } else {
      ++stats->kept_parts_reused;
    }
    (*profiles)[settled_at[k]] = result.profile;
  }
  partial->aggregate.emplace(kept.finish(kept_id_, query.fingerprint(), settled));
  for (size_t idx : recent_at) {
    const engine::PartResult& result = memoised(query, parts[idx], stats);
    partial->aggregate->merge(*result.aggregate);
    (*profiles)[idx] = result.profile;
  }
  for (const engine::WorkProfile& profile : *profiles) partial->profile.add(profile);
}

}  // namespace shardlab::sim::cluster
