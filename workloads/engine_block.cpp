#include "workloads/engine_block.h"

#include <algorithm>

#include "base/errors.h"

namespace shardlab::workloads {
namespace {

using engine::Column;
using engine::DataType;
using engine::TypeId;

template <size_t N>
std::vector<std::string_view> names_of(const std::array<std::string_view, N>& names) {
  return {names.begin(), names.end()};
}

// Copies integer values into a column of any integer, float or time type.
template <typename S>
void convert_numbers(const std::vector<S>& src, Column* out) {
  out->resize_fixed(src.size());
  engine::visit_fixed(out->type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* dst = out->values<T>();
    for (size_t row = 0; row < src.size(); ++row) dst[row] = static_cast<T>(src[row]);
  });
}

}  // namespace

EngineBlockSource::EngineBlockSource(GeneratorConfig config, const engine::TableSchema& schema)
    : generator_(std::move(config)) {
  static const std::pair<const char*, Source> kSources[] = {
      {"user_id", Source::kUserId},    {"item_id", Source::kItemId},
      {"action", Source::kAction},     {"event_time", Source::kEventTime},
      {"province", Source::kProvince}, {"gender", Source::kGender}};
  for (const auto& column : schema.columns) {
    const auto* found = std::find_if(std::begin(kSources), std::end(kSources),
                                     [&](const auto& s) { return column.name == s.first; });
    if (found == std::end(kSources))
      throw InputError(
          fmt::format("column '{}' of table {} is not a generated column; the generator produces "
                      "user_id, item_id, action, event_time, province and gender",
                      column.name, schema.name));
    Target target{found->second, column.type, nullptr, {}};
    const bool is_text = found->second == Source::kAction || found->second == Source::kProvince ||
                         found->second == Source::kGender;
    const bool ok = is_text ? column.type.is_string_like()
                    : found->second == Source::kEventTime
                        ? (column.type.is_numeric() && !column.type.is_float())
                        : (column.type.is_numeric() && !column.type.is_time());
    if (!ok)
      throw InputError(fmt::format("column '{}' has type {}, which generated {} values cannot take",
                                   column.name, column.type.name(),
                                   is_text ? "string" : "integer"));
    if (column.type.id == TypeId::kLowCardinality) {
      const auto names = found->second == Source::kAction   ? names_of(kActionNames)
                         : found->second == Source::kGender ? names_of(kGenderNames)
                                                            : names_of(kProvinceNames);
      std::vector<std::string> sorted(names.begin(), names.end());
      std::sort(sorted.begin(), sorted.end());
      target.dict = std::make_shared<engine::Dictionary>(sorted);
      for (auto name : names) target.remap.push_back(*target.dict->find(name));
    }
    names_.push_back(column.name);
    targets_.push_back(std::move(target));
  }
}

void EngineBlockSource::fill(uint64_t first_row, size_t count, engine::Block* block) {
  generator_.generate(first_row, count, &rows_);
  block->names = names_;
  block->columns.clear();
  for (const Target& target : targets_) {
    Column column(target.type);
    switch (target.source) {
      case Source::kUserId:
        convert_numbers(rows_.user_id, &column);
        break;
      case Source::kItemId:
        convert_numbers(rows_.item_id, &column);
        break;
      case Source::kEventTime:
        if (target.type.id == TypeId::kDate) {
          column.resize_fixed(count);
          for (size_t row = 0; row < count; ++row)
            column.values<uint16_t>()[row] =
                static_cast<uint16_t>(rows_.event_time[row] / dt::kSecondsPerDay);
        } else {
          convert_numbers(rows_.event_time, &column);
        }
        break;
      case Source::kAction:
      case Source::kProvince:
      case Source::kGender: {
        const std::vector<uint8_t>& codes = target.source == Source::kAction     ? rows_.action
                                            : target.source == Source::kProvince ? rows_.province
                                                                                 : rows_.gender;
        if (target.dict) {
          column.dict = target.dict;
          column.resize_fixed(count);
          uint32_t* dst = column.values<uint32_t>();
          for (size_t row = 0; row < count; ++row) dst[row] = target.remap[codes[row]];
        } else {
          const auto names = target.source == Source::kAction   ? names_of(kActionNames)
                             : target.source == Source::kGender ? names_of(kGenderNames)
                                                                : names_of(kProvinceNames);
          for (size_t row = 0; row < count; ++row) column.push_string(names[codes[row]]);
        }
        break;
      }
    }
    block->columns.push_back(std::move(column));
  }
}

}  // namespace shardlab::workloads
