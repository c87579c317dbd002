#include "engine/sql/lexer.h"

#include <cctype>

#include "base/errors.h"
#include "shardlab/engine/parser.h"

namespace shardlab::engine {
namespace {

bool is_ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80);
}
bool is_ident_char(char c) {
  return is_ident_start(c) || std::isdigit(static_cast<unsigned char>(c));
}

char unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 't':
      return '\t';
    case 'r':
      return '\r';
    case '0':
      return '\0';
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    default:
      return c;
  }
}

}  // namespace

std::string describe(const Token& token) {
  // A 10 MB string literal should not make a 10 MB error message.
  constexpr size_t kShownChars = 60;
  std::string text = token.text.substr(0, kShownChars);
  if (text.size() < token.text.size()) text += "...";
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of query";
    case TokenKind::kString:
      return "string '" + text + "'";
    default:
      return "'" + text + "'";
  }
}

std::vector<Token> tokenize(std::string_view sql) {
  std::vector<Token> tokens;
  size_t pos = 0;
  while (pos < sql.size()) {
    const char c = sql[pos];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++pos;
      continue;
    }
    if (c == '-' && pos + 1 < sql.size() && sql[pos + 1] == '-') {
      while (pos < sql.size() && sql[pos] != '\n') ++pos;
      continue;
    }
    const size_t start = pos;
    if (is_ident_start(c)) {
      while (pos < sql.size() && is_ident_char(sql[pos])) ++pos;
      tokens.push_back({TokenKind::kIdent, std::string(sql.substr(start, pos - start)), start});
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && pos + 1 < sql.size() &&
         std::isdigit(static_cast<unsigned char>(sql[pos + 1])))) {
      while (
          pos < sql.size() &&
          (std::isalnum(static_cast<unsigned char>(sql[pos])) || sql[pos] == '.' ||
           ((sql[pos] == '+' || sql[pos] == '-') && (sql[pos - 1] == 'e' || sql[pos - 1] == 'E'))))
        ++pos;
      tokens.push_back({TokenKind::kNumber, std::string(sql.substr(start, pos - start)), start});
      continue;
    }
    if (c == '\'' || c == '`' || c == '"') {
      std::string value;
      ++pos;
      bool closed = false;
      while (pos < sql.size()) {
        const char d = sql[pos];
        if (d == '\\' && pos + 1 < sql.size()) {
          value += unescape(sql[pos + 1]);
          pos += 2;
        } else if (d == c) {
          if (pos + 1 < sql.size() && sql[pos + 1] == c) {  // doubled quote
            value += c;
            pos += 2;
          } else {
            ++pos;
            closed = true;
            break;
          }
        } else {
          value += d;
          ++pos;
        }
      }
      if (!closed) throw InputError(format_sql_error(sql, start, "unterminated quoted text"));
      tokens.push_back({c == '\'' ? TokenKind::kString : TokenKind::kQuotedIdent, value, start});
      continue;
    }
    static constexpr std::string_view kTwoChar[] = {"<=", ">=", "!=", "<>", "=="};
    bool matched = false;
    for (auto sym : kTwoChar) {
      if (sql.substr(pos, 2) == sym) {
        tokens.push_back({TokenKind::kSymbol, std::string(sym), start});
        pos += 2;
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (std::string_view("(),*+-/%=<>.;").find(c) != std::string_view::npos) {
      tokens.push_back({TokenKind::kSymbol, std::string(1, c), start});
      ++pos;
      continue;
    }
    throw InputError(format_sql_error(sql, start, fmt::format("unexpected character '{}'", c)));
  }
  tokens.push_back({TokenKind::kEnd, "", sql.size()});
  return tokens;
}

}  // namespace shardlab::engine
