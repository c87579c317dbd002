// A machine: the hardware that one or more servers (Nodes) run on. CPU, disk, memory, the OS
// page cache over that disk, and the memory bus that serves page-cache hits.
//
// Servers that share a machine compete for all of it, the way several clickhouse-servers on one
// host do (a loopback cluster, or a deployment that co-locates replicas to save hosts): the
// CPU's processor sharing, the disk's bandwidth, the page cache and the memory bus see every
// server's work together. The machine knows nothing of servers; Node tracks what is whose.
//
// File reads go through the page cache: cached bytes cost memory bandwidth (shared like any
// fluid resource), missing bytes cost a disk read, and both proceed in parallel. A block is
// cached from the moment it is requested, so a second reader of a block still in flight counts
// as a hit; this is slightly optimistic compared with waiting on the page lock.
#pragma once

#include <cstdint>
#include <string>

#include "sim/hw/cpu.h"
#include "sim/hw/disk.h"
#include "sim/hw/memory.h"
#include "sim/hw/page_cache.h"

namespace shardlab::sim {

struct NodeSpec;

class Machine {
 public:
  // The hardware of `spec` (its name and machine fields aside), called `name` in traces and
  // utilisation series.
  Machine(Simulation& sim, std::string name, const NodeSpec& spec);
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  const std::string& name() const { return name_; }
  Cpu& cpu() { return cpu_; }
  Disk& disk() { return disk_; }
  Memory& memory() { return memory_; }
  PageCache& page_cache() { return page_cache_; }

  // Reads [offset, offset + bytes) of a file through the page cache.
  Future read_file(FileId file, uint64_t offset, uint64_t bytes);
  // Writes through the page cache to disk.
  Future write_file(FileId file, uint64_t offset, uint64_t bytes);

  // The machine is lost: every CPU task, disk request and page copy fails with kNodeDown, the
  // disk refuses requests until power_on(), the page cache empties and memory claims are void.
  void power_off(const std::string& message);
  void power_on();

  // Servers placed on this machine (Node's constructor counts itself in).
  size_t servers() const { return servers_; }
  size_t add_server() { return servers_++; }

 private:
  Simulation& sim_;
  std::string name_;
  double memory_bytes_per_s_;
  size_t servers_ = 0;
  Cpu cpu_;
  Disk disk_;
  Memory memory_;
  PageCache page_cache_;
  FluidSet memory_bus_;  // amount: bytes copied from the page cache
};

}  // namespace shardlab::sim
