#include "workloads/query_template.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <span>

#include "base/errors.h"
#include "shardlab/engine/date_time.h"
#include "workloads/user_behavior.h"

namespace shardlab::workloads {

namespace {

// "-7d" after {now or {today -> seconds to subtract; throws for anything else.
int64_t parse_offset(std::string_view spec, std::string_view placeholder) {
  if (spec.empty()) return 0;
  if (spec.front() != '-') {
    throw InputError(fmt::format("placeholder {{{}}}: expected '-N' and a unit after the name",
                                 placeholder));
  }
  spec.remove_prefix(1);
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), n);
  const std::string_view unit(end, static_cast<size_t>(spec.data() + spec.size() - end));
  // Bounded so that the subtraction below cannot overflow: 100 years is far beyond any window.
  constexpr int64_t kMaxOffsetS = int64_t{100} * 366 * 86400;
  int64_t scale = 0;
  if (unit == "s") scale = 1;
  if (unit == "min") scale = 60;
  if (unit == "h") scale = 3600;
  if (unit == "d") scale = 86400;
  if (ec != std::errc() || n < 0 || (scale != 0 && n > kMaxOffsetS / scale)) {
    throw InputError(fmt::format(
        "placeholder {{{}}}: expected a whole number of units, at most 100 years", placeholder));
  }
  if (scale == 0) {
    throw InputError(fmt::format("placeholder {{{}}}: unknown unit '{}' (expected s, min, h or d)",
                                 placeholder, unit));
  }
  return n * scale;
}

constexpr QueryParameter kParameters[] = {QueryParameter::kUser, QueryParameter::kItem,
                                          QueryParameter::kProvince};

std::string parameter_text(QueryParameter parameter, const ParameterValues& values) {
  switch (parameter) {
    case QueryParameter::kUser:
      return std::to_string(values.user);
    case QueryParameter::kItem:
      return std::to_string(values.item);
    case QueryParameter::kProvince:
      return std::string(kProvinceNames[values.province % kProvinceCount]);
  }
  return {};
}

}  // namespace

std::string_view parameter_name(QueryParameter parameter) {
  switch (parameter) {
    case QueryParameter::kUser:
      return "user";
    case QueryParameter::kItem:
      return "item";
    case QueryParameter::kProvince:
      return "province";
  }
  return "?";
}

std::string_view parameter_column(QueryParameter parameter) {
  switch (parameter) {
    case QueryParameter::kUser:
      return "user_id";
    case QueryParameter::kItem:
      return "item_id";
    case QueryParameter::kProvince:
      return "province";
  }
  return "?";
}

ParameterSampler::ParameterSampler(const RowGenerator& generator)
    : generator_(generator),
      provinces_(std::span<const double>(kProvincePopulationMillions.data(),
                                         kProvincePopulationMillions.size())) {}

ParameterValues ParameterSampler::draw(const uint64_t bits[4]) const {
  ParameterValues values;
  values.user = generator_.user_sampler().sample(bits[0], bits[1]);
  values.item = generator_.item_sampler().sample(bits[2], bits[3]);
  // The item's tail draw ignores its low 24 bits (ZipfSampler::View::sample); the province
  // takes the low 32 bits of the user's tail draw, which that draw ignores too.
  values.province = static_cast<uint8_t>(provinces_.pick(bits[1] << 32));
  return values;
}

QueryTemplateText::QueryTemplateText(std::string sql) : sql_(std::move(sql)) {
  size_t pos = 0;
  for (;;) {
    const size_t open = sql_.find('{', pos);
    if (open == std::string::npos) break;
    const size_t close = sql_.find('}', open);
    if (close == std::string::npos) {
      throw InputError(fmt::format("unclosed '{{' at position {} of the query", open + 1));
    }
    if (open > pos) segments_.push_back(Segment{.text = sql_.substr(pos, open - pos)});
    const std::string_view inner(sql_.data() + open + 1, close - open - 1);
    Segment segment;
    if (inner.starts_with("now")) {
      segment.kind = Segment::Kind::kNow;
      segment.offset_s = parse_offset(inner.substr(3), inner);
      uses_clock_ = true;
    } else if (inner.starts_with("today")) {
      segment.kind = Segment::Kind::kToday;
      segment.offset_s = parse_offset(inner.substr(5), inner);
      uses_clock_ = true;
    } else {
      bool known = false;
      for (const QueryParameter parameter : kParameters) {
        if (inner != parameter_name(parameter)) continue;
        known = true;
        segment.kind = Segment::Kind::kParameter;
        segment.parameter = parameter;
        if (std::find(parameters_.begin(), parameters_.end(), parameter) == parameters_.end()) {
          parameters_.push_back(parameter);
        }
      }
      if (!known) {
        throw InputError(fmt::format(
            "unknown placeholder {{{}}} (expected {{now}}, {{now-7d}}, {{today}}, {{today-1d}}, "
            "{{user}}, {{item}} or {{province}})",
            inner));
      }
    }
    segments_.push_back(std::move(segment));
    pos = close + 1;
  }
  if (pos < sql_.size()) segments_.push_back(Segment{.text = sql_.substr(pos)});
}

std::string QueryTemplateText::expand(int64_t now_s, const ParameterValues& values) const {
  const int64_t minute = now_s - (now_s % 60 + 60) % 60;
  std::string out;
  out.reserve(sql_.size() + 16);
  for (const Segment& segment : segments_) {
    switch (segment.kind) {
      case Segment::Kind::kText:
        out += segment.text;
        break;
      case Segment::Kind::kNow:
        out += "'" + dt::date_time_to_string(minute - segment.offset_s) + "'";
        break;
      case Segment::Kind::kToday:
        out += "'" + dt::date_to_string(dt::day_of(minute - segment.offset_s)) + "'";
        break;
      case Segment::Kind::kParameter:
        if (segment.parameter == QueryParameter::kProvince) {
          out += "'" + parameter_text(segment.parameter, values) + "'";
        } else {
          out += parameter_text(segment.parameter, values);
        }
        break;
    }
  }
  return out;
}

std::string QueryTemplateText::parameter_key(const ParameterValues& values) const {
  std::string key;
  for (const QueryParameter parameter : parameters_) {
    if (!key.empty()) key += ',';
    key += parameter_name(parameter);
    key += '=';
    key += parameter_text(parameter, values);
  }
  return key;
}

}  // namespace shardlab::workloads
