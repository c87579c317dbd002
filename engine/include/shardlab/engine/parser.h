// Recursive-descent parser for the SQL subset. Errors are InputError with the 1-based
// position, line and column, the expected token, the one found, and a caret under the text.
#pragma once

#include <string>
#include <string_view>

#include "shardlab/engine/ast.h"

namespace shardlab::engine {

// Limits that turn input too deep or too large for the stack or memory into an InputError
// naming the position, instead of a crash. engine/README.md ("Limits") has the measurements
// behind them.
//
// How deeply expressions may nest: each parenthesised expression, function argument list, NOT
// and unary minus adds a level (ClickHouse's max_parser_depth is 1000 too). Parsing, analysis and
// evaluation recurse once per level; 1000 levels take well under 1 MiB of stack in each.
inline constexpr size_t kMaxParserDepth = 1000;
// How many elements (literals, columns, operators, function calls) one statement may hold,
// counted again after aliases are substituted. ClickHouse's max_ast_elements is 50,000; this is
// higher so that generated filters with 100,000 OR terms or IN values still work: everything
// that walks a long flat chain does so without recursion. The limit bounds memory and time:
// preparing a statement at the limit peaks at about 350 to 450 MB and takes 2 to 4 s.
inline constexpr size_t kMaxExpressionElements = 500'000;
// The largest INTERVAL count: a billion years keeps every calendar and seconds computation
// within 64 bits, and no Date or DateTime reaches that far anyway.
inline constexpr uint64_t kMaxIntervalCount = 1'000'000'000;

SelectQuery parse_select(std::string_view sql);
CreateTable parse_create_table(std::string_view sql);
// Parses one expression (the whole input), e.g. a partition or TTL expression.
ExprPtr parse_expression(std::string_view text);

// Formats an error at byte offset `pos` of `text`; used by the analyzer too.
std::string format_sql_error(std::string_view text, size_t pos, const std::string& message);

}  // namespace shardlab::engine
