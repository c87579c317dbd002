// ClickHouse's TabSeparated format: values as ClickHouse prints them, and parsing for input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "shardlab/engine/column.h"

namespace shardlab::engine {

// Appends rows as TabSeparated lines (no header).
void append_tsv(const std::vector<Column>& columns, std::string* out);
// A Float64 as ClickHouse prints it: the shortest round-trip digits, in plain notation for
// decimal exponents in [-6, 21) and as 1e21 / 1.5e-7 otherwise; inf, -inf and nan.
std::string format_float(double value);
// Appends `text` with TabSeparated escaping (\t \n \\ \' and friends).
void append_escaped(std::string_view text, std::string* out);
// Undoes TabSeparated escaping. Returns false on a dangling backslash.
bool unescape_tsv(std::string_view field, std::string* out);
// Parses one unescaped field into `column` (LowCardinality columns are parsed as strings by
// the caller). Returns false if the text is not a value of the column's type.
bool parse_value(std::string_view text, Column* column);

}  // namespace shardlab::engine
