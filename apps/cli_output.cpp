#include "apps/cli_output.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "base/errors.h"
#include "scenarios/overrides.h"

namespace shardlab::apps {

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) != 0; }

void write_report(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stderr);
    return;
  }
  std::ofstream file(path);
  file << text;
  if (!file) throw RuntimeError("cannot write '" + path + "'");
}

void warn_duplicate_sets(const std::vector<std::string>& overrides) {
  for (const scenarios::RepeatedSet& repeat : scenarios::repeated_set_paths(overrides)) {
    std::fprintf(stderr,
                 "shardlab: warning: --set %s is given twice, '%s' then '%s'; the last one "
                 "wins\n",
                 repeat.path.c_str(), repeat.earlier_value.c_str(), repeat.later_value.c_str());
  }
}

}  // namespace shardlab::apps
