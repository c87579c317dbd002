// A query template's SQL with placeholders, expanded for each query a client sends:
//
//   {now}          'YYYY-MM-DD hh:mm:ss' of the current simulated time, to the minute
//   {now-N<unit>}  the same, N units earlier (unit s, min, h or d)
//   {today}        'YYYY-MM-DD' of the current day, {today-Nd} N days earlier
//   {user}         a user_id drawn by the generator's Zipf user popularity (1 most often)
//   {item}         an item_id drawn by the generator's Zipf item popularity
//   {province}     a quoted province name drawn by the provinces' population weights
//
// Time is taken to the minute so that a dashboard query repeated within a minute is the same
// query (its per-part results are memoised, and with a cache tier it is the same cache key). The
// parameters make `WHERE user_id = {user}` ask about many users, popular ones more often, as
// real traffic does; each names a column of the generated table (parameter_column()).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/alias_table.h"
#include "workloads/row_generator.h"

namespace shardlab::workloads {

enum class QueryParameter : uint8_t { kUser, kItem, kProvince };

// "user", "item", "province".
std::string_view parameter_name(QueryParameter parameter);
// The column a parameter's values come from: user_id, item_id, province.
std::string_view parameter_column(QueryParameter parameter);

// One drawn value per parameter kind (only those the template uses are read).
struct ParameterValues {
  uint64_t user = 1;
  uint64_t item = 1;
  uint8_t province = 0;  // index into kProvinceNames
};

// Draws parameter values from the generator's own distributions.
class ParameterSampler {
 public:
  explicit ParameterSampler(const RowGenerator& generator);
  // `bits` are four independent uniform 64-bit values.
  ParameterValues draw(const uint64_t bits[4]) const;

 private:
  const RowGenerator& generator_;
  base::AliasTable provinces_;
};

class QueryTemplateText {
 public:
  // Splits `sql` at its placeholders. Throws InputError for an unclosed or unknown placeholder
  // or a malformed time offset.
  explicit QueryTemplateText(std::string sql);

  const std::string& sql() const { return sql_; }
  // The parameters used, each once, in order of first use.
  const std::vector<QueryParameter>& parameters() const { return parameters_; }
  bool uses_clock() const { return uses_clock_; }

  // The SQL for the simulated instant `now_s` (Unix seconds) and these parameter values.
  std::string expand(int64_t now_s, const ParameterValues& values) const;
  // "user=123,province=北京": the parameter values as a cache key's suffix (empty without
  // parameters).
  std::string parameter_key(const ParameterValues& values) const;

 private:
  struct Segment {
    enum class Kind : uint8_t { kText, kNow, kToday, kParameter } kind = Kind::kText;
    std::string text;             // kText
    int64_t offset_s = 0;         // kNow, kToday: seconds subtracted
    QueryParameter parameter{};   // kParameter
  };

  std::string sql_;
  std::vector<Segment> segments_;
  std::vector<QueryParameter> parameters_;
  bool uses_clock_ = false;
};

}  // namespace shardlab::workloads
