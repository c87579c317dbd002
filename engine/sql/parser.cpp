#include "shardlab/engine/parser.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "base/errors.h"
#include "engine/sql/lexer.h"

namespace shardlab::engine {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Words that end an expression or a select item, so they are never taken as an alias.
bool is_reserved(const std::string& word) {
  static const char* kReserved[] = {
      "from",     "where", "prewhere",  "group",   "having",  "order", "limit", "and",
      "or",       "not",   "in",        "between", "as",      "asc",   "desc",  "by",
      "settings", "ttl",   "partition", "engine",  "primary", "is",    "like",  "interval"};
  const std::string w = lower(word);
  return std::find(std::begin(kReserved), std::end(kReserved), w) != std::end(kReserved);
}

class Parser {
 public:
  explicit Parser(std::string_view sql) : sql_(sql), tokens_(tokenize(sql)) {}

  SelectQuery select_query();
  CreateTable create_table();
  ExprPtr whole_expression() {
    ExprPtr e = expression();
    expect_end();
    return e;
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    return tokens_[std::min(index_ + ahead, tokens_.size() - 1)];
  }
  const Token& next() { return tokens_[std::min(index_++, tokens_.size() - 1)]; }
  bool is_keyword(std::string_view word, size_t ahead = 0) const {
    const Token& t = peek(ahead);
    return t.kind == TokenKind::kIdent && lower(t.text) == word;
  }
  bool is_symbol(std::string_view sym) const {
    return peek().kind == TokenKind::kSymbol && peek().text == sym;
  }
  bool accept_keyword(std::string_view word) {
    if (!is_keyword(word)) return false;
    ++index_;
    return true;
  }
  bool accept_symbol(std::string_view sym) {
    if (!is_symbol(sym)) return false;
    ++index_;
    return true;
  }
  [[noreturn]] void fail(const std::string& expected) const {
    throw InputError(format_sql_error(
        sql_, peek().pos, fmt::format("expected {}, got {}", expected, describe(peek()))));
  }
  void expect_keyword(std::string_view word) {
    if (!accept_keyword(word))
      fail(fmt::format("keyword {}", [&] {
        std::string up(word);
        for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return up;
      }()));
  }
  void expect_symbol(std::string_view sym) {
    if (!accept_symbol(sym)) fail(fmt::format("'{}'", sym));
  }
  void expect_end() {
    accept_symbol(";");
    if (peek().kind != TokenKind::kEnd) fail("end of query");
  }
  std::string identifier(const char* what) {
    const Token& t = peek();
    if (t.kind == TokenKind::kQuotedIdent ||
        (t.kind == TokenKind::kIdent && !is_reserved(t.text))) {
      ++index_;
      return t.text;
    }
    fail(what);
  }
  uint64_t unsigned_number(const char* what) {
    const Token& t = peek();
    if (t.kind != TokenKind::kNumber) fail(what);
    char* end = nullptr;
    errno = 0;
    const uint64_t v = std::strtoull(t.text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') fail(what);
    ++index_;
    return v;
  }

  // Counts a level of nesting while it lives; fails past kMaxParserDepth.
  class DepthGuard {
   public:
    DepthGuard(Parser* parser, size_t pos) : parser_(parser) {
      if (++parser_->depth_ > kMaxParserDepth) {
        --parser_->depth_;
        parser_->fail_at(pos, fmt::format("the expression nests more than {} levels deep (each "
                                          "parenthesis, function call, NOT and unary minus is a "
                                          "level; the limit is max_parser_depth)",
                                          kMaxParserDepth));
      }
    }
    ~DepthGuard() { --parser_->depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    Parser* parser_;
  };

  [[noreturn]] void fail_at(size_t pos, const std::string& message) const {
    throw InputError(format_sql_error(sql_, pos, message));
  }

  ExprPtr make(ExprKind kind, size_t pos) {
    if (++elements_ > kMaxExpressionElements)
      fail_at(pos, fmt::format("the statement has more than {} expression elements (literals, "
                               "columns, operators and function calls; the limit is "
                               "max_ast_elements)",
                               kMaxExpressionElements));
    auto e = std::make_shared<Expr>();
    e->kind = kind;
    e->pos = pos;
    return e;
  }
  ExprPtr call(std::string name, size_t pos, std::vector<ExprPtr> args) {
    ExprPtr e = make(ExprKind::kFunction, pos);
    e->name = std::move(name);
    e->args = std::move(args);
    return e;
  }

  ExprPtr expression() {
    const DepthGuard level(this, peek().pos);
    return or_expr();
  }
  // A left-associative chain `a op b op c` of an n-ary operator as one call op(a, b, c), as
  // ClickHouse parses AND and OR: a chain of 100,000 terms is then one level deep.
  ExprPtr chain(std::string_view keyword, ExprPtr (Parser::*operand)());
  ExprPtr or_expr();
  ExprPtr and_expr();
  ExprPtr not_expr();
  ExprPtr comparison();
  ExprPtr additive();
  ExprPtr multiplicative();
  ExprPtr unary();
  ExprPtr primary();
  ExprPtr number_literal(const Token& t, bool negative);
  ExprPtr interval();
  ExprPtr select_item();

  // Parts of CREATE TABLE.
  ColumnDef column_def();
  // After the CODEC keyword: the parenthesised codec and its level.
  CodecSpec codec_spec();
  // The clauses after ENGINE = MergeTree(), in any order. Returns whether ORDER BY was among
  // them.
  bool table_clauses(CreateTable* t);
  // After ORDER BY: (a, b), (), tuple() or a single expression.
  void sorting_key(std::vector<ExprPtr>* order_by);
  Setting setting();

  std::string_view sql_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
  size_t depth_ = 0;     // levels of nesting open at the current token
  size_t elements_ = 0;  // expression elements made so far
};

ExprPtr Parser::chain(std::string_view keyword, ExprPtr (Parser::*operand)()) {
  ExprPtr first = (this->*operand)();
  if (!is_keyword(keyword)) return first;
  ExprPtr e = make(ExprKind::kFunction, peek().pos);
  e->name = std::string(keyword);
  e->args.push_back(std::move(first));
  while (accept_keyword(keyword)) e->args.push_back((this->*operand)());
  return e;
}

ExprPtr Parser::or_expr() { return chain("or", &Parser::and_expr); }

ExprPtr Parser::and_expr() { return chain("and", &Parser::not_expr); }

ExprPtr Parser::not_expr() {
  if (is_keyword("not")) {
    const size_t pos = next().pos;
    const DepthGuard level(this, pos);
    return call("not", pos, {not_expr()});
  }
  return comparison();
}

ExprPtr Parser::comparison() {
  ExprPtr left = additive();
  static const std::pair<std::string_view, const char*> kOps[] = {
      {"=", "equals"}, {"==", "equals"},       {"!=", "notEquals"}, {"<>", "notEquals"},
      {"<", "less"},   {"<=", "lessOrEquals"}, {">", "greater"},    {">=", "greaterOrEquals"}};
  for (const auto& [sym, name] : kOps) {
    if (is_symbol(sym)) {
      const size_t pos = next().pos;
      return call(name, pos, {left, additive()});
    }
  }
  const bool negated = is_keyword("not") && (is_keyword("in", 1) || is_keyword("between", 1));
  const size_t op_pos = peek().pos;
  if (negated) next();
  if (accept_keyword("in")) {
    expect_symbol("(");
    std::vector<ExprPtr> args{left};
    do {
      args.push_back(expression());
    } while (accept_symbol(","));
    expect_symbol(")");
    return call(negated ? "notIn" : "in", op_pos, std::move(args));
  }
  if (accept_keyword("between")) {
    ExprPtr low = additive();
    expect_keyword("and");
    ExprPtr high = additive();
    ExprPtr range = call(
        "and", op_pos,
        {call("greaterOrEquals", op_pos, {left, low}), call("lessOrEquals", op_pos, {left, high})});
    return negated ? call("not", op_pos, {range}) : range;
  }
  if (negated) fail("IN or BETWEEN after NOT");
  return left;
}

ExprPtr Parser::additive() {
  ExprPtr left = multiplicative();
  for (;;) {
    if (is_symbol("+") || is_symbol("-")) {
      const Token& op = next();
      left = call(op.text == "+" ? "plus" : "minus", op.pos, {left, multiplicative()});
    } else {
      return left;
    }
  }
}

ExprPtr Parser::multiplicative() {
  ExprPtr left = unary();
  for (;;) {
    if (is_symbol("*") || is_symbol("/") || is_symbol("%")) {
      const Token& op = next();
      const char* name = op.text == "*" ? "multiply" : op.text == "/" ? "divide" : "modulo";
      left = call(name, op.pos, {left, unary()});
    } else {
      return left;
    }
  }
}

ExprPtr Parser::unary() {
  if (is_symbol("-")) {
    const size_t pos = next().pos;
    if (peek().kind == TokenKind::kNumber) return number_literal(next(), /*negative=*/true);
    const DepthGuard level(this, pos);
    return call("negate", pos, {unary()});
  }
  return primary();
}

ExprPtr Parser::number_literal(const Token& t, bool negative) {
  ExprPtr e = make(ExprKind::kLiteral, t.pos);
  const std::string& text = t.text;
  const bool is_float = text.find_first_of(".eE") != std::string::npos &&
                        text.rfind("0x", 0) != 0 && text.rfind("0X", 0) != 0;
  char* end = nullptr;
  errno = 0;
  if (is_float) {
    e->literal.kind = Literal::Kind::kFloat;
    e->literal.f = std::strtod(text.c_str(), &end);
    if (negative) e->literal.f = -e->literal.f;
  } else {
    const uint64_t v = std::strtoull(text.c_str(), &end, 0);
    if (errno == ERANGE)
      throw InputError(format_sql_error(sql_, t.pos, "number does not fit in 64 bits"));
    if (negative) {
      if (v > (uint64_t{1} << 63))
        throw InputError(format_sql_error(sql_, t.pos, "number does not fit in Int64"));
      e->literal.kind = Literal::Kind::kInt;
      e->literal.i = static_cast<int64_t>(0 - v);
    } else {
      e->literal.kind = Literal::Kind::kUInt;
      e->literal.u = v;
    }
  }
  if (end == nullptr || *end != '\0')
    throw InputError(format_sql_error(sql_, t.pos, fmt::format("malformed number '{}'", text)));
  return e;
}

ExprPtr Parser::interval() {
  const size_t pos = peek().pos;
  ExprPtr e = make(ExprKind::kInterval, pos);
  bool negative = accept_symbol("-");
  const size_t count_pos = peek().pos;
  const uint64_t count = unsigned_number("a number after INTERVAL");
  if (count > kMaxIntervalCount)
    throw InputError(format_sql_error(
        sql_, count_pos, fmt::format("an INTERVAL count is at most {}", kMaxIntervalCount)));
  e->interval.count = negative ? -static_cast<int64_t>(count) : static_cast<int64_t>(count);
  static const std::pair<const char*, IntervalUnit> kUnits[] = {
      {"second", IntervalUnit::kSecond}, {"minute", IntervalUnit::kMinute},
      {"hour", IntervalUnit::kHour},     {"day", IntervalUnit::kDay},
      {"week", IntervalUnit::kWeek},     {"month", IntervalUnit::kMonth},
      {"year", IntervalUnit::kYear}};
  for (const auto& [word, unit] : kUnits) {
    if (accept_keyword(word)) {
      e->interval.unit = unit;
      return e;
    }
  }
  fail("an interval unit (SECOND, MINUTE, HOUR, DAY, WEEK, MONTH or YEAR)");
}

ExprPtr Parser::primary() {
  const Token& t = peek();
  if (t.kind == TokenKind::kNumber) return number_literal(next(), false);
  if (t.kind == TokenKind::kString) {
    next();
    ExprPtr e = make(ExprKind::kLiteral, t.pos);
    e->literal.kind = Literal::Kind::kString;
    e->literal.s = t.text;
    return e;
  }
  if (accept_symbol("(")) {
    ExprPtr e = expression();
    expect_symbol(")");
    return e;
  }
  if (is_symbol("*")) {
    return make(ExprKind::kStar, next().pos);
  }
  if (t.kind == TokenKind::kIdent && lower(t.text) == "interval") {
    next();
    return interval();
  }
  if (t.kind == TokenKind::kQuotedIdent || (t.kind == TokenKind::kIdent && !is_reserved(t.text))) {
    next();
    if (t.kind == TokenKind::kIdent && accept_symbol("(")) {
      ExprPtr e = make(ExprKind::kFunction, t.pos);
      e->name = t.text;
      if (accept_keyword("distinct")) e->distinct = true;
      if (!accept_symbol(")")) {
        do {
          if (is_symbol("*") && e->args.empty()) {
            next();  // count(*) means count()
            continue;
          }
          e->args.push_back(expression());
        } while (accept_symbol(","));
        expect_symbol(")");
      }
      return e;
    }
    ExprPtr e = make(ExprKind::kColumn, t.pos);
    e->name = t.text;
    return e;
  }
  fail("an expression");
}

ExprPtr Parser::select_item() {
  ExprPtr e = expression();
  if (accept_keyword("as")) {
    e->alias = identifier("an alias after AS");
  } else if (peek().kind == TokenKind::kQuotedIdent ||
             (peek().kind == TokenKind::kIdent && !is_reserved(peek().text))) {
    e->alias = next().text;
  }
  return e;
}

SelectQuery Parser::select_query() {
  SelectQuery q;
  expect_keyword("select");
  do {
    q.select.push_back(select_item());
  } while (accept_symbol(","));
  expect_keyword("from");
  q.table_pos = peek().pos;
  q.table = identifier("a table name");
  if (accept_symbol(".")) q.table = identifier("a table name after the database name");
  if (accept_keyword("prewhere")) q.prewhere = expression();
  if (accept_keyword("where")) q.where = expression();
  if (accept_keyword("group")) {
    expect_keyword("by");
    do {
      q.group_by.push_back(expression());
    } while (accept_symbol(","));
  }
  if (accept_keyword("having")) q.having = expression();
  if (accept_keyword("order")) {
    expect_keyword("by");
    do {
      OrderItem item{expression(), false};
      if (accept_keyword("desc") || accept_keyword("descending")) {
        item.descending = true;
      } else if (!accept_keyword("asc")) {
        accept_keyword("ascending");
      }
      q.order_by.push_back(std::move(item));
    } while (accept_symbol(","));
  }
  if (accept_keyword("limit")) {
    uint64_t first = unsigned_number("a row count after LIMIT");
    if (accept_symbol(",")) {
      q.offset = first;
      q.limit = unsigned_number("a row count after LIMIT offset,");
    } else {
      q.limit = first;
      if (accept_keyword("offset")) q.offset = unsigned_number("a row count after OFFSET");
    }
  }
  expect_end();
  return q;
}

CreateTable Parser::create_table() {
  CreateTable t;
  expect_keyword("create");
  expect_keyword("table");
  if (accept_keyword("if")) {
    expect_keyword("not");
    expect_keyword("exists");
  }
  t.name = identifier("a table name");
  if (accept_symbol(".")) t.name = identifier("a table name after the database name");
  expect_symbol("(");
  do {
    t.columns.push_back(column_def());
  } while (accept_symbol(","));
  expect_symbol(")");
  expect_keyword("engine");
  expect_symbol("=");
  const Token& engine = peek();
  if (engine.kind != TokenKind::kIdent || engine.text != "MergeTree") fail("engine MergeTree");
  next();
  if (accept_symbol("(")) expect_symbol(")");
  if (!table_clauses(&t)) fail("ORDER BY (MergeTree requires a sorting key)");
  expect_end();
  return t;
}

ColumnDef Parser::column_def() {
  ColumnDef col;
  col.pos = peek().pos;
  col.name = identifier("a column name");
  const size_t type_pos = peek().pos;
  std::string type_text = identifier("a column type");
  if (accept_symbol("(")) {
    type_text += "(" + identifier("a type argument") + ")";
    expect_symbol(")");
  }
  if (!parse_type_name(type_text, &col.type))
    throw InputError(format_sql_error(
        sql_, type_pos,
        fmt::format("unknown type '{}'; expected one of UInt8, UInt16, UInt32, UInt64, Int8, "
                    "Int16, Int32, Int64, Float64, String, LowCardinality(String), Date, "
                    "DateTime",
                    type_text)));
  if (accept_keyword("codec")) col.codec = codec_spec();
  return col;
}

CodecSpec Parser::codec_spec() {
  expect_symbol("(");
  const size_t codec_pos = peek().pos;
  const std::string name = lower(identifier("a codec name"));
  CodecSpec spec;
  if (name == "lz4") {
    spec.kind = CodecKind::kLZ4;
  } else if (name == "zstd") {
    spec.kind = CodecKind::kZSTD;
    if (accept_symbol("(")) {
      const uint64_t level = unsigned_number("a ZSTD level");
      if (level < 1 || level > 22)
        throw InputError(format_sql_error(sql_, codec_pos, "ZSTD level must be 1..22"));
      spec.level = static_cast<int>(level);
      expect_symbol(")");
    }
  } else if (name == "none") {
    spec.kind = CodecKind::kNone;
  } else {
    throw InputError(format_sql_error(sql_, codec_pos,
                                      fmt::format("unknown codec '{}'; expected LZ4, ZSTD "
                                                  "or NONE",
                                                  name)));
  }
  expect_symbol(")");
  return spec;
}

bool Parser::table_clauses(CreateTable* t) {
  bool has_order = false;
  for (;;) {
    if (accept_keyword("partition")) {
      expect_keyword("by");
      t->partition_by = expression();
    } else if (accept_keyword("order")) {
      expect_keyword("by");
      has_order = true;
      sorting_key(&t->order_by);
    } else if (accept_keyword("ttl")) {
      t->ttl = expression();
    } else if (accept_keyword("settings")) {
      do {
        t->settings.push_back(setting());
      } while (accept_symbol(","));
    } else {
      return has_order;
    }
  }
}

void Parser::sorting_key(std::vector<ExprPtr>* order_by) {
  if (accept_symbol("(")) {
    if (!accept_symbol(")")) {
      do {
        order_by->push_back(expression());
      } while (accept_symbol(","));
      expect_symbol(")");
    }
  } else if (accept_keyword("tuple")) {
    expect_symbol("(");
    expect_symbol(")");
  } else {
    order_by->push_back(expression());
  }
}

Setting Parser::setting() {
  Setting s;
  s.pos = peek().pos;
  s.name = identifier("a setting name");
  expect_symbol("=");
  const Token& v = peek();
  if (v.kind == TokenKind::kNumber) {
    s.value = number_literal(next(), false)->literal;
  } else if (v.kind == TokenKind::kString) {
    s.value.kind = Literal::Kind::kString;
    s.value.s = next().text;
  } else {
    fail("a setting value");
  }
  return s;
}

}  // namespace

namespace {

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

size_t count_chars(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !is_continuation_byte(c); }));
}

