// Small output helpers shared by the sub-commands.
#pragma once

#include <string>

namespace shardlab::apps {

// True when stderr is a terminal: progress bars only then.
bool stderr_is_tty();

// Writes `text` to the file at `path`, or to stderr when path is "-". Throws RuntimeError.
void write_report(const std::string& path, const std::string& text);

}  // namespace shardlab::apps
