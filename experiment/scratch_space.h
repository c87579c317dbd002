// Where a run keeps its replicas' tables. They are scratch state: written without fsync
// (io::set_durable), deleted when the run ends, and their wall-clock I/O speed never enters a
// simulated result. What does show is file-system metadata work: every part is a directory of
// small files that is created, hard-linked by the other replicas, merged and removed, and on an
// ext4 disk that churn costs several times the simulation's own wall time. So when the user names
// no --data-dir and the data fits with room to spare, the tables go to a memory file system.
#pragma once

#include <cstdint>
#include <filesystem>

namespace shardlab::experiment {

// True if `path` is on a memory file system (tmpfs).
bool in_memory_filesystem(const std::filesystem::path& path);

// The directory a run's own scratch subdirectory goes in, for tables that may grow to about
// `estimated_bytes`: /dev/shm if it is a tmpfs with at least four times that free, otherwise
// `fallback`.
std::filesystem::path choose_scratch_root(uint64_t estimated_bytes,
                                          const std::filesystem::path& fallback);

// Creates `dir` (a run's own subdirectory) with a marker naming the owning process, so that a
// later run can remove it if that process died without cleaning up (kill -9 leaves a tmpfs
// directory holding memory until reboot).
void create_scratch_dir(const std::filesystem::path& dir);

// Removes the marker: the directory is kept on purpose (--keep-data) and no later run may take it
// for abandoned scratch.
void keep_scratch_dir(const std::filesystem::path& dir);

// Removes the subdirectories of `root` that carry the marker of a process no longer alive.
// Directories without the marker are never touched.
void remove_abandoned_scratch_dirs(const std::filesystem::path& root);

// Bytes `dir` occupies on its file system: allocated blocks of every file, each inode counted
// once however many hard links it has (replicas link their peers' parts).
uint64_t disk_usage_bytes(const std::filesystem::path& dir);

}  // namespace shardlab::experiment
