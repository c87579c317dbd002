#include "experiment/cache_replay_nodes.h"

namespace shardlab::experiment::cache_replay {

double ratio(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

nlohmann::json slab_classes(const std::vector<const MemcachedModel*>& servers) {
  nlohmann::json out = nlohmann::json::array();
  if (servers.empty()) return out;
  for (size_t cls = 1; cls < servers.front()->classes().size(); ++cls) {
    sim::cache::SlabClassStats sum;
    for (const MemcachedModel* server : servers) {
      const auto& c = server->classes()[cls];
      sum.chunk_bytes = c.chunk_bytes;
      sum.chunks_per_page = c.chunks_per_page;
      sum.pages += c.pages;
      sum.items += c.items;
      sum.item_bytes += c.item_bytes;
      sum.evictions += c.evictions;
      sum.get_hits += c.get_hits;
      for (int lru = 0; lru < 3; ++lru) sum.hits_to[lru] += c.hits_to[lru];
      sum.moves_to_cold += c.moves_to_cold;
      sum.moves_to_warm += c.moves_to_warm;
      sum.moves_within_lru += c.moves_within_lru;
      sum.reassign_evictions += c.reassign_evictions;
      sum.expired_reclaimed += c.expired_reclaimed;
      sum.pages_moved_in += c.pages_moved_in;
      sum.pages_moved_out += c.pages_moved_out;
      sum.outofmemory += c.outofmemory;
    }
    if (sum.pages == 0 && sum.evictions == 0 && sum.pages_moved_out == 0) continue;
    uint64_t segments[3] = {0, 0, 0};
    for (const MemcachedModel* server : servers) {
      for (const auto lru : {sim::cache::Lru::kHot, sim::cache::Lru::kWarm, sim::cache::Lru::kCold}) {
        segments[static_cast<int>(lru)] += server->lru_items(static_cast<uint32_t>(cls), lru);
      }
    }
    out.push_back({{"class", cls},
                   {"chunk_bytes", sum.chunk_bytes},
                   {"chunks_per_page", sum.chunks_per_page},
                   {"pages", sum.pages},
                   {"items", sum.items},
                   {"items_hot", segments[0]},
                   {"items_warm", segments[1]},
                   {"items_cold", segments[2]},
                   {"item_bytes", sum.item_bytes},
                   {"get_hits", sum.get_hits},
                   {"hits_to_hot", sum.hits_to[0]},
                   {"hits_to_warm", sum.hits_to[1]},
                   {"hits_to_cold", sum.hits_to[2]},
                   {"moves_to_cold", sum.moves_to_cold},
                   {"moves_to_warm", sum.moves_to_warm},
                   {"moves_within_lru", sum.moves_within_lru},
                   {"evictions", sum.evictions},
                   {"reassign_evictions", sum.reassign_evictions},
                   {"expired_reclaimed", sum.expired_reclaimed},
                   {"pages_moved_in", sum.pages_moved_in},
                   {"pages_moved_out", sum.pages_moved_out},
                   {"outofmemory", sum.outofmemory}});
  }
  return out;
}

void NodeTotals::add(const Node& node, bool present) {
  requests += node.requests;
  gets += node.gets;
  nlohmann::json entry = {{"node", per_node.size()},
                          {"present_at_end", present},
                          {"requests", node.requests},
                          {"gets", node.gets},
                          {"hits", node.hits},
                          {"hit_ratio", ratio(node.hits, node.gets)}};
  if (node.memcached) {
    const auto& s = node.memcached->stats();
    servers.push_back(node.memcached.get());
    evictions += s.evictions;
    reassign_evictions += s.reassign_evictions;
    expired += s.expired_reclaimed + s.get_expired;
    pages_moved += s.pages_moved;
    memory += s.memory_bytes;
    too_large += s.store_too_large;
    entry["evictions"] = s.evictions;
    entry["memory_bytes"] = s.memory_bytes;
  } else {
    evictions += node.lru->evictions();
    memory += node.lru->used_bytes();
    entry["evictions"] = node.lru->evictions();
  }
  per_node.push_back(std::move(entry));
}

}  // namespace shardlab::experiment::cache_replay
