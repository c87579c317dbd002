// Helpers shared by the plots tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace shardlab::testing {

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The eight bytes every PNG file starts with.
inline bool has_png_signature(const std::string& bytes) {
  return bytes.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0;
}

// An XML prolog (optional) followed by an <svg> root element, and the file ends by closing it.
inline bool has_svg_root(const std::string& text) {
  size_t root = 0;
  if (text.starts_with("<?xml")) root = text.find("?>") + 2;
  root = text.find_first_not_of(" \r\n\t", root);
  if (root == std::string::npos || text.compare(root, 4, "<svg") != 0) return false;
  const size_t end = text.find_last_not_of(" \r\n\t");
  return end != std::string::npos && end >= 5 && text.compare(end - 5, 6, "</svg>") == 0;
}

}  // namespace shardlab::testing
