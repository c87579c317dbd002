// The network model alone: `shardlab flows PLATFORM.yaml FLOWS.csv [-o OUT.csv] [--trace T]`.
//
// Plays a list of network transfers on a platform and writes when each one finished.
//
// FLOWS.csv: the header `id,src,dst,bytes,start_s`, then one transfer per line. Fields are
// separated by commas, with no quoting; spaces around a field are ignored, and so are blank
// lines. `id` is any non-empty text, unique in the file; `src` and `dst` are hosts of the
// platform; `bytes` is a size (a plain number of bytes, or units such as 10MB, 1GiB); `start_s`
// is a duration from time 0 (a plain number of seconds, or units such as 250ms).
//
// OUT.csv: the header `id,finish_s`, then one line per transfer in input order, the finish
// instant in seconds with 9 decimals (exact nanoseconds). A transfer from a host to itself
// finishes at its start.
//
// The platform never changes during the run, so a transfer can only fail if its hosts have no
// route between them; that is checked while reading FLOWS.csv and reported as an input error
// ("disconnected hosts"), like every other mistake in either file: file:line and what was
// expected, exit code 2.
#pragma once

#include <string>

namespace shardlab::experiment {

// Plays the transfers of `flows_path` on the platform of `platform_path` and writes the finish
// times to `output_path` ("" or "-": stdout), and the trace to `trace_path` unless it is empty.
// Throws InputError for mistakes in either file, RuntimeError for I/O failures.
void run_flows(const std::string& platform_path, const std::string& flows_path,
               const std::string& output_path, const std::string& trace_path);

}  // namespace shardlab::experiment
