#include "shardlab/engine/aggregator.h"

#include <algorithm>
#include <tuple>

#include "base/errors.h"
#include "engine/exec/aggregate_states.h"
#include "engine/exec/count_table.h"
#include "engine/exec/group_table.h"
#include "engine/exec/uniq_set.h"

namespace shardlab::engine {
namespace {

// What memory_bytes() charges for the state itself, besides what its tables hold: the size
// the state had when it was one struct. Caches weigh their entries by memory_bytes(), so the
// figure is kept as it was rather than follow the layout of the classes.
constexpr size_t kStateBytes = 464;

}  // namespace

// An aggregation's groups in one of two layouts: the counts-only layout (CountTable) while it
// applies, else the general one (GroupTable keys, AggregateStates states).
struct Aggregator::State {
  State(std::vector<DataType> key_types, std::vector<AggregateSpec> specs)
      : table(std::move(key_types)),
        counted(table.key_types().empty() ? DataType(TypeId::kUInt64) : table.key_types()[0],
                specs.size()),
        aggregates(std::move(specs)),
        counting(CountTable::applies(table.key_types(), aggregates.specs())) {
    aggregates.grow_to(table.groups());
  }

  size_t groups() const { return counting ? counted.groups() : table.groups(); }
  bool can_merge_counted(const State& os) const {
    return counting && os.counting &&
           counted.rows_counted() + os.counted.rows_counted() <= UINT32_MAX;
  }
  // Counts rows of the counting layout's key; false (nothing counted) if a key or the count no
  // longer fits it.
  bool count(const Column& key, size_t rows);
  // Moves the counted groups to the general layout, in slot order, for good.
  void leave_counting();
  // Merges `os`, in the general layout, into this state's general layout.
  void merge_general(const State& os);
  // `os` in the general layout: itself, or a copy moved out of counting mode into `holder`.
  static const State& general_layout(const State& os, std::unique_ptr<State>* holder);

