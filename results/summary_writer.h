// Deterministic JSON for summary.json and other result documents.
//
// Callers build a Json (nlohmann::ordered_json: keys stay in insertion order, so the document's
// layout is exactly the order in which the code filled it) and hand it to render_json() or
// write_json(). Rendering walks the document itself instead of using nlohmann's dump, so that
// every floating-point number follows number_format.h however it was inserted:
//   - doubles are rounded to kSignificantDigits significant digits and printed in their
//     shortest form, with ".0" appended when that form would read as an integer (2.0, not 2),
//     so that a field's JSON type does not depend on its value;
//   - NaN and infinities, which JSON cannot hold, are written as null;
//   - integers print exactly.
// Layout: two-space indentation, one member or element per line, "{}" and "[]" when empty,
// a newline at the end. Strings are escaped by nlohmann; invalid UTF-8 becomes U+FFFD rather
// than failing the run. The same Json always renders to the same bytes.
//
// The helpers build the two shapes every report uses:
//   latency_json:    {"count": 1200, "errors": 3,
//                     "latency_s": {"mean", "p50", "p90", "p99", "p999", "max"}}
//                    (latency fields null when count is 0; "errors" only when given)
//   interval_json:   {"mean": 0.0123, "ci95_low": 0.0119, "ci95_high": 0.0127, "n": 10}
//                    (bounds null when n is 1; "ci95" follows the level: "ci99", "ci99.9")
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "results/confidence_interval.h"
#include "results/latency_histogram.h"

namespace shardlab::results {

using Json = nlohmann::ordered_json;

// `value` rounded under the number rule, or null when it is not finite.
Json json_number(double value);

// The latency summary of `histogram` (values in ns, written in seconds).
Json latency_json(const LatencyHistogram& histogram, std::optional<uint64_t> errors = std::nullopt);

// A replicated metric: mean and confidence bounds.
Json interval_json(const ConfidenceInterval& interval);

std::string render_json(const Json& document);

// Writes render_json(document) atomically (atomic_file.h). Throws RuntimeError naming `path`.
void write_json(const std::filesystem::path& path, const Json& document);

}  // namespace shardlab::results
