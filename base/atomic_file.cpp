#include "base/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/errors.h"

namespace shardlab::base {
namespace {

// Large enough that a CSV series is written in few system calls, small enough not to matter.
constexpr size_t kBufferBytes = 1 << 16;

}  // namespace

AtomicFile::AtomicFile(std::filesystem::path path) : path_(std::move(path)) {
  temp_path_ = path_;
  temp_path_ += ".tmp." + std::to_string(::getpid());
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot create temporary file", temp_path_, errno);
  buffer_.reserve(kBufferBytes);
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::fail(std::string_view step, const std::filesystem::path& subject, int error) {
  discard();
  throw RuntimeError(fmt::format("cannot write '{}': {} '{}': {}", path_.string(), step,
                                 subject.string(), std::strerror(error)));
}

void AtomicFile::discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(temp_path_.c_str());
  }
}

void AtomicFile::append(std::string_view text) {
  SHARDLAB_ASSERT(!committed_ && fd_ >= 0, "append to '{}' after commit", path_.string());
  if (buffer_.size() + text.size() > kBufferBytes) flush();
  buffer_.append(text);
}

void AtomicFile::flush() {
  const char* data = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    const ssize_t written = ::write(fd_, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("cannot write temporary file", temp_path_, errno);
    }
    data += written;
    left -= static_cast<size_t>(written);
  }
  buffer_.clear();
}

void AtomicFile::commit() {
  SHARDLAB_ASSERT(!committed_ && fd_ >= 0, "'{}' committed twice", path_.string());
  flush();
  if (::fsync(fd_) != 0) fail("cannot fsync temporary file", temp_path_, errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp_path_.c_str());
    fail("cannot close temporary file", temp_path_, error);
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp_path_.c_str());
    fail("cannot rename temporary file", temp_path_, error);
  }
  committed_ = true;
  // The rename is only durable once the directory entry is on disk.
  std::filesystem::path directory = path_.parent_path();
  if (directory.empty()) directory = ".";
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) fail("cannot open directory", directory, errno);
  const int synced = ::fsync(dir_fd);
  const int error = errno;
  ::close(dir_fd);
  if (synced != 0) fail("cannot fsync directory", directory, error);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  AtomicFile file(path);
  file.append(content);
  file.commit();
}

}  // namespace shardlab::base