  GroupTable table;
  CountTable counted;
  AggregateStates aggregates;
  bool counting;
  PodVector<uint32_t> group_ids;
};

bool Aggregator::State::count(const Column& key, size_t rows) {
  const size_t width = table.key_width();
  // The only key, a 4- or 8-byte integer column: its values are the encoded keys.
  SHARDLAB_ASSERT(key.type.width() == width, "key column of {} for a {}-byte key", key.type.name(),
                  width);
  const uint8_t* key_bytes = key.data.data();
  bool fits = counted.rows_counted() + rows <= UINT32_MAX;
  if (fits && width == 8) {
    uint64_t high = 0;
    const auto* wide = reinterpret_cast<const uint64_t*>(key_bytes);
    for (size_t row = 0; row < rows; ++row) high |= wide[row];
    fits = (high >> 32) == 0;
  }
  if (!fits) return false;
  if (width == 8) {
    counted.count(reinterpret_cast<const uint64_t*>(key_bytes), rows);
  } else {
    counted.count(reinterpret_cast<const uint32_t*>(key_bytes), rows);
  }
  return true;
}

void Aggregator::State::leave_counting() {
  if (!counting) return;
  counting = false;
  const LargePageVector<CountSlot> slots = counted.take_slots();
  for (const CountSlot& slot : slots) {
    if (slot.count == 0) continue;
    const uint32_t g = table.find_or_insert_counted(slot.key);
    aggregates.grow_to(table.groups());
    aggregates.set_counts(g, slot.count);
  }
}

void Aggregator::State::merge_general(const State& os) {
  const LargePageVector<uint32_t> target = table.map_groups(os.table);
  aggregates.grow_to(table.groups());
  for (size_t a = 0; a < aggregates.specs().size(); ++a)
    aggregates.merge(os.aggregates, target.data(), a);
}

const Aggregator::State& Aggregator::State::general_layout(const State& os,
                                                           std::unique_ptr<State>* holder) {
  if (!os.counting) return os;
  *holder = std::make_unique<State>(os);
  (*holder)->leave_counting();
  return **holder;
}

Aggregator::Aggregator(std::vector<DataType> key_types, std::vector<AggregateSpec> aggregates)
    : state_(std::make_unique<State>(std::move(key_types), std::move(aggregates))) {}

Aggregator::~Aggregator() = default;
Aggregator::Aggregator(Aggregator&&) noexcept = default;
Aggregator::Aggregator(const Aggregator& other)
    : state_(std::make_unique<State>(other.settled())) {}
Aggregator& Aggregator::operator=(Aggregator&&) noexcept = default;

Aggregator::State& Aggregator::settled() const {
  // Blocks kept by a settle at the bound are freed even when no key was set aside since.
  if (state_->counted.holds_pending()) state_->counted.settle_pending(/*release=*/true);
  return *state_;
}

size_t Aggregator::groups() const { return settled().groups(); }

size_t Aggregator::memory_bytes() const {
  const State& st = settled();
  return kStateBytes + st.table.memory_bytes() + st.counted.memory_bytes() +
         st.aggregates.memory_bytes();
}

void Aggregator::add(const std::vector<const Column*>& keys, const std::vector<const Column*>& args,
                     size_t rows) {
  State& st = *state_;
  st.group_ids.resize(rows);
  const std::vector<AggregateSpec>& specs = st.aggregates.specs();
  const bool one_group = st.table.key_types().empty();
  if (one_group) {
    const bool needs_ids = std::any_of(specs.begin(), specs.end(), [](const AggregateSpec& a) {
      return a.kind != AggregateKind::kCount && a.kind != AggregateKind::kSum &&
             a.kind != AggregateKind::kAvg;
    });
    if (needs_ids) std::fill(st.group_ids.begin(), st.group_ids.end(), 0);
  } else {
    if (st.counting) {
      if (st.count(*keys[0], rows)) return;
      st.leave_counting();
    }
    st.table.find_groups(keys, rows, st.group_ids.data());
    st.aggregates.grow_to(st.table.groups());
  }
  for (size_t a = 0; a < specs.size(); ++a)
    st.aggregates.update(a, args[a], rows, st.group_ids.data(), one_group);
}

void Aggregator::reserve(size_t groups) {
  State& st = settled();
  if (groups <= st.groups()) return;
  if (st.counting) {
    st.counted.reserve(groups - st.groups());
  } else {
    st.table.reserve(groups);
  }
}

void Aggregator::expect_rows(double scale) {
  State& st = *state_;
  const auto want = static_cast<size_t>(static_cast<double>(st.groups()) * scale);
  // The counting layout defers past kDeferGroups instead of growing its table.
  if (st.counting && (st.counted.deferring() || want >= CountTable::kDeferGroups)) return;
  reserve(want);
}

void Aggregator::merge(const Aggregator& other) {
  State& st = settled();
  const State& os = other.settled();
  if (st.can_merge_counted(os)) {
    st.counted.merge(os.counted);
    return;
  }
  st.leave_counting();
  std::unique_ptr<State> holder;
  st.merge_general(State::general_layout(os, &holder));
}

namespace {

// A large uniqExact input of merge_and_finish(), counted at the end.
struct DeferredSet {
  size_t agg;
  uint32_t group;
  const UniqSet* set;
};

// Writes into `out` (finish()'s columns, keys first) the size of each group's union of its own
// set and its deferred inputs, each group's inputs side by side.
void count_deferred(std::vector<DeferredSet> deferred, const AggregateStates& states, size_t keys,
                    std::vector<Column>* out) {
  std::sort(deferred.begin(), deferred.end(), [](const DeferredSet& x, const DeferredSet& y) {
    return std::tie(x.agg, x.group) < std::tie(y.agg, y.group);
  });
  std::vector<const UniqSet*> inputs;
  for (size_t at = 0; at < deferred.size();) {
    const size_t a = deferred[at].agg;
    const uint32_t g = deferred[at].group;
    inputs.assign({&states.set(a, g)});
    for (; at < deferred.size() && deferred[at].agg == a && deferred[at].group == g; ++at)
      inputs.push_back(deferred[at].set);
    (*out)[keys + a].values<uint64_t>()[g] = UniqSet::union_size(inputs);
  }
}

}  // namespace

std::vector<Column> Aggregator::merge_and_finish(std::span<const Aggregator* const> others,
                                                 unsigned threads) && {
  State& st = *state_;
  uint64_t counted_rows = st.counted.rows_counted();
  bool all_counting = st.counting;
  for (const Aggregator* other : others) {
    all_counting = all_counting && other->state_->counting;
    counted_rows += other->state_->counted.rows_counted();
  }
  if (all_counting && counted_rows <= UINT32_MAX) {
    std::vector<const CountTable*> tables = {&st.counted};
    bool large = st.counted.deferring();
    for (const Aggregator* other : others) {
      tables.push_back(&other->state_->counted);
      large = large || other->state_->counted.deferring();
    }
    if (large) return CountTable::finish_in_buckets(tables, threads);
    for (const Aggregator* other : others) st.counted.merge(other->state_->counted);
    return st.counted.finish();
  }
  st.leave_counting();
  for (const Aggregator* other : others) other->settled();
  // Large uniqExact inputs are only counted at the end, bucket by bucket through one reused
  // table (UniqSet::union_size); building their union would allocate and fill the whole merged
  // set just to read its size. Small ones merge as usual.
  std::vector<DeferredSet> deferred;
  const std::vector<AggregateSpec>& specs = st.aggregates.specs();
  for (const Aggregator* other : others) {
    std::unique_ptr<State> holder;
    const State& os = State::general_layout(*other->state_, &holder);
    const LargePageVector<uint32_t> target = st.table.map_groups(os.table);
    st.aggregates.grow_to(st.table.groups());
    for (size_t a = 0; a < specs.size(); ++a) {
      if (specs[a].kind != AggregateKind::kUniqExact) {
        st.aggregates.merge(os.aggregates, target.data(), a);
        continue;
      }
      for (size_t og = 0; og < os.table.groups(); ++og) {
        const UniqSet& set = os.aggregates.set(a, static_cast<uint32_t>(og));
        if (set.is_large()) {
          deferred.push_back({a, target[og], &set});
        } else {
          st.aggregates.merge_group(a, target[og], os.aggregates, og);
        }
      }
    }
  }
  std::vector<Column> out = finish();
  count_deferred(std::move(deferred), st.aggregates, st.table.key_types().size(), &out);
  return out;
}

std::vector<Column> Aggregator::finish() const {
  const State& st = settled();
  if (st.counting) return st.counted.finish();
  std::vector<Column> out = st.table.key_columns();
  st.aggregates.append_columns(&out);
  return out;
}

}  // namespace shardlab::engine
