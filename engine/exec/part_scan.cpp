#include "engine/exec/part_scan.h"

#include <algorithm>

#include "engine/exec/row_sort.h"

namespace shardlab::engine {
namespace {

constexpr size_t kChunkGranules = 8;

// Once a partial has read a sample of its rows, it reserves the groups they extrapolate to:
// one rehash instead of one per doubling of the table, each of which moves every group through
// fresh memory. Extrapolating by rows read, not rows aggregated, carries the filter's
// selectivity along. Skewed keys (a few users with most events) make it an overestimate, by
// less than 2x on the generated user ids.
void size_aggregation(PartResult* result) {
  constexpr uint64_t kMinSampleRows = 65536;
  const uint64_t read = result->profile.rows_read;
  const uint64_t expected = result->rows_expected;
  if (expected == 0 || read < std::max(kMinSampleRows, expected / 16)) return;
  result->rows_expected = 0;
  if (expected <= read) return;
  const double scale = static_cast<double>(expected) / static_cast<double>(read);
  result->aggregate->expect_rows(scale);
}

}  // namespace

PartScan::PartScan(const QueryPlan& plan, const PartPtr& part, PartResult* into,
                   std::vector<ColumnFiles>* files)
    : plan_(plan),
      part_(part),
      result_(*into),
      files_(files),
      ncols_(plan.schema->columns.size()),
      budget_(plan.row_budget()) {}

ColumnReader& PartScan::reader(size_t col) {
  if (!readers_[col]) {
    ColumnFiles shared;
    if (files_ != nullptr) {
      files_->resize(ncols_);
      if (!(*files_)[col].bin) (*files_)[col] = ColumnFiles::open(*part_, col);
      shared = (*files_)[col];
    }
    readers_[col] = std::make_unique<ColumnReader>(part_, col, &stats_[col], std::move(shared));
  }
  return *readers_[col];
}

void PartScan::load(size_t col) {
  if (is_loaded_[col]) return;
  loaded_[col] = reader(col).read(first_, count_);
  inputs_[col] = &loaded_[col];
  is_loaded_[col] = 1;
}

void PartScan::build_accept_tables() {
  accept_.resize(plan_.conjuncts.size());
  for (size_t c = 0; c < plan_.conjuncts.size(); ++c) {
    if (!plan_.on_codes[c]) continue;
    const size_t col = *plan_.on_codes[c];
    Column entries(TypeId::kLowCardinality);
    entries.dict = part_->dictionary(col);
    const size_t n = entries.dict->size();
    if (n > 256) continue;
    entries.resize_fixed(n);
    for (uint32_t code = 0; code < n; ++code) entries.values<uint32_t>()[code] = code;
    std::vector<const Column*> entry_inputs(ncols_, nullptr);
    entry_inputs[col] = &entries;
    accept_[c].assign(256, 1);
    evaluate_filter(*plan_.conjuncts[c], entry_inputs, n, accept_[c].data());
    std::fill(accept_[c].begin() + static_cast<std::ptrdiff_t>(n), accept_[c].end(), 0);
  }
}

void PartScan::run(const std::vector<GranuleRange>& ranges) {
  WorkProfile& profile = result_.profile;
  if (ranges.empty()) return;
  profile.parts_selected += 1;
  for (const auto& r : ranges) profile.granules_selected += r.end - r.begin;
  stats_.resize(ncols_);
  readers_.resize(ncols_);
  build_accept_tables();
  loaded_.resize(ncols_);
  is_loaded_.resize(ncols_);
  inputs_.assign(ncols_, nullptr);
  for (const GranuleRange& range : ranges) {
    for (size_t first = range.begin; first < range.end; first += kChunkGranules) {
      if (!plan_.aggregate && plan_.order.empty() && rows_collected_ >= budget_) break;
      scan_chunk(range.conjuncts, first, std::min(kChunkGranules, range.end - first));
    }
  }
  add_column_stats();
}

void PartScan::scan_chunk(uint64_t conjuncts, size_t first, size_t count) {
  WorkProfile& profile = result_.profile;
  first_ = first;
  count_ = count;
  size_t rows = 0;
  for (size_t g = first; g < first + count; ++g) rows += part_->granule_rows(g);
  std::fill(is_loaded_.begin(), is_loaded_.end(), 0);
  mask_.assign(rows, 1);
  bool filtered = false;
  const bool any = filter_chunk(conjuncts, rows, &filtered);
  profile.granules_read += count;
  profile.rows_read += rows;
  if (!any) return;
  const size_t passed = filtered ? count_selected(mask_.data(), rows) : rows;
  profile.rows_passed += passed;
  narrow_outputs(rows, passed);
  if (plan_.aggregate) {
    aggregate(passed);
  } else {
    collect_rows(passed);
  }
}

bool PartScan::filter_chunk(uint64_t conjuncts, size_t rows, bool* filtered) {
  for (size_t c : plan_.conjunct_order) {
    if (c < 64 && !((conjuncts >> c) & 1)) continue;  // the index decided it
    const auto& on_planes = plan_.equals_on_planes[c];
    if (on_planes && !is_loaded_[on_planes->first]) {
      reader(on_planes->first).filter_equals(first_, count_, on_planes->second, mask_.data());
    } else if (!accept_[c].empty() && !is_loaded_[*plan_.on_codes[c]] &&
               reader(*plan_.on_codes[c])
                   .filter_codes(first_, count_, accept_[c].data(), mask_.data())) {
      // Decided on the stored codes.
    } else {
      for (size_t col : plan_.conjunct_columns[c]) load(col);
      evaluate_filter(*plan_.conjuncts[c], inputs_, rows, mask_.data());
    }
    *filtered = true;
    if (std::find(mask_.begin(), mask_.end(), 1) == mask_.end()) return false;
  }
  return true;
}

// Columns not read yet are read for the rows that passed only (late materialisation).
void PartScan::narrow_outputs(size_t rows, size_t passed) {
  narrowed_.assign(ncols_, Column());
  out_inputs_.assign(ncols_, nullptr);
  for (size_t col : plan_.output_columns) {
    if (passed == rows) {
      load(col);
      out_inputs_[col] = &loaded_[col];
    } else if (is_loaded_[col]) {
      narrowed_[col] = filter_column(loaded_[col], mask_.data(), passed);
      out_inputs_[col] = &narrowed_[col];
    } else {
      narrowed_[col] = reader(col).read_selected(first_, count_, mask_.data());
      out_inputs_[col] = &narrowed_[col];
    }
  }
}

void PartScan::aggregate(size_t passed) {
  // A key or argument that is a plain column is used in place, not copied.
  std::vector<Column> computed(plan_.group_keys.size() + plan_.aggregates.size());
  auto column_of = [&](const ExprNode& node, size_t slot) -> const Column* {
    if (node.kind == ExprNode::Kind::kInput) return out_inputs_[node.input];
    computed[slot] = evaluate_column(node, out_inputs_, passed);
    return &computed[slot];
  };
  std::vector<const Column*> keys, args(plan_.aggregates.size(), nullptr);
  for (size_t k = 0; k < plan_.group_keys.size(); ++k)
    keys.push_back(column_of(*plan_.group_keys[k], k));
  for (size_t a = 0; a < plan_.aggregates.size(); ++a)
    if (plan_.aggregates[a].arg)
      args[a] = column_of(*plan_.aggregates[a].arg, plan_.group_keys.size() + a);
  result_.aggregate->add(keys, args, passed);
  result_.profile.rows_aggregated += passed;
  size_aggregation(&result_);
}

void PartScan::collect_rows(size_t passed) {
  const size_t width = plan_.select.size() + plan_.order.size();
  for (size_t idx = 0; idx < width; ++idx) {
    const ExprNode& node =
        idx < plan_.select.size() ? *plan_.select[idx] : *plan_.order[idx - plan_.select.size()];
    append_column(&result_.rows[idx], evaluate_column(node, out_inputs_, passed));
  }
  rows_collected_ += passed;
  // Keep memory bounded under ORDER BY ... LIMIT: cut back to the best `budget` rows.
  if (!plan_.order.empty() && budget_ != UINT64_MAX &&
      rows_collected_ > std::max<uint64_t>(2 * budget_, 65536)) {
    std::vector<const Column*> keys;
    for (size_t k = 0; k < plan_.order.size(); ++k)
      keys.push_back(&result_.rows[plan_.select.size() + k]);
    const auto keep = sort_rows(keys, plan_.desc, rows_collected_, budget_);
    for (auto& c : result_.rows) c = gather_column(c, keep.data(), keep.size());
    rows_collected_ = keep.size();
  }
}

void PartScan::add_column_stats() {
  for (size_t col = 0; col < ncols_; ++col) {
    if (!readers_[col]) continue;
    ColumnStats& total = result_.profile.columns[plan_.schema->columns[col].name];
    total.compressed_bytes += stats_[col].compressed_bytes;
    total.uncompressed_bytes += stats_[col].uncompressed_bytes;
  }
}

}  // namespace shardlab::engine
