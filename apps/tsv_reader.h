// The TabSeparated input of `shardlab load --tsv`: rows in the table's column order, read into
// blocks. Its own file so that the TSV fuzz target (tests/fuzz/) runs exactly this code.
#pragma once

#include <istream>
#include <string>

#include "shardlab/engine/column.h"
#include "shardlab/engine/table_schema.h"

namespace shardlab::apps {

class TsvReader {
 public:
  // `name` names the input in messages ("<stdin>" or the file). `schema` must outlive the reader.
  TsvReader(std::istream& in, std::string name, const engine::TableSchema& schema)
      : in_(in), name_(std::move(name)), schema_(schema) {}

  // Reads up to `batch` rows into *block (replacing its contents), with LowCardinality columns
  // encoded as the table stores them. Returns false at the end of the input. Throws InputError
  // naming name:line and the column for a malformed row.
  bool next(size_t batch, engine::Block* block);

 private:
  std::istream& in_;
  std::string name_;
  const engine::TableSchema& schema_;
  size_t line_no_ = 0;
};

}  // namespace shardlab::apps
