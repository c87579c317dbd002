// One machine: CPU, disk, memory, the OS page cache over that disk, and the processes that run
// on it. A crash loses all volatile state: running CPU tasks and disk requests fail with
// kNodeDown, processes on the node are interrupted with kNodeDown, the page cache empties and
// memory claims are void. Until restart(), compute(), read_file(), write_file() and disk
// requests fail at once with kNodeDown, and a process spawn()ed on the node throws kNodeDown
// from its first co_await. (The node's network endpoint is the network model's business;
// faults.h ties the two together.)
//
// File reads go through the page cache: cached bytes cost memory bandwidth (shared like any
// fluid resource), missing bytes cost a disk read, and both proceed in parallel. A block is
// cached from the moment it is requested, so a second reader of a block still in flight counts
// as a hit; this is slightly optimistic compared with waiting on the page lock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/hw/cpu.h"
#include "sim/hw/disk.h"
#include "sim/hw/memory.h"
#include "sim/hw/page_cache.h"

namespace shardlab::sim {

struct NodeSpec {
  std::string name;
  int cores = 8;
  double cpu_speed = 1.0;
  uint64_t memory_bytes = uint64_t{32} << 30;
  double memory_bytes_per_s = 10e9;  // copy bandwidth for page-cache hits
  DiskSpec disk;
  uint64_t page_cache_block_bytes = PageCache::kDefaultBlockBytes;
};

class Node {
 public:
  Node(Simulation& sim, NodeSpec spec);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return spec_.name; }
  const NodeSpec& spec() const { return spec_; }
  Cpu& cpu() { return cpu_; }
  Disk& disk() { return disk_; }
  Memory& memory() { return memory_; }
  PageCache& page_cache() { return page_cache_; }

  Future compute(double work, std::string_view label = "task");
  // Reads [offset, offset + bytes) of a file through the page cache.
  Future read_file(FileId file, uint64_t offset, uint64_t bytes);
  // Writes through the page cache to disk.
  Future write_file(FileId file, uint64_t offset, uint64_t bytes);

  // Runs `process` on this node: a crash interrupts it with kNodeDown.
  Future spawn(Process process);

  bool up() const { return up_; }
  void crash();
  void restart();
  uint64_t crashes() const { return crashes_; }

 private:
  Future node_down() const;

  Simulation& sim_;
  NodeSpec spec_;
  bool up_ = true;
  uint64_t crashes_ = 0;
  Cpu cpu_;
  Disk disk_;
  Memory memory_;
  PageCache page_cache_;
  FluidSet memory_bus_;  // amount: bytes copied from the page cache
  std::vector<Future> processes_;
};

}  // namespace shardlab::sim
