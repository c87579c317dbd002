// Turns generated user_behavior rows into engine blocks for any table whose columns are a
// subset of the generated ones, converting types where the DDL asks for them (String instead
// of LowCardinality, Date instead of DateTime, narrower integers).
#pragma once

#include <memory>
#include <vector>

#include "shardlab/engine/table_schema.h"
#include "shardlab/engine/column.h"
#include "workloads/row_generator.h"

namespace shardlab::workloads {

class EngineBlockSource {
 public:
  // Throws InputError if a column of `schema` is not a generated column or has a type the
  // generated values cannot take.
  EngineBlockSource(GeneratorConfig config, const engine::TableSchema& schema);

  // Overwrites *block with rows [first_row, first_row + count) in the schema's column order.
  void fill(uint64_t first_row, size_t count, engine::Block* block);
  const RowGenerator& generator() const { return generator_; }

 private:
  enum class Source : uint8_t { kUserId, kItemId, kAction, kEventTime, kProvince, kGender };
  struct Target {
    Source source;
    engine::DataType type;
    std::shared_ptr<const engine::Dictionary> dict;  // LowCardinality: sorted names
    std::vector<uint32_t> remap;                     // generator code -> dictionary code
  };

  RowGenerator generator_;
  std::vector<std::string> names_;
  std::vector<Target> targets_;
  UserBehaviorBlock rows_;
};

}  // namespace shardlab::workloads
