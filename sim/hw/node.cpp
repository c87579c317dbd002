#include "sim/hw/node.h"

#include <limits>

namespace shardlab::sim {

namespace {

// Handles kept for a crash are pruned of settled ones when the vector would grow.
void prune_settled(std::vector<Future>& futures) {
  if (futures.size() >= 64 && futures.size() == futures.capacity()) {
    std::erase_if(futures, [](const Future& f) { return !f.pending(); });
  }
}

}  // namespace

bool same_hardware(const NodeSpec& a, const NodeSpec& b) {
  return a.cores == b.cores && a.cpu_speed == b.cpu_speed && a.memory_bytes == b.memory_bytes &&
         a.memory_bytes_per_s == b.memory_bytes_per_s &&
         a.disk.read_bytes_per_s == b.disk.read_bytes_per_s &&
         a.disk.write_bytes_per_s == b.disk.write_bytes_per_s && a.disk.latency == b.disk.latency &&
         a.disk.iops == b.disk.iops && a.page_cache_block_bytes == b.page_cache_block_bytes;
}

Node::Node(Simulation& sim, NodeSpec spec)
    : Node(sim, spec, std::make_shared<Machine>(sim, spec.name, spec)) {}

Node::Node(Simulation& sim, NodeSpec spec, std::shared_ptr<Machine> machine)
    : sim_(sim),
      spec_(std::move(spec)),
      machine_(std::move(machine)),
      server_index_(machine_->add_server()) {}

Future Node::node_down() const {
  Future refused = sim_.make_future();
  refused.fail(FaultKind::kNodeDown, spec_.name + " is down");
  return refused;
}

Future Node::track(Future work) {
  if (!shares_machine()) return work;  // a crash takes the whole machine: nothing to sort out
  prune_settled(work_);
  work_.push_back(work);
  return work;
}

FileId Node::machine_file(FileId file) const {
  const size_t servers = machine_->servers();
  if (servers <= 1) return file;
  SHARDLAB_ASSERT(file <= (std::numeric_limits<FileId>::max() - server_index_) / servers,
                  "file id {} overflows the page cache's ids on machine {}", file,
                  machine_->name());
  return static_cast<FileId>(file * servers + server_index_);
}

Future Node::compute(double work, std::string_view label) {
  return up_ ? track(machine_->cpu().compute(work, label)) : node_down();
}

Future Node::read_file(FileId file, uint64_t offset, uint64_t bytes) {
  return up_ ? track(machine_->read_file(machine_file(file), offset, bytes)) : node_down();
}

Future Node::write_file(FileId file, uint64_t offset, uint64_t bytes) {
  return up_ ? track(machine_->write_file(machine_file(file), offset, bytes)) : node_down();
}

Future Node::spawn(Process process) {
  prune_settled(processes_);
  Future done = sim_.spawn(std::move(process));
  processes_.push_back(done);
  if (!up_) sim_.interrupt(done, FaultKind::kNodeDown, spec_.name + " is down");
  return done;
}

void Node::fail_work(const std::string& message) {
  if (!shares_machine()) {
    machine_->cpu().fail_all(FaultKind::kNodeDown, message);
    machine_->disk().fail_all(FaultKind::kNodeDown, message);
    return;
  }
  // Cancelling may settle other handles (an all_of's children); iterate over a copy.
  const std::vector<Future> work = std::exchange(work_, {});
  for (const Future& w : work) w.cancel(FaultKind::kNodeDown, message);
}

void Node::crash() {
  if (!up_) return;
  up_ = false;
  ++crashes_;
  const std::string message = spec_.name + " crashed";
  if (shares_machine()) {
    fail_work(message);
  } else {
    machine_->power_off(message);
  }
  for (const Future& process : processes_) sim_.interrupt(process, FaultKind::kNodeDown, message);
  processes_.clear();
}

void Node::restart() {
  if (up_) return;
  up_ = true;
  if (!shares_machine()) machine_->power_on();
}

}  // namespace shardlab::sim
