// shardlab cache replay: the command line of the cache model alone (experiment/cache_replay.h).
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <string>

#include "apps/commands.h"
#include "apps/flag_checks.h"
#include "base/errors.h"
#include "experiment/cache_replay.h"
#include "scenarios/units.h"

namespace shardlab::apps {

namespace {

// A size flag such as 64MiB or 1048576, as a whole number of bytes.
uint64_t size_flag(const std::string& flag, const std::string& text) {
  double bytes = 0;
  try {
    bytes = scenarios::parse_bytes(text);
  } catch (const InputError& e) {
    throw InputError(fmt::format("{}: {}", flag, e.what()));
  }
  if (!(bytes >= 1) || bytes > 1e15 || std::floor(bytes) != bytes) {
    throw InputError(fmt::format("{}: expected a whole number of bytes from 1 to 1e15, got '{}'",
                                 flag, text));
  }
  return static_cast<uint64_t>(bytes);
}

// What the command line gives; sizes stay text until the callback parses them.
struct CacheReplayFlags {
  experiment::CacheReplayOptions replay;
  std::string memory = "64MiB";
  std::string item_max = "1MiB";
  std::string page = "1MiB";
  bool no_automove = false;
  bool flat_lru = false;
  std::string policy = "memcached";
  std::string distribution = "ketama";
  std::string lookup = "directory";
  std::string gutter_memory;
};

// memcached's own settings, per server.
void add_server_flags(CLI::App* cmd, CacheReplayFlags& opts) {
  cmd->add_option("--memory", opts.memory, "Memory per server, memcached's -m (e.g. 64MiB)")
      ->capture_default_str();
  add_number(cmd, "--growth-factor", opts.replay.server.growth_factor,
             "Slab chunk growth factor, memcached's -f", 1.0001, 100.0)
      ->capture_default_str();
  add_number(cmd, "--min-chunk", opts.replay.server.min_chunk_data,
             "Smallest chunk's data bytes, memcached's -n", uint32_t{1}, uint32_t{1} << 20)
      ->capture_default_str();
  cmd->add_option("--item-max", opts.item_max, "Largest item, memcached's -I")->capture_default_str();
  cmd->add_option("--page", opts.page, "Slab page size")->capture_default_str();
  add_number(cmd, "--maintainer-pass-us", opts.replay.server.maintainer_pass_us,
             "Microseconds one busy pass of memcached's LRU maintainer over all classes takes",
             uint32_t{1}, uint32_t{1'000'000})
      ->capture_default_str();
  cmd->add_flag("--no-automove", opts.no_automove,
                "slab_automove=0: pages stay with the class that first took them");
  cmd->add_flag("--flat-lru", opts.flat_lru, "One LRU per class instead of HOT/WARM/COLD");
  cmd->add_option("--policy", opts.policy,
                  "memcached (the model) or byte_lru (one LRU over all memory, for comparison)")
      ->check(CLI::IsMember({"memcached", "byte_lru"}))
      ->capture_default_str();
}

// The tier: how many servers, how keys spread over them, and node changes.
void add_tier_flags(CLI::App* cmd, CacheReplayFlags& opts) {
  add_number(cmd, "--nodes", opts.replay.nodes, "Cache servers", size_t{1}, size_t{100})
      ->capture_default_str();
  cmd->add_option("--distribution", opts.distribution, "How keys spread over nodes")
      ->check(CLI::IsMember({"ketama", "modula", "round_robin"}))
      ->capture_default_str();
  cmd->add_option("--round-robin-lookup", opts.lookup,
                  "How a reader finds a round-robin key: a client-side directory, or ask every node")
      ->check(CLI::IsMember({"directory", "fanout"}))
      ->capture_default_str();
  cmd->add_option("--remove-node-at", opts.replay.remove_node_at_s,
                  "Seconds into the trace when the last node leaves")
      ->check(real_number(0, 1e12));
  cmd->add_option("--add-node-at", opts.replay.add_node_at_s,
                  "Seconds into the trace when an empty node joins")
      ->check(real_number(0, 1e12));
  cmd->add_option("--gutter-memory", opts.gutter_memory,
                  "A gutter pool of this size takes a leaving node's keys (e.g. 16MiB)");
  add_number(cmd, "--gutter-ttl", opts.replay.gutter_ttl_s,
             "Seconds a gutter entry lives at most", uint32_t{1}, uint32_t{86400})
      ->capture_default_str();
  add_number(cmd, "--backend-latency", opts.replay.backend_latency_s,
             "Seconds the query behind a missed get takes before its answer is set", 0.0, 3600.0)
      ->capture_default_str();
  cmd->add_flag("--leases", opts.replay.leases,
                "memcached leases: one miss of a key queries, the others wait for its set");
  add_number(cmd, "--storm-window", opts.replay.storm_window_s,
             "Seconds before and after a node change over which hit ratios are compared", 0.001,
             1e9)
      ->capture_default_str();
}

void run_replay(const CacheReplayFlags& opts) {
  experiment::CacheReplayOptions replay = opts.replay;
  replay.policy = opts.policy == "byte_lru" ? experiment::CachePolicy::kByteLru
                                            : experiment::CachePolicy::kMemcached;
  replay.distribution = opts.distribution == "modula"        ? experiment::CacheDistribution::kModula
                        : opts.distribution == "round_robin" ? experiment::CacheDistribution::kRoundRobin
                                                             : experiment::CacheDistribution::kKetama;
  replay.round_robin_lookup = opts.lookup == "fanout" ? experiment::RoundRobinLookup::kFanout
                                                      : experiment::RoundRobinLookup::kDirectory;
  replay.server.memory_bytes = size_flag("--memory", opts.memory);
  replay.server.item_size_max = static_cast<uint32_t>(
      std::min<uint64_t>(size_flag("--item-max", opts.item_max), UINT32_MAX));
  replay.server.page_bytes =
      static_cast<uint32_t>(std::min<uint64_t>(size_flag("--page", opts.page), UINT32_MAX));
  if (!opts.gutter_memory.empty()) {
    replay.gutter_memory_bytes = size_flag("--gutter-memory", opts.gutter_memory);
  }
  replay.server.slab_automove = !opts.no_automove;
  replay.server.lru_segmented = !opts.flat_lru;
  replay.server.validate();
  const uint64_t floor_bytes = replay.server.slab_classes() * uint64_t{replay.server.page_bytes};
  if (replay.policy == experiment::CachePolicy::kMemcached &&
      replay.server.memory_bytes < floor_bytes) {
    // As memcached does: it starts, but every class still gets its first page.
    std::cerr << fmt::format(
        "shardlab: warning: --memory {} is below one page for each of the {} slab classes; "
        "memcached gives every class its first page anyway, so a server may use up to {} MiB\n",
        opts.memory, replay.server.slab_classes(), floor_bytes >> 20);
  }
  std::cout << experiment::replay_cache_trace(replay).dump(2) << "\n";
}

}  // namespace

void add_cache_command(CLI::App& app) {
  auto opts = std::make_shared<CacheReplayFlags>();
  CLI::App* cache = app.add_subcommand("cache", "The memcached tier's model on its own");
  cache->require_subcommand(1);
  CLI::App* cmd = cache->add_subcommand(
      "replay", "Play a request trace through modelled memcached servers; JSON on stdout");
  cmd->add_option("trace", opts->replay.trace_path,
                  "TRACE.csv with the header time_s,op,key,value_bytes,ttl_s")
      ->required()
      ->check(input_file("trace file", "a CSV request trace"));
  cmd->add_option("--series", opts->replay.series_path,
                  "Write second,gets,hits,hit_ratio,backend_queries,evictions here (CSV)")
      ->check(output_file());
  add_server_flags(cmd, *opts);
  add_tier_flags(cmd, *opts);
  cmd->callback([opts] { run_replay(*opts); });
}

}  // namespace shardlab::apps
