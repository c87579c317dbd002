#include "apps/tsv_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "base/errors.h"
#include "shardlab/engine/tsv_format.h"

namespace shardlab::apps {

bool TsvReader::next(size_t batch, engine::Block* block) {
  const size_t ncols = schema_.columns.size();
  std::vector<engine::Column> parsed;
  for (const auto& c : schema_.columns)
    parsed.emplace_back(c.type.id == engine::TypeId::kLowCardinality
                            ? engine::DataType(engine::TypeId::kString)
                            : c.type);
  std::string line, value;
  size_t rows = 0;
  while (rows < batch && std::getline(in_, line)) {
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t start = 0;
    for (size_t col = 0; col < ncols; ++col) {
      const size_t tab = line.find('\t', start);
      const bool last = col + 1 == ncols;
      if ((tab == std::string::npos) != last)
        throw InputError(fmt::format("{}:{}: expected {} tab-separated values, found {}", name_,
                                     line_no_, ncols,
                                     std::count(line.begin(), line.end(), '\t') + 1));
      const std::string_view field(line.data() + start, (last ? line.size() : tab) - start);
      if (!engine::unescape_tsv(field, &value) || !engine::parse_value(value, &parsed[col]))
        throw InputError(fmt::format("{}:{}: column {} ('{}'): expected a {} value, got '{}'",
                                     name_, line_no_, col + 1, schema_.columns[col].name,
                                     schema_.columns[col].type.name(), field));
      start = tab + 1;
    }
    ++rows;
  }
  if (rows == 0) return false;
  block->names.clear();
  block->columns.clear();
  for (size_t col = 0; col < ncols; ++col) {
    block->names.push_back(schema_.columns[col].name);
    block->columns.push_back(schema_.columns[col].type.id == engine::TypeId::kLowCardinality
                                 ? engine::string_to_low_cardinality(parsed[col])
                                 : std::move(parsed[col]));
  }
  return true;
}

}  // namespace shardlab::apps
