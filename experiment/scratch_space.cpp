#include "experiment/scratch_space.h"

#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <string>
#include <unordered_set>

namespace shardlab::experiment {

namespace {

constexpr const char* kMemoryRoot = "/dev/shm";
constexpr const char* kMarker = ".shardlab-scratch";

bool is_tmpfs_with_room(const char* path, uint64_t needed) {
  struct statfs fs {};
  if (::statfs(path, &fs) != 0 || static_cast<uint64_t>(fs.f_type) != TMPFS_MAGIC) return false;
  const uint64_t available = static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_bsize);
  return needed <= available;
}

}  // namespace

bool in_memory_filesystem(const std::filesystem::path& path) {
  struct statfs fs {};
  return ::statfs(path.c_str(), &fs) == 0 && static_cast<uint64_t>(fs.f_type) == TMPFS_MAGIC;
}

std::filesystem::path choose_scratch_root(uint64_t estimated_bytes,
                                          const std::filesystem::path& fallback) {
  // Four times the estimate: merges keep their source parts until they are swept, and the
  // memory the file system takes is memory the run cannot use.
  const uint64_t needed = estimated_bytes > UINT64_MAX / 4 ? UINT64_MAX : estimated_bytes * 4;
  return is_tmpfs_with_room(kMemoryRoot, needed) ? std::filesystem::path(kMemoryRoot) : fallback;
}

void create_scratch_dir(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / kMarker) << ::getpid() << "\n";
}

void keep_scratch_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove(dir / kMarker, ec);
}

void remove_abandoned_scratch_dirs(const std::filesystem::path& root) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    if (!entry.is_directory(ec)) continue;
    std::ifstream marker(entry.path() / kMarker);
    std::string text;
    if (!marker || !std::getline(marker, text)) continue;
    pid_t pid = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (err != std::errc() || pid <= 0) continue;
    // EPERM means the process exists under another user: alive, leave it.
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::filesystem::remove_all(entry.path(), ec);
  }
}

uint64_t disk_usage_bytes(const std::filesystem::path& dir) {
  std::unordered_set<uint64_t> seen;
  uint64_t bytes = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    // A file a merge removed between listing and stat is simply gone.
    if (::lstat(it->path().c_str(), &st) != 0) continue;
    if (!seen.insert(static_cast<uint64_t>(st.st_ino)).second) continue;
    bytes += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return bytes;
}

}  // namespace shardlab::experiment
