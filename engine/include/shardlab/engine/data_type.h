// The column types the engine stores and computes with, named as in ClickHouse.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace shardlab::engine {

enum class TypeId : uint8_t {
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFloat64,
  kDate,      // days since 1970-01-01, stored as uint16 like ClickHouse
  kDateTime,  // seconds since the epoch (UTC), stored as uint32 like ClickHouse
  kString,
  kLowCardinality,  // LowCardinality(String): codes into a sorted per-part dictionary
};

struct DataType {
  TypeId id = TypeId::kUInt64;

  constexpr DataType() = default;
  constexpr DataType(TypeId type_id) : id(type_id) {}  // NOLINT: types read best as TypeId values

  // Bytes per value of the in-memory representation. Strings have none (0);
  // LowCardinality columns hold uint32 codes in memory.
  size_t width() const;
  bool is_fixed() const { return id != TypeId::kString; }
  bool is_string_like() const { return id == TypeId::kString || id == TypeId::kLowCardinality; }
  bool is_integer() const { return id <= TypeId::kInt64; }
  bool is_signed() const { return id >= TypeId::kInt8 && id <= TypeId::kInt64; }
  bool is_unsigned_like() const {  // unsigned integers and the date types
    return id <= TypeId::kUInt64 || id == TypeId::kDate || id == TypeId::kDateTime;
  }
  bool is_float() const { return id == TypeId::kFloat64; }
  bool is_time() const { return id == TypeId::kDate || id == TypeId::kDateTime; }
  bool is_numeric() const { return id <= TypeId::kFloat64 || is_time(); }

  std::string name() const;
  bool operator==(const DataType&) const = default;
};

// Parses a ClickHouse type name ("UInt32", "LowCardinality(String)"). Returns false if unknown.
bool parse_type_name(std::string_view text, DataType* out);

// Visits the C++ type used in memory for a fixed-width DataType:
// f(std::type_identity<T>{}) with T one of uint8_t..int64_t, double.
template <typename F>
decltype(auto) visit_fixed(DataType type, F&& f) {
  switch (type.id) {
    case TypeId::kUInt8:
      return f(std::type_identity<uint8_t>{});
    case TypeId::kUInt16:
      return f(std::type_identity<uint16_t>{});
    case TypeId::kDate:
      return f(std::type_identity<uint16_t>{});
    case TypeId::kUInt32:
      return f(std::type_identity<uint32_t>{});
    case TypeId::kDateTime:
      return f(std::type_identity<uint32_t>{});
    case TypeId::kLowCardinality:
      return f(std::type_identity<uint32_t>{});
    case TypeId::kUInt64:
      return f(std::type_identity<uint64_t>{});
    case TypeId::kInt8:
      return f(std::type_identity<int8_t>{});
    case TypeId::kInt16:
      return f(std::type_identity<int16_t>{});
    case TypeId::kInt32:
      return f(std::type_identity<int32_t>{});
    case TypeId::kInt64:
      return f(std::type_identity<int64_t>{});
    case TypeId::kFloat64:
      return f(std::type_identity<double>{});
    case TypeId::kString:
      break;
  }
  __builtin_unreachable();
}

}  // namespace shardlab::engine
