// Opening a table from the command line: what the open found is told on stderr, and a table
// with damaged or missing parts is read only when the user accepts short answers.
#pragma once

#include <memory>
#include <string>

#include "shardlab/engine/table.h"

namespace shardlab::apps {

// Tells on stderr what a writable open repaired or detached (leftovers, rolled-back inserts,
// damaged parts) and what is still missing.
void print_open_report(const engine::OpenReport& report);

// Opens `dir` read-only for answering queries. If a part of it is damaged, detached as broken
// or missing, throws CorruptionError naming each (exit 1), unless `allow_broken_parts`: then
// each is a warning and the answers cover the healthy parts only.
std::unique_ptr<engine::Table> open_for_reading(const std::string& dir, bool allow_broken_parts);

}  // namespace shardlab::apps
