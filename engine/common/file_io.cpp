#include "engine/common/file_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "base/errors.h"

namespace shardlab::io {
namespace {

constexpr size_t kWriteBufferBytes = 1 << 20;

[[noreturn]] void fail(const std::string& what, const fs::path& path) {
  throw RuntimeError(fmt::format("{} '{}': {}", what, path.string(), std::strerror(errno)));
}

void write_all(int fd, const char* data, size_t bytes, const fs::path& path) {
  while (bytes > 0) {
    const ssize_t n = ::write(fd, data, bytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", path);
    }
    data += n;
    bytes -= static_cast<size_t>(n);
  }
}

}  // namespace

WritableFile::WritableFile(fs::path path) : path_(std::move(path)), hash_(XXH3_createState()) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot create", path_);
  XXH3_64bits_reset(hash_);
  buffer_.reserve(kWriteBufferBytes);
}

WritableFile::~WritableFile() {
  if (fd_ >= 0) ::close(fd_);
  XXH3_freeState(hash_);
}

void WritableFile::append(const void* data, size_t bytes) {
  XXH3_64bits_update(hash_, data, bytes);
  size_ += bytes;
  if (buffer_.size() + bytes > kWriteBufferBytes) flush_buffer();
  if (bytes >= kWriteBufferBytes) {
    write_all(fd_, static_cast<const char*>(data), bytes, path_);
    return;
  }
  buffer_.append(static_cast<const char*>(data), bytes);
}

void WritableFile::flush_buffer() {
  write_all(fd_, buffer_.data(), buffer_.size(), path_);
  buffer_.clear();
}

namespace {
std::atomic<bool> durable_io{true};
}  // namespace

void set_durable(bool durable) { durable_io.store(durable, std::memory_order_relaxed); }
bool durable() { return durable_io.load(std::memory_order_relaxed); }

void commit_pause() {
  static const unsigned pause_ms = [] {
    const char* text = std::getenv("SHARDLAB_TEST_COMMIT_PAUSE_MS");
    return text ? static_cast<unsigned>(std::strtoul(text, nullptr, 10)) : 0u;
  }();
  if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
}

void WritableFile::finish() {
  flush_buffer();
  if (durable() && ::fsync(fd_) != 0) fail("cannot fsync", path_);
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail("cannot close", path_);
  }
  fd_ = -1;
}

namespace {

int open_for_reading(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", path);
  return fd;
}

uint64_t soft_open_file_limit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return limit.rlim_cur;
}

// 0 until first use, which takes half the soft limit then.
std::atomic<size_t> descriptor_budget{0};
std::atomic<size_t> descriptors_held{0};

}  // namespace

size_t read_descriptor_budget() {
  size_t budget = descriptor_budget.load(std::memory_order_relaxed);
  if (budget == 0) {
    size_t fresh = std::max<size_t>(soft_open_file_limit() / 2, 1);
    descriptor_budget.compare_exchange_strong(budget, fresh, std::memory_order_relaxed);
    budget = descriptor_budget.load(std::memory_order_relaxed);
  }
  return budget;
}

void set_read_descriptor_budget(size_t budget) {
  descriptor_budget.store(budget, std::memory_order_relaxed);
}

void raise_open_file_limit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);  // failing leaves the old limit, which still works
}

ReadableFile::ReadableFile(const fs::path& path) : path_(path.string()) {
  fd_ = open_for_reading(path_);
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    ::close(fd_);
    fail("cannot stat", path);
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (descriptors_held.fetch_add(1, std::memory_order_relaxed) >= read_descriptor_budget()) {
    descriptors_held.fetch_sub(1, std::memory_order_relaxed);
    ::close(fd_);
    fd_ = -1;
  }
}

ReadableFile::~ReadableFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  descriptors_held.fetch_sub(1, std::memory_order_relaxed);
}

size_t ReadableFile::read_at(uint64_t offset, size_t bytes, char* dst) const {
  bytes = static_cast<size_t>(std::min<uint64_t>(bytes, size_ - offset));
  const int fd = fd_ >= 0 ? fd_ : open_for_reading(path_);
  struct CloseTransient {
    int fd;
    bool transient;
    ~CloseTransient() {
      if (transient) ::close(fd);
    }
  } closer{fd, fd_ < 0};
  size_t done = 0;
  while (done < bytes) {
    const ssize_t n = ::pread(fd, dst + done, bytes - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot read", path_);
    }
    if (n == 0)
      throw RuntimeError(fmt::format("cannot read '{}': the file ended at {} bytes, {} expected",
                                     path_, offset + done, size_));
    done += static_cast<size_t>(n);
  }
  return bytes;
}

std::string read_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", path);
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      fail("cannot read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

void write_file_durable(const fs::path& path, std::string_view content) {
  WritableFile file(path);
  file.append(content);
  file.finish();
}

void sync_directory(const fs::path& dir) {
  if (!durable()) return;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open directory", dir);
  if (::fsync(fd) != 0) {
    ::close(fd);
    fail("cannot fsync directory", dir);
  }
  ::close(fd);
}

void rename_durable(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    fail("cannot rename to " + to.string() + " from", from);
  sync_directory(to.parent_path());
}

uint64_t file_checksum(const fs::path& path, uint64_t* size_out) {
  const ReadableFile file(path);
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> hash(XXH3_createState(),
                                                                &XXH3_freeState);
  XXH3_64bits_reset(hash.get());
  std::vector<char> buffer(std::min<uint64_t>(file.size(), 1 << 20));
  for (uint64_t offset = 0; offset < file.size();) {
    const size_t n = file.read_at(offset, buffer.size(), buffer.data());
    XXH3_64bits_update(hash.get(), buffer.data(), n);
    offset += n;
  }
  *size_out = file.size();
  return XXH3_64bits_digest(hash.get());
}

void remove_flat_directory(const fs::path& dir) {
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) {
    if (errno == ENOENT) return;
    fail("cannot open directory", dir);
  }
  const int fd = ::dirfd(listing);
  bool nested = false;
  errno = 0;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (::unlinkat(fd, entry->d_name, 0) != 0) {
      if (errno != EISDIR && errno != EPERM) {
        const int unlink_error = errno;
        const std::string file = (dir / entry->d_name).string();
        ::closedir(listing);
        errno = unlink_error;
        fail("cannot remove", file);
      }
      nested = true;
    }
    errno = 0;
  }
  const int read_error = errno;
  ::closedir(listing);
  if (read_error != 0) {
    errno = read_error;
    fail("cannot list directory", dir);
  }
  if (nested) {
    fs::remove_all(dir);
  } else if (::rmdir(dir.c_str()) != 0) {
    fail("cannot remove directory", dir);
  }
}

}  // namespace shardlab::io
