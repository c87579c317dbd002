#include "plots/markup.h"

#include <fmt/format.h>

namespace shardlab::plots {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

namespace {

bool escaped_anywhere(char ch) {
  switch (ch) {
    case '\\':
    case '`':
    case '*':
    case '_':
    case '[':
    case ']':
    case '<':
    case '>':
    case '&':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// Whether the character at `char_idx`, at or near the start of `text`, would begin a block.
bool starts_block(std::string_view text, size_t char_idx) {
  auto ends_marker = [&](size_t next) {
    return next >= text.size() || text[next] == ' ' || text[next] == '\t';
  };
  const char ch = text[char_idx];
  if (char_idx == 0) {
    if (ch == '#' || ch == '=') return true;
    if (ch == '+' || ch == '-')
      return ends_marker(1) || (ch == '-' && text.size() > 1 && text[1] == '-');
    return false;
  }
  // "12." or "3)" followed by a blank: an ordered list item.
  if (ch != '.' && ch != ')') return false;
  for (size_t digit_idx = 0; digit_idx < char_idx; ++digit_idx) {
    if (text[digit_idx] < '0' || text[digit_idx] > '9') return false;
  }
  return ends_marker(char_idx + 1);
}

std::string escape_markdown(std::string_view text, bool block_start) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (size_t char_idx = 0; char_idx < text.size(); ++char_idx) {
    const char ch = text[char_idx];
    if (ch == '\n' || ch == '\r' || ch == '\t') {
      out += ' ';
      continue;
    }
    if (escaped_anywhere(ch) || (block_start && starts_block(text, char_idx))) out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace

std::string markdown_escape(std::string_view text) { return escape_markdown(text, true); }

std::string markdown_escape_inline(std::string_view text) { return escape_markdown(text, false); }

std::string url_encode(std::string_view path) {
  std::string out;
  for (const char ch : path) {
    const auto byte = static_cast<unsigned char>(ch);
    const bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '~' ||
                       ch == '/' || ch == '-';
    if (plain) {
      out += ch;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

}  // namespace shardlab::plots
