// Recursive-descent parser for the SQL subset. Errors are InputError with the 1-based
// position, line and column, the expected token, the one found, and a caret under the text.
#pragma once

#include <string>
#include <string_view>

#include "shardlab/engine/ast.h"

namespace shardlab::engine {

SelectQuery parse_select(std::string_view sql);
CreateTable parse_create_table(std::string_view sql);
// Parses one expression (the whole input), e.g. a partition or TTL expression.
ExprPtr parse_expression(std::string_view text);

// Formats an error at byte offset `pos` of `text`; used by the analyzer too.
std::string format_sql_error(std::string_view text, size_t pos, const std::string& message);

}  // namespace shardlab::engine
