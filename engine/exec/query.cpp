#include "shardlab/engine/query.h"

#include "engine/exec/part_scan.h"
#include "engine/exec/query_plan.h"

namespace shardlab::engine {

Query::Query() : plan_(std::make_unique<Plan>()) {}
Query::~Query() = default;
const std::string& Query::fingerprint() const { return plan_->fingerprint; }
bool Query::is_aggregate() const { return plan_->aggregate; }

std::unique_ptr<Query> Query::prepare(const TableSchema& schema, std::string_view sql) {
  std::unique_ptr<Query> query(new Query());
  plan_query(schema, sql, query->plan_.get());
  return query;
}

PartResult Query::run_part(const PartPtr& part) const {
  PartResult result = run_ranges(part, plan_->key_condition->select(*part));
  result.profile.parts_total = 1;
  result.profile.granules_total = part->granules();
  return result;
}

PartResult Query::empty_result() const {
  PartResult result;
  if (plan_->aggregate) {
    std::vector<DataType> key_types;
    for (const auto& k : plan_->group_keys) key_types.push_back(k->type);
    result.aggregate.emplace(key_types, plan_->aggregates);
  } else {
    result.rows.resize(plan_->select.size() + plan_->order.size());
  }
  return result;
}

PartResult Query::run_ranges(const PartPtr& part, const std::vector<GranuleRange>& ranges) const {
  PartResult result = empty_result();
  run_ranges_into(part, ranges, &result);
  return result;
}

void Query::run_ranges_into(const PartPtr& part, const std::vector<GranuleRange>& ranges,
                            PartResult* into, std::vector<ColumnFiles>* files) const {
  PartScan(*plan_, part, into, files).run(ranges);
}

}  // namespace shardlab::engine
