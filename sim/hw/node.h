// A server: the processes of one database server and the hardware it runs on (a Machine).
//
// Most servers have a machine of their own; then a crash is the machine's loss: running CPU
// tasks and disk requests fail with kNodeDown, processes on the node are interrupted with
// kNodeDown, the page cache empties and memory claims are void.
//
// Servers may share a machine (NodeSpec::machine): their work competes for its CPU, disk, page
// cache and memory bus. Then a crash is the server's alone, as `kill -9` of one
// clickhouse-server is: only its own CPU tasks, disk requests and page copies fail and its
// processes are interrupted, while the machine, its disk, its page cache and the other servers'
// work carry on. Each server's files are its own in the shared page cache.
//
// Either way, until restart(), compute(), read_file(), write_file() fail at once with
// kNodeDown, and a process spawn()ed on the node throws kNodeDown from its first co_await. (The
// node's network endpoint is the network model's business; faults.h ties the two together.)
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/hw/machine.h"

namespace shardlab::sim {

struct NodeSpec {
  std::string name;
  // The machine the server runs on: servers naming the same machine share its hardware (which
  // must then be the same spec). Empty: a machine of its own, called like the node.
  std::string machine;
  int cores = 8;
  double cpu_speed = 1.0;
  uint64_t memory_bytes = uint64_t{32} << 30;
  double memory_bytes_per_s = 10e9;  // copy bandwidth for page-cache hits
  DiskSpec disk;
  uint64_t page_cache_block_bytes = PageCache::kDefaultBlockBytes;
};

// Whether two specs describe the same hardware (names and machines aside).
bool same_hardware(const NodeSpec& a, const NodeSpec& b);

class Node {
 public:
  // On a machine of its own.
  Node(Simulation& sim, NodeSpec spec);
  // On `machine`, which other servers may share.
  Node(Simulation& sim, NodeSpec spec, std::shared_ptr<Machine> machine);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return spec_.name; }
  const NodeSpec& spec() const { return spec_; }
  Machine& machine() { return *machine_; }
  // The machine's hardware, shared with the servers beside this one.
  Cpu& cpu() { return machine_->cpu(); }
  Disk& disk() { return machine_->disk(); }
  Memory& memory() { return machine_->memory(); }
  PageCache& page_cache() { return machine_->page_cache(); }
  bool shares_machine() const { return machine_->servers() > 1; }

  Future compute(double work, std::string_view label = "task");
  // Reads [offset, offset + bytes) of one of this server's files through the page cache.
  Future read_file(FileId file, uint64_t offset, uint64_t bytes);
  // Writes through the page cache to disk.
  Future write_file(FileId file, uint64_t offset, uint64_t bytes);
  // The id `file` of this server has in the machine's page cache: servers sharing a machine
  // have separate files even where their ids agree (two replicas of one part).
  FileId machine_file(FileId file) const;

  // Runs `process` on this node: a crash interrupts it with kNodeDown.
  Future spawn(Process process);

  // Fails this server's CPU tasks, disk requests and page copies in flight (its process died),
  // leaving the machine and its other servers alone.
  void fail_work(const std::string& message);

  bool up() const { return up_; }
  void crash();
  void restart();
  uint64_t crashes() const { return crashes_; }

 private:
  Future node_down() const;
  // Keeps a handle on work given to a shared machine, so that a crash can fail it.
  Future track(Future work);

  Simulation& sim_;
  NodeSpec spec_;
  std::shared_ptr<Machine> machine_;
  size_t server_index_;  // among the machine's servers
  bool up_ = true;
  uint64_t crashes_ = 0;
  std::vector<Future> processes_;
  std::vector<Future> work_;  // on a shared machine only: this server's work that may be pending
};

}  // namespace shardlab::sim
