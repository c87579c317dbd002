// AtomicFile: the only way results/ writes a file. Readers of the destination see either its
// previous content or the complete new content, never a prefix: bytes go to a temporary file in
// the same directory ("<name>.tmp.<pid>"), which commit() fsyncs, renames over the destination,
// and then fsyncs the directory, so a committed file also survives a power loss. A crash before
// commit() leaves at most the temporary file; the destination is untouched.
//
// Every failure throws RuntimeError naming the destination, the step and the system's reason:
//   cannot write 'out/summary.json': cannot create temporary file
//   'out/summary.json.tmp.4711': No such file or directory
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace shardlab::base {

class AtomicFile {
 public:
  // Creates the temporary file. Throws RuntimeError if it cannot.
  explicit AtomicFile(std::filesystem::path path);
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Buffered; memory stays bounded whatever the file's size. REQUIRES: not committed.
  void append(std::string_view text);
  // Publishes the content under the destination name. REQUIRES: called at most once.
  void commit();

  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  [[noreturn]] void fail(std::string_view step, const std::filesystem::path& subject, int error);
  void flush();
  void discard();

  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  int fd_ = -1;
  std::string buffer_;
  bool committed_ = false;
};

// Writes `content` to `path` through an AtomicFile.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace shardlab::base
