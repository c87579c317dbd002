// Pruning by the sparse primary index and the partition min/max index.
//
// The filter is a list of conjuncts. A conjunct of the form `column op constant` or
// `column [NOT] IN (constants)` on a key or min/max column is an atom: for a range of rows
// whose column values lie within known bounds, an atom is either false for every row (the
// rows are skipped), true for every row (the conjunct need not be evaluated there), or
// undecided. Granule bounds come from the index: granule g lies between index entries g and
// g+1, so key column 0 is bounded by them, and key column j by them too when columns 0..j-1
// are equal at both ends.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shardlab/engine/expression.h"
#include "shardlab/engine/part.h"

namespace shardlab::engine {

// A single value of any column type, for comparisons against bounds.
struct Field {
  enum class Kind : uint8_t { kInt, kFloat, kString } kind = Kind::kInt;
  __int128 i = 0;
  double f = 0;
  std::string s;
  static Field of(const Column& column, size_t row);
};
int compare(const Field& a, const Field& b);

enum class Verdict : uint8_t { kNone, kSome, kAll };

struct GranuleRange {
  size_t begin = 0;
  size_t end = 0;
  uint64_t conjuncts = 0;  // bit c set: conjunct c must still be evaluated on these granules
};

class KeyCondition {
 public:
  // `conjuncts` are analysed against the table's columns in schema order.
  KeyCondition(const TableSchema& schema, const std::vector<ExprNodePtr>& conjuncts);

  // The granule ranges of `part` that may hold matching rows, with the conjuncts each still
  // needs. Empty if the part is pruned.
  std::vector<GranuleRange> select(const Part& part) const;

 private:
  struct Atom {
    size_t conjunct;
    size_t column;
    enum class Op : uint8_t { kRange, kIn, kNotIn } op;
    std::optional<Field> lo, hi;  // kRange
    bool lo_inclusive = true, hi_inclusive = true;
    std::vector<Field> values;  // kIn / kNotIn
  };
  Verdict check(const Atom& atom, const Field& low, const Field& high) const;

  const TableSchema& schema_;
  size_t conjunct_count_;
  std::vector<Atom> atoms_;
};

}  // namespace shardlab::engine
