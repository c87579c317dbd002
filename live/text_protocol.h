// One request over a fresh TCP connection to a server that speaks a line protocol (memcached's
// `version` and `stats`, ZooKeeper's four-letter words): what readiness checks, reachability
// checks and memcached's counters all need, and nothing more.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "live/loopback_cluster.h"

namespace shardlab::live {

// Sends `request` to `endpoint` (a host name or address) and reads the answer until `complete`
// accepts it, the peer closes, or a second passes without data. Empty when nothing answers.
std::string exchange(const Endpoint& endpoint, std::string_view request,
                     const std::function<bool(const std::string&)>& complete);

// True if a memcached at `endpoint` answers `version`.
bool memcached_answers(const Endpoint& endpoint);

// memcached's `stats` counters get_hits and get_misses (zeros if it does not answer).
std::pair<uint64_t, uint64_t> memcached_gets(const Endpoint& endpoint);

}  // namespace shardlab::live
