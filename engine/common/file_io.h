// All file I/O of the engine goes through this module: buffered appends with a running
// checksum, durable syncs, positioned reads, and whole small files. Errors become
// RuntimeError (I/O) or CorruptionError (content), always naming the path.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "shardlab/engine/io_settings.h"

namespace shardlab::io {

namespace fs = std::filesystem;

// An append-only file that tracks its size and XXH3-64 of everything written.
class WritableFile {
 public:
  explicit WritableFile(fs::path path);
  ~WritableFile();
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;

  void append(const void* data, size_t bytes);
  void append(std::string_view text) { append(text.data(), text.size()); }
  uint64_t size() const { return size_; }
  uint64_t checksum() const { return XXH3_64bits_digest(hash_); }
  // Flushes, fsyncs and closes. REQUIRES: called once before destruction for a durable file.
  void finish();
  const fs::path& path() const { return path_; }

 private:
  void flush_buffer();

  fs::path path_;
  int fd_ = -1;
  std::string buffer_;
  uint64_t size_ = 0;
  XXH3_state_t* hash_;
};

// A file read with pread(2) into the caller's buffers. The engine maps no files: reading block
// by block into a reused buffer costs a copy, where a mapping costs a page-table entry and a
// fault per page first touched; on virtual machines whose faults are slow (10 us or more) the
// copy is several times cheaper, and it keeps the mapping and the TLB flushes on unmapping out
// of every query. One instance may be read from several threads at once.
//
// Each instance keeps its descriptor open while fewer than read_descriptor_budget() do; past
// that it opens the file for each read. A merge of 100 parts reads every column of each at
// once, a thousand files or more, which must not fail under a limit of 1,024 descriptors.
class ReadableFile {
 public:
  explicit ReadableFile(const fs::path& path);
  ~ReadableFile();
  ReadableFile(const ReadableFile&) = delete;
  ReadableFile& operator=(const ReadableFile&) = delete;
  // Reads min(bytes, size() - offset) bytes at `offset` into `dst` and returns that count.
  // Throws RuntimeError naming the file if the read fails or the file shrank since it was
  // opened. REQUIRES: offset <= size().
  size_t read_at(uint64_t offset, size_t bytes, char* dst) const;
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;  // -1: opened for each read
  uint64_t size_ = 0;
};

// How many ReadableFiles keep their descriptor open at once. By default half the soft limit
// on open files when the first one is opened, leaving the rest to written files, sockets and
// the caller. Tests lower it to see the other path; 0 restores the default, taken again from
// the limit on next use.
size_t read_descriptor_budget();
void set_read_descriptor_budget(size_t budget);
// raise_open_file_limit, set_durable and read_file are in shardlab/engine/io_settings.h.

// Writes the file and fsyncs it (not its directory).
void write_file_durable(const fs::path& path, std::string_view content);
void sync_directory(const fs::path& dir);
// rename(2) then fsync of the destination's parent directory: after it returns, the new name
// survives a power loss.
void rename_durable(const fs::path& from, const fs::path& to);
uint64_t file_checksum(const fs::path& path, uint64_t* size_out);
// Removes a directory of plain files (a part): one readdir pass and an unlink per file, where
// std::filesystem::remove_all also stats every entry. Anything else in it (a subdirectory)
// falls back to remove_all. A missing directory is not an error.
void remove_flat_directory(const fs::path& dir);

}  // namespace shardlab::io
