#include "engine/exec/key_condition.h"

#include <algorithm>

namespace shardlab::engine {

Field Field::of(const Column& column, size_t row) {
  Field f;
  if (column.type.is_string_like()) {
    f.kind = Kind::kString;
    f.s = std::string(column.string_at(row));
  } else if (column.type.is_float()) {
    f.kind = Kind::kFloat;
    f.f = column.values<double>()[row];
  } else {
    visit_fixed(column.type, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_integral_v<T>) f.i = column.values<T>()[row];
    });
  }
  return f;
}

int compare(const Field& a, const Field& b) {
  if (a.kind == Field::Kind::kString || b.kind == Field::Kind::kString)
    return a.s.compare(b.s) < 0 ? -1 : (a.s == b.s ? 0 : 1);
  if (a.kind == Field::Kind::kFloat || b.kind == Field::Kind::kFloat) {
    const double x = a.kind == Field::Kind::kFloat ? a.f : static_cast<double>(a.i);
    const double y = b.kind == Field::Kind::kFloat ? b.f : static_cast<double>(b.i);
    return x < y ? -1 : (y < x ? 1 : 0);
  }
  return a.i < b.i ? -1 : (b.i < a.i ? 1 : 0);
}

KeyCondition::KeyCondition(const TableSchema& schema, const std::vector<ExprNodePtr>& conjuncts)
    : schema_(schema), conjunct_count_(std::min<size_t>(conjuncts.size(), 64)) {
  auto indexed = [&](size_t column) {
    return std::find(schema.key_columns.begin(), schema.key_columns.end(), column) !=
               schema.key_columns.end() ||
           std::find(schema.minmax_columns.begin(), schema.minmax_columns.end(), column) !=
               schema.minmax_columns.end();
  };
  for (size_t c = 0; c < conjunct_count_; ++c) {
    const ExprNode& node = *conjuncts[c];
    if (node.kind != ExprNode::Kind::kCall) continue;
    if (node.fn == Fn::kIn || node.fn == Fn::kNotIn) {
      const ExprNode& col = *node.args[0];
      if (col.kind != ExprNode::Kind::kInput || !indexed(col.input)) continue;
      Atom atom{c,    col.input, node.fn == Fn::kIn ? Atom::Op::kIn : Atom::Op::kNotIn,
                {},   {},        true,
                true, {}};
      for (size_t idx = 1; idx < node.args.size(); ++idx)
        atom.values.push_back(Field::of(node.args[idx]->constant, 0));
      atoms_.push_back(std::move(atom));
      continue;
    }
    if (node.fn < Fn::kEquals || node.fn > Fn::kGreaterOrEquals) continue;
    const ExprNode* col = node.args[0].get();
    const ExprNode* cst = node.args[1].get();
    Fn fn = node.fn;
    if (col->kind == ExprNode::Kind::kConst) {
      std::swap(col, cst);
      fn = fn == Fn::kLess              ? Fn::kGreater
           : fn == Fn::kGreater         ? Fn::kLess
           : fn == Fn::kLessOrEquals    ? Fn::kGreaterOrEquals
           : fn == Fn::kGreaterOrEquals ? Fn::kLessOrEquals
                                        : fn;
    }
    if (col->kind != ExprNode::Kind::kInput || cst->kind != ExprNode::Kind::kConst ||
        !indexed(col->input))
      continue;
    // Constants compared with a string column must be strings; with a number, numbers.
    if (col->type.is_string_like() != cst->type.is_string_like()) continue;
    Atom atom{c, col->input, Atom::Op::kRange, {}, {}, true, true, {}};
    const Field value = Field::of(cst->constant, 0);
    switch (fn) {
      case Fn::kEquals:
        atom.lo = atom.hi = value;
        break;
      case Fn::kNotEquals:
        atom.op = Atom::Op::kNotIn;
        atom.values.push_back(value);
        break;
      case Fn::kLess:
        atom.hi = value;
        atom.hi_inclusive = false;
        break;
      case Fn::kLessOrEquals:
        atom.hi = value;
        break;
      case Fn::kGreater:
        atom.lo = value;
        atom.lo_inclusive = false;
        break;
      default:
        atom.lo = value;
        break;
    }
    atoms_.push_back(std::move(atom));
  }
}

