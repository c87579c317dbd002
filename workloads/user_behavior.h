// The default table of the case study and its in-memory block format.
//
// LowCardinality columns travel as uint8 codes into the fixed dictionaries below; the dictionary
// strings need no TSV escaping (no tab, newline or backslash).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace shardlab::workloads {

// The table these rows fill is engine::kDefaultUserBehaviorDdl.

inline constexpr std::array<std::string_view, 4> kActionNames = {"click", "fav", "cart", "buy"};

inline constexpr std::array<std::string_view, 2> kGenderNames = {"F", "M"};
inline constexpr uint8_t kFemale = 0;
inline constexpr uint8_t kMale = 1;

// The 34 provincial-level divisions, in the order of their administrative division codes
// (11 北京 .. 82 澳门).
inline constexpr size_t kProvinceCount = 34;
inline constexpr std::array<std::string_view, kProvinceCount> kProvinceNames = {
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海",
    "江苏", "浙江", "安徽", "福建", "江西",   "山东", "河南", "湖北",   "湖南",
    "广东", "广西", "海南", "重庆", "四川",   "贵州", "云南", "西藏",   "陕西",
    "甘肃", "青海", "宁夏", "新疆", "台湾",   "香港", "澳门",
};

// Approximate 2020 populations in millions (mainland: the 7th census; 台湾, 香港, 澳门: their
// 2020 official estimates). Users are assigned provinces in proportion to these.
inline constexpr std::array<double, kProvinceCount> kProvincePopulationMillions = {
    21.89, 13.87, 74.61,  34.92, 24.05, 42.59, 24.07,  31.85, 24.87, 84.75, 64.57, 61.03,
    41.54, 45.19, 101.53, 99.37, 57.75, 66.44, 126.01, 50.13, 10.08, 32.05, 83.67, 38.56,
    47.21, 3.65,  39.53,  25.02, 5.92,  7.20,  25.85,  23.56, 7.47,  0.68,
};

// A block of rows as a struct of arrays, in the table's column order.
struct UserBehaviorBlock {
  std::vector<uint64_t> user_id;
  std::vector<uint64_t> item_id;
  std::vector<uint8_t> action;       // index into kActionNames
  std::vector<uint32_t> event_time;  // seconds since the epoch, UTC
  std::vector<uint8_t> province;     // index into kProvinceNames
  std::vector<uint8_t> gender;       // index into kGenderNames

  size_t size() const { return user_id.size(); }
  // Resizes every column; keeps capacity so that reused blocks do not reallocate.
  void resize(size_t rows);
};

}  // namespace shardlab::workloads
