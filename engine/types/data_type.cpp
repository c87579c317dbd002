#include "shardlab/engine/data_type.h"

#include <array>
#include <utility>

namespace shardlab::engine {
namespace {

constexpr std::array<std::pair<TypeId, std::string_view>, 13> kNames = {{
    {TypeId::kUInt8, "UInt8"},
    {TypeId::kUInt16, "UInt16"},
    {TypeId::kUInt32, "UInt32"},
    {TypeId::kUInt64, "UInt64"},
    {TypeId::kInt8, "Int8"},
    {TypeId::kInt16, "Int16"},
    {TypeId::kInt32, "Int32"},
    {TypeId::kInt64, "Int64"},
    {TypeId::kFloat64, "Float64"},
    {TypeId::kDate, "Date"},
    {TypeId::kDateTime, "DateTime"},
    {TypeId::kString, "String"},
    {TypeId::kLowCardinality, "LowCardinality(String)"},
}};

}  // namespace

size_t DataType::width() const {
  if (id == TypeId::kString) return 0;
  return visit_fixed(*this, [](auto tag) { return sizeof(typename decltype(tag)::type); });
}

std::string DataType::name() const {
  for (const auto& [type_id, name] : kNames)
    if (type_id == id) return std::string(name);
  return "?";
}

bool parse_type_name(std::string_view text, DataType* out) {
  std::string compact;
  for (char c : text)
    if (c != ' ' && c != '\t' && c != '\n') compact += c;
  for (const auto& [type_id, name] : kNames) {
    if (compact == name) {
      *out = type_id;
      return true;
    }
  }
  return false;
}

}  // namespace shardlab::engine
