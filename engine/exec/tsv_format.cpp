#include "shardlab/engine/tsv_format.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "shardlab/engine/date_time.h"

namespace shardlab::engine {

std::string format_float(double value) {
  if (std::isnan(value)) return std::signbit(value) ? "-nan" : "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  if (value == 0) return std::signbit(value) ? "-0" : "0";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  const size_t e_at = sci.find('e');
  std::string_view mantissa = sci.substr(0, e_at);
  const int exponent = std::atoi(std::string(sci.substr(e_at + 1)).c_str());
  std::string out;
  if (mantissa.front() == '-') {
    out += '-';
    mantissa.remove_prefix(1);
  }
  std::string digits;
  for (char c : mantissa)
    if (c != '.') digits += c;
  if (exponent >= -6 && exponent < 21) {
    const int point = exponent + 1;  // digits before the decimal point
    const int n = static_cast<int>(digits.size());
    if (point <= 0) {
      out += "0." + std::string(static_cast<size_t>(-point), '0') + digits;
    } else if (point >= n) {
      out += digits + std::string(static_cast<size_t>(point - n), '0');
    } else {
      out += digits.substr(0, static_cast<size_t>(point)) + "." +
             digits.substr(static_cast<size_t>(point));
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  out += "e" + std::to_string(exponent);
  return out;
}

void append_escaped(std::string_view text, std::string* out) {
  for (char c : text) {
    switch (c) {
      case '\t':
        *out += "\\t";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      case '\0':
        *out += "\\0";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\'':
        *out += "\\'";
        break;
      default:
        *out += c;
    }
  }
}

bool unescape_tsv(std::string_view field, std::string* out) {
  out->clear();
  for (size_t idx = 0; idx < field.size(); ++idx) {
    const char c = field[idx];
    if (c != '\\') {
      *out += c;
      continue;
    }
    if (++idx >= field.size()) return false;
    switch (field[idx]) {
      case 't':
        *out += '\t';
        break;
      case 'n':
        *out += '\n';
        break;
      case 'r':
        *out += '\r';
        break;
      case 'b':
        *out += '\b';
        break;
      case 'f':
        *out += '\f';
        break;
      case '0':
        *out += '\0';
        break;
      default:
        *out += field[idx];
    }
  }
  return true;
}

void append_tsv(const std::vector<Column>& columns, std::string* out) {
  const size_t rows = columns.empty() ? 0 : columns[0].rows;
  char buf[32];
  for (size_t row = 0; row < rows; ++row) {
    for (size_t col = 0; col < columns.size(); ++col) {
      if (col > 0) *out += '\t';
      const Column& c = columns[col];
      switch (c.type.id) {
        case TypeId::kString:
        case TypeId::kLowCardinality:
          append_escaped(c.string_at(row), out);
          break;
        // ClickHouse 18.16 prints the zero Date and DateTime as all zeros, not as 1970-01-01.
        case TypeId::kDate:
          if (c.values<uint16_t>()[row] == 0) {
            *out += "0000-00-00";
            break;
          }
          dt::format_date(c.values<uint16_t>()[row], buf);
          out->append(buf, 10);
          break;
        case TypeId::kDateTime:
          if (c.values<uint32_t>()[row] == 0) {
            *out += "0000-00-00 00:00:00";
            break;
          }
          dt::format_date_time(c.values<uint32_t>()[row], buf);
          out->append(buf, 19);
          break;
        case TypeId::kFloat64:
          *out += format_float(c.values<double>()[row]);
          break;
        default:
          visit_fixed(c.type, [&](auto tag) {
            using T = typename decltype(tag)::type;
            if constexpr (std::is_integral_v<T>) {
              const T v = c.values<T>()[row];
              const auto res = std::to_chars(buf, buf + sizeof(buf), v);
              out->append(buf, static_cast<size_t>(res.ptr - buf));
            }
          });
      }
    }
    *out += '\n';
  }
}

bool parse_value(std::string_view text, Column* column) {
  switch (column->type.id) {
    case TypeId::kString:
      column->push_string(text);
      return true;
    case TypeId::kLowCardinality:
      return false;
    case TypeId::kDate: {
      const auto days = dt::parse_date(text);
      if (!days || *days < 0 || *days > 65535) return false;
      column->push(static_cast<uint16_t>(*days));
      return true;
    }
    case TypeId::kDateTime: {
      const auto secs = dt::parse_date_time(text);
      if (!secs || *secs < 0 || *secs > UINT32_MAX) return false;
      column->push(static_cast<uint32_t>(*secs));
      return true;
    }
    case TypeId::kFloat64: {
      double v = 0;
      if (text == "inf" || text == "+inf")
        v = INFINITY;
      else if (text == "-inf")
        v = -INFINITY;
      else if (text == "nan" || text == "-nan")
        v = NAN;
      else {
        const auto res = std::from_chars(text.data(), text.data() + text.size(), v);
        if (res.ec != std::errc() || res.ptr != text.data() + text.size()) return false;
      }
      column->push(v);
      return true;
    }
    default: {
      bool ok = false;
      visit_fixed(column->type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        if constexpr (std::is_integral_v<T>) {
          T v{};
          const auto res = std::from_chars(text.data(), text.data() + text.size(), v);
          ok = res.ec == std::errc() && res.ptr == text.data() + text.size() && !text.empty();
          if (ok) column->push(v);
        }
      });
      return ok;
    }
  }
}

}  // namespace shardlab::engine
