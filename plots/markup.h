// Escaping for the report's two formats. Everything that comes from a scenario (its name, its
// question, query and node names, summary keys) passes through these before it is written.
#pragma once

#include <string>
#include <string_view>

namespace shardlab::plots {

// Text for HTML element content and double- or single-quoted attribute values:
// & < > " ' become entities. Bytes are otherwise kept (the page declares UTF-8).
std::string html_escape(std::string_view text);

// Text for a Markdown (CommonMark / GitHub) paragraph or heading that reads literally:
// backslash-escapes \ ` * _ [ ] < > & | ~ anywhere, and what would start a block at the
// beginning: '#', '=', a '+' or '-' list marker, and the '.' or ')' of a number that would
// start an ordered list ("1. "). Numbers such as "-0.5" or "5.05 ms" stay as they are. Line
// breaks become spaces, so call it per paragraph.
std::string markdown_escape(std::string_view text);

// The same for inline places where no block can start (table cells, link texts): only the
// characters that are escaped anywhere.
std::string markdown_escape_inline(std::string_view text);

// A relative URL for a file name: bytes outside [A-Za-z0-9._~/-] percent-encoded.
std::string url_encode(std::string_view path);

}  // namespace shardlab::plots
