// Query execution across parts and threads (run()) and the final stage (finish()): merging
// the partial results, HAVING, the SELECT list, ORDER BY, OFFSET and LIMIT.
#include <algorithm>
#include <numeric>

#include "engine/common/parallel.h"
#include "shardlab/engine/query.h"
#include "engine/exec/query_plan.h"
#include "engine/exec/row_sort.h"
#include "engine/storage/column_reader.h"

namespace shardlab::engine {
namespace {

// Granules per unit of parallel work: large enough to amortise set-up, small enough to keep
// two cores busy on a single partition.
constexpr size_t kUnitGranules = 64;

// The columns the final stage orders and outputs: SELECT then ORDER BY columns, each computed
// or one of `table`'s.
struct FinalColumns {
  std::vector<Column> table;     // columns the final stage evaluates over
  std::vector<Column> computed;  // the final stage's computed columns
  std::vector<const Column*> finals;
  size_t rows = 0;
};

// The merged aggregate, filtered by HAVING, then the SELECT list and ORDER BY over it.
void finish_aggregate(const QueryPlan& p, Aggregator total, std::vector<const Aggregator*> others,
                      unsigned threads, FinalColumns* f, WorkProfile* profile) {
  f->table = std::move(total).merge_and_finish(others, threads);
  f->rows = f->table.empty() ? 0 : f->table[0].rows;
  profile->groups = f->rows;  // finish() gives one row per group
  std::vector<const Column*> inputs;
  for (const auto& c : f->table) inputs.push_back(&c);
  if (p.having) {
    PodVector<uint8_t> mask(f->rows, 1);
    evaluate_filter(*p.having, inputs, f->rows, mask.data());
    const size_t kept = count_selected(mask.data(), f->rows);
    for (auto& c : f->table) c = filter_column(c, mask.data(), kept);
    f->rows = kept;
    inputs.clear();
    for (const auto& c : f->table) inputs.push_back(&c);
  }
  // A plain reference to a key or aggregate is used in place: a million groups would
  // otherwise be copied once per mention before ORDER BY ... LIMIT keeps a few of them.
  f->computed.reserve(p.select.size() + p.order.size());
  auto add_final = [&](const ExprNode& node) {
    if (node.kind == ExprNode::Kind::kInput) {
      f->finals.push_back(inputs[node.input]);
    } else {
      f->computed.push_back(evaluate_column(node, inputs, f->rows));
      f->finals.push_back(&f->computed.back());
    }
  };
  for (const auto& s : p.select) add_final(*s);
  for (const auto& o : p.order) add_final(*o);
}

// The partials' rows, concatenated in order.
void finish_rows(const QueryPlan& p, const std::vector<PartResult>& partials, FinalColumns* f) {
  f->computed.resize(p.select.size() + p.order.size());
  for (size_t idx = 0; idx < f->computed.size(); ++idx) {
    const ExprNode& node = idx < p.select.size() ? *p.select[idx] : *p.order[idx - p.select.size()];
    f->computed[idx] = Column(node.type);
  }
  for (const auto& partial : partials)
    for (size_t idx = 0; idx < f->computed.size(); ++idx)
      append_column(&f->computed[idx], partial.rows[idx]);
  f->rows = f->computed.empty() ? 0 : f->computed[0].rows;
  for (const Column& c : f->computed) f->finals.push_back(&c);
}

// A work unit: a slice of a part's selected granules.
struct Unit {
  size_t part;
  std::vector<GranuleRange> ranges;
};

// Cuts each part's selected granules into units of kUnitGranules, the same way whatever the
// thread count; `part_level` gets each part's part-level profile counts.
std::vector<Unit> cut_units(const QueryPlan& p, const std::vector<PartPtr>& parts,
                            std::vector<WorkProfile>* part_level) {
  std::vector<Unit> units;
  for (size_t idx = 0; idx < parts.size(); ++idx) {
    (*part_level)[idx].parts_total = 1;
    (*part_level)[idx].granules_total = parts[idx]->granules();
    const std::vector<GranuleRange> ranges = p.key_condition->select(*parts[idx]);
    if (ranges.empty()) continue;
    (*part_level)[idx].parts_selected = 1;
    Unit unit{idx, {}};
    size_t granules = 0;
    for (GranuleRange range : ranges) {
      while (range.begin < range.end) {
        const size_t take = std::min(range.end - range.begin, kUnitGranules - granules);
        unit.ranges.push_back({range.begin, range.begin + take, range.conjuncts});
        range.begin += take;
        granules += take;
        if (granules == kUnitGranules) {
          units.push_back(std::move(unit));
          unit = Unit{idx, {}};
          granules = 0;
        }
      }
    }
    if (!unit.ranges.empty()) units.push_back(std::move(unit));
  }
  return units;
}

// Cuts `units` again so that thread t owns the t-th of `threads` equal, contiguous shares of
// the selected granules; `owner` gets each new unit's thread.
std::vector<Unit> share_units(const std::vector<Unit>& units, unsigned threads,
                              std::vector<unsigned>* owner) {
  size_t total = 0;
  for (const Unit& unit : units)
    for (const GranuleRange& range : unit.ranges) total += range.end - range.begin;
  std::vector<Unit> shared;
  owner->clear();
  size_t seen = 0;  // granules handed out so far
  for (const Unit& unit : units) {
    Unit piece{unit.part, {}};
    unsigned piece_owner = 0;
    for (GranuleRange range : unit.ranges) {
      while (range.begin < range.end) {
        const auto t = static_cast<unsigned>(seen * threads / total);
        if (!piece.ranges.empty() && t != piece_owner) {
          shared.push_back(std::move(piece));
          owner->push_back(piece_owner);
          piece = Unit{unit.part, {}};
        }
        piece_owner = t;
        // The first granule of the next share: the least i with i * threads / total > t.
        const size_t next_share = ((t + 1) * total + threads - 1) / threads;
        const size_t take = std::min(range.end - range.begin, next_share - seen);
        piece.ranges.push_back({range.begin, range.begin + take, range.conjuncts});
        range.begin += take;
        seen += take;
      }
    }
    if (!piece.ranges.empty()) {
      shared.push_back(std::move(piece));
      owner->push_back(piece_owner);
    }
  }
  return shared;
}

}  // namespace

QueryResult Query::finish(std::vector<PartResult> partials, unsigned threads) const {
  const Plan& p = *plan_;
  QueryResult out;
  out.names = p.names;
  for (const auto& partial : partials) out.profile.add(partial.profile);
  FinalColumns f;
  if (p.aggregate) {
    // The first partial is the base: merging it into an empty aggregator would copy it, and
    // groups keep the same first-seen order either way.
    Aggregator total = partials.empty() ? std::move(*empty_result().aggregate)
                                        : std::move(*partials.front().aggregate);
    std::vector<const Aggregator*> others;
    for (size_t idx = 1; idx < partials.size(); ++idx) others.push_back(&*partials[idx].aggregate);
    finish_aggregate(p, std::move(total), std::move(others), threads, &f, &out.profile);
  } else {
    finish_rows(p, partials, &f);
  }
  // ORDER BY, then OFFSET and LIMIT.
  const uint64_t budget = p.row_budget();
  std::vector<uint32_t> order;
  if (!p.order.empty()) {
    std::vector<const Column*> keys;
    for (size_t k = 0; k < p.order.size(); ++k) keys.push_back(f.finals[p.select.size() + k]);
    order = sort_rows(keys, p.desc, f.rows, budget);
  } else {
    order.resize(std::min<uint64_t>(f.rows, budget));
    std::iota(order.begin(), order.end(), 0);
  }
  const size_t skip = std::min<size_t>(order.size(), p.offset);
  order.erase(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(skip));
  for (size_t idx = 0; idx < p.select.size(); ++idx) {
    out.columns.push_back(gather_column(*f.finals[idx], order.data(), order.size()));
    out.profile.result_bytes += out.columns.back().byte_size();
  }
  out.profile.result_rows = order.size();
  return out;
}

// Work units are slices of a part's selected granules, cut the same way whatever the thread
// count, and partial results merge in a fixed order: answers and profiles do not depend on
// the number of threads (save the last bits of float sums, see below).
QueryResult Query::run(const std::vector<PartPtr>& parts, unsigned threads) const {
  std::vector<WorkProfile> part_level(parts.size());
  std::vector<Unit> units = cut_units(*plan_, parts, &part_level);
  // Aggregations accumulate one partial per thread: merging per-unit partials would cost as
  // much as aggregating again when groups are many. Thread t takes the t-th of T equal,
  // contiguous shares of the selected granules (units cut again at the shares' edges), so the
  // threads finish together, and float sums are reproducible for a given thread count. Row
  // queries keep one partial per unit, unit u on thread u mod T, so LIMIT without ORDER BY
  // sees units in order.
  threads = std::max(
      1u, std::min<unsigned>(threads, static_cast<unsigned>(std::max<size_t>(units.size(), 1))));
  const bool per_thread = plan_->aggregate;
  std::vector<unsigned> owner(units.size());
  for (size_t idx = 0; idx < units.size(); ++idx) owner[idx] = static_cast<unsigned>(idx % threads);
  if (per_thread && threads > 1) units = share_units(units, threads, &owner);
  std::vector<PartResult> partials(per_thread ? threads : units.size());
  for (auto& partial : partials) partial = empty_result();
  if (per_thread) {
    for (size_t idx = 0; idx < units.size(); ++idx) {
      const PartPtr& part = parts[units[idx].part];
      for (const GranuleRange& range : units[idx].ranges)
        for (size_t g = range.begin; g < range.end; ++g)
          partials[owner[idx]].rows_expected += part->granule_rows(g);
    }
  }
  // Each thread keeps the column files of the part it is on: its units are in part order.
  struct OpenPart {
    size_t part = SIZE_MAX;
    std::vector<ColumnFiles> files;
  };
  std::vector<OpenPart> open(threads);
  auto run_unit = [&](size_t idx, unsigned thread) {
    PartResult& into = partials[per_thread ? thread : idx];
    OpenPart& current = open[thread];
    if (current.part != units[idx].part) {
      current.files.clear();
      current.part = units[idx].part;
    }
    const uint64_t selected_before = into.profile.parts_selected;
    run_ranges_into(parts[units[idx].part], units[idx].ranges, &into, &current.files);
    into.profile.parts_selected = selected_before;  // counted once per part below
  };
  const bool first_rows_only = !plan_->aggregate && plan_->order.empty() && plan_->limit;
  if (threads <= 1 || first_rows_only) {
    // LIMIT without ORDER BY wants the first rows in unit order: stop once it has them.
    uint64_t collected = 0;
    for (size_t idx = 0; idx < units.size() && collected < plan_->row_budget(); ++idx) {
      run_unit(idx, 0);
      if (first_rows_only && !partials[idx].rows.empty()) collected += partials[idx].rows[0].rows;
    }
  } else {
    run_in_parallel(threads, [&](unsigned t) {
      for (size_t idx = 0; idx < units.size(); ++idx)
        if (owner[idx] == t) run_unit(idx, t);
    });
  }
  for (const WorkProfile& level : part_level) {
    PartResult counts = empty_result();
    counts.profile = level;
    partials.push_back(std::move(counts));
  }
  return finish(std::move(partials), threads);
}

}  // namespace shardlab::engine
