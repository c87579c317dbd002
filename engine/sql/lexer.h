// Tokenizer for the SQL subset. Keywords are identifiers; the parser compares them
// case-insensitively.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shardlab::engine {

enum class TokenKind { kIdent, kQuotedIdent, kNumber, kString, kSymbol, kEnd };

struct Token {
  TokenKind kind;
  std::string text;  // identifier, number text, unescaped string, or symbol
  size_t pos;        // byte offset of the token's first character
};

// Throws InputError on an unterminated string or an unexpected character.
std::vector<Token> tokenize(std::string_view sql);

std::string describe(const Token& token);

}  // namespace shardlab::engine
