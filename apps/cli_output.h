// Small output helpers shared by the sub-commands.
#pragma once

#include <string>
#include <vector>

namespace shardlab::apps {

// True when stderr is a terminal: progress bars only then.
bool stderr_is_tty();

// Writes `text` to the file at `path`, or to stderr when path is "-". Throws RuntimeError.
void write_report(const std::string& path, const std::string& text);

// Warns on stderr about each --set argument that repeats an earlier one's path, naming the
// path and both values. The last one still wins (scenarios/overrides.h).
void warn_duplicate_sets(const std::vector<std::string>& overrides);

}  // namespace shardlab::apps
