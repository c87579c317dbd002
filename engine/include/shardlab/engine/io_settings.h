// Process-wide settings of the engine's file I/O, and the one small-file reader that tools share.
// The rest of the engine's I/O (engine/common/file_io.h) is private to the engine.
#pragma once

#include <filesystem>
#include <string>

namespace shardlab::io {

// Raises the soft limit on open files to the hard limit (leaving it as it is if that fails).
// Called once at start-up, before any file is read: a merge reads every column file of up to
// 100 parts at once.
void raise_open_file_limit();

// Durability switch for the whole process, on by default. The simulator turns it off for the
// replicas' tables of `shardlab run`: they are scratch state rebuilt from the scenario on every
// run and never recovered after a crash of shardlab itself, so their fsyncs would only cost wall
// time (the simulated cost of writing is charged by the disk model either way). Atomicity is
// kept: files are still written to temporary names and renamed into place.
void set_durable(bool durable);
bool durable();

// Fault injection for the kill -9 tests: when the environment variable
// SHARDLAB_TEST_COMMIT_PAUSE_MS is a positive number, every multi-step commit pauses that long
// at its unsafe points (between the renames of one insert's parts, and between a merge's rename
// and the removal of its sources), so that a kill at a random moment often lands inside one.
// Never set outside tests; unset, it costs one branch.
void commit_pause();

// The whole file. Throws RuntimeError naming the path.
std::string read_file(const std::filesystem::path& path);

}  // namespace shardlab::io
