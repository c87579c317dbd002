// Crashes and restarts of Cluster's nodes (cluster.h, "Crashes"). Replica stores are untouched
// (replica_store.h, "Crashes"): what a crash loses is the node's volatile state and, on a node
// loss, the async queues it held.
#include "sim/cluster/cluster.h"

namespace shardlab::sim::cluster {

void Cluster::crash_node(size_t node, CrashKind kind) {
  Node& n = *nodes_[node];
  if (!n.up() || process_down_[node]) return;
  network_.set_node_up(hosts_[node], false);
  if (kind == CrashKind::kNodeLoss) {
    // On a machine of its own the machine is lost, and with it the queue in its page cache. A
    // server sharing its machine dies alone (kill -9): the queue's files stay in the machine's
    // page cache and are sent when the server is back.
    const bool machine_lost = !n.shares_machine();
    n.crash();
    if (machine_lost) lose_queues(node);
  } else {
    // The server process died: its work in flight fails, the machine keeps disk and cache.
    process_down_[node] = true;
    n.fail_work(spec_.nodes[node].name + " restarted");
  }
}

void Cluster::lose_queues(size_t node) {
  // The async queue was in the page cache, never fsynced: gone, and counted. A block being
  // sent right now may still reach its shard; its sender settles its fate.
  for (ShardQueue& queue : queues_[node]) {
    const bool in_flight = !queue.blocks.empty() && queue.blocks.front().sending;
    while (queue.blocks.size() > (in_flight ? 1u : 0u)) {
      counters_.rows_lost += queue.blocks.back().rows;
      queue.rows -= queue.blocks.back().rows;
      queue.blocks.pop_back();
    }
    if (in_flight) queue.blocks.front().orphaned = true;
  }
}

void Cluster::restart_node(size_t node) {
  nodes_[node]->restart();
  process_down_[node] = false;
  network_.set_node_up(hosts_[node], true);
  // Appliers and merge schedulers waiting on a shard look again: the node's replicas are back.
  for (size_t s = 0; s < replicas_.size(); ++s) signal_shard(s);
}

}  // namespace shardlab::sim::cluster