// At most this many bytes of the line are shown on each side of the error, so that an error in
// a 10 MB one-line query is still a short message.
constexpr size_t kExcerptBytesEachSide = 80;

}  // namespace

std::string format_sql_error(std::string_view text, size_t pos, const std::string& message) {
  pos = std::min(pos, text.size());
  const size_t line_start = pos == 0 ? 0 : text.rfind('\n', pos - 1) + 1;  // npos + 1 == 0
  const size_t line = 1 + static_cast<size_t>(std::count(text.begin(), text.begin() + pos, '\n'));
  size_t line_end = text.find('\n', pos);
  if (line_end == std::string_view::npos) line_end = text.size();
  // Column counts characters, not bytes, so the caret lines up under UTF-8 text.
  const size_t column = 1 + count_chars(text.substr(line_start, pos - line_start));
  size_t shown_start = pos - std::min(pos - line_start, kExcerptBytesEachSide);
  while (shown_start < pos && is_continuation_byte(text[shown_start])) ++shown_start;
  size_t shown_end = pos + std::min(line_end - pos, kExcerptBytesEachSide);
  while (shown_end < line_end && is_continuation_byte(text[shown_end])) ++shown_end;
  const std::string before = shown_start > line_start ? "..." : "";
  const std::string after = shown_end < line_end ? "..." : "";
  const size_t caret = before.size() + count_chars(text.substr(shown_start, pos - shown_start));
  return fmt::format("SQL error at position {} (line {}, column {}): {}\n  {}{}{}\n  {}^", pos + 1,
                     line, column, message, before,
                     text.substr(shown_start, shown_end - shown_start), after,
                     std::string(caret, ' '));
}

SelectQuery parse_select(std::string_view sql) { return Parser(sql).select_query(); }
CreateTable parse_create_table(std::string_view sql) { return Parser(sql).create_table(); }
ExprPtr parse_expression(std::string_view text) { return Parser(text).whole_expression(); }

}  // namespace shardlab::engine
