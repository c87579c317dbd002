#include "apps/cli_output.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "base/errors.h"

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

}  // namespace shardlab::apps