Verdict KeyCondition::check(const Atom& atom, const Field& low, const Field& high) const {
  const bool point = compare(low, high) == 0;
  switch (atom.op) {
    case Atom::Op::kRange: {
      if (atom.hi) {
        const int c = compare(low, *atom.hi);
        if (c > 0 || (c == 0 && !atom.hi_inclusive)) return Verdict::kNone;
      }
      if (atom.lo) {
        const int c = compare(high, *atom.lo);
        if (c < 0 || (c == 0 && !atom.lo_inclusive)) return Verdict::kNone;
      }
      bool low_ok = true, high_ok = true;
      if (atom.lo) {
        const int c = compare(low, *atom.lo);
        low_ok = c > 0 || (c == 0 && atom.lo_inclusive);
      }
      if (atom.hi) {
        const int c = compare(high, *atom.hi);
        high_ok = c < 0 || (c == 0 && atom.hi_inclusive);
      }
      return low_ok && high_ok ? Verdict::kAll : Verdict::kSome;
    }
    case Atom::Op::kIn: {
      bool any_inside = false;
      for (const Field& v : atom.values)
        if (compare(v, low) >= 0 && compare(v, high) <= 0) any_inside = true;
      if (!any_inside) return Verdict::kNone;
      return point ? Verdict::kAll : Verdict::kSome;
    }
    case Atom::Op::kNotIn: {
      bool any_inside = false;
      for (const Field& v : atom.values)
        if (compare(v, low) >= 0 && compare(v, high) <= 0) any_inside = true;
      if (!any_inside) return Verdict::kAll;
      return point ? Verdict::kNone : Verdict::kSome;
    }
  }
  return Verdict::kSome;
}

std::vector<GranuleRange> KeyCondition::select(const Part& part) const {
  const uint64_t all_conjuncts =
      conjunct_count_ == 64 ? ~uint64_t{0} : ((uint64_t{1} << conjunct_count_) - 1);
  const size_t granules = part.granules();
  // Part level: min/max and the key's first and last values.
  uint64_t part_mask = all_conjuncts;
  for (const Atom& atom : atoms_) {
    std::vector<Verdict> verdicts;
    for (size_t k = 0; k < schema_.minmax_columns.size(); ++k)
      if (schema_.minmax_columns[k] == atom.column)
        verdicts.push_back(
            check(atom, Field::of(part.minmax()[k], 0), Field::of(part.minmax()[k], 1)));
    if (!schema_.key_columns.empty() && schema_.key_columns[0] == atom.column)
      verdicts.push_back(
          check(atom, Field::of(part.index()[0], 0), Field::of(part.index()[0], granules)));
    if (std::count(verdicts.begin(), verdicts.end(), Verdict::kNone) > 0) return {};
    if (std::count(verdicts.begin(), verdicts.end(), Verdict::kAll) > 0)
      part_mask &= ~(uint64_t{1} << atom.conjunct);
  }
  // Granule level: atoms on key columns that remain.
  std::vector<const Atom*> key_atoms;
  std::vector<size_t> key_position;
  for (const Atom& atom : atoms_) {
    if (!(part_mask & (uint64_t{1} << atom.conjunct))) continue;
    for (size_t k = 0; k < schema_.key_columns.size(); ++k) {
      if (schema_.key_columns[k] == atom.column) {
        key_atoms.push_back(&atom);
        key_position.push_back(k);
      }
    }
  }
  std::vector<GranuleRange> ranges;
  if (key_atoms.empty()) {
    ranges.push_back({0, granules, part_mask});
    return ranges;
  }
  const auto& index = part.index();
  for (size_t g = 0; g < granules; ++g) {
    uint64_t mask = part_mask;
    bool skip = false;
    for (size_t a = 0; a < key_atoms.size() && !skip; ++a) {
      const size_t k = key_position[a];
      bool bounded = true;
      for (size_t prefix = 0; prefix < k && bounded; ++prefix)
        bounded = compare(Field::of(index[prefix], g), Field::of(index[prefix], g + 1)) == 0;
      if (!bounded) continue;
      const Verdict v = check(*key_atoms[a], Field::of(index[k], g), Field::of(index[k], g + 1));
      if (v == Verdict::kNone) skip = true;
      if (v == Verdict::kAll) mask &= ~(uint64_t{1} << key_atoms[a]->conjunct);
    }
    if (skip) continue;
    if (!ranges.empty() && ranges.back().end == g && ranges.back().conjuncts == mask) {
      ranges.back().end = g + 1;
    } else {
      ranges.push_back({g, g + 1, mask});
    }
  }
  return ranges;
}

}  // namespace shardlab::engine
