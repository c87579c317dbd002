#include "sim/cache/cache_tier.h"

#include <fmt/format.h>

#include <functional>

#include "base/errors.h"

namespace shardlab::sim::cache {

namespace {

std::vector<CacheServer> server_list(const std::vector<std::string>& hosts,
                                     const std::vector<size_t>& listed) {
  std::vector<CacheServer> out;
  out.reserve(listed.size());
  for (size_t server : listed) out.push_back(CacheServer{.host = hosts[server]});
  return out;
}

}  // namespace

CacheTier::CacheTier(Simulation& sim, Network& network, CacheTierSpec spec)
    : sim_(sim), network_(network), spec_(std::move(spec)) {
  if (spec_.hosts.empty()) throw InputError("a cache tier needs at least one server");
  spec_.server.validate();
  names_ = spec_.hosts;
  names_.insert(names_.end(), spec_.gutter_hosts.begin(), spec_.gutter_hosts.end());
  main_servers_ = spec_.hosts.size();
  for (size_t idx = 0; idx < names_.size(); ++idx) {
    const std::optional<HostId> host = network_.find_host(names_[idx]);
    if (!host) throw InputError(fmt::format("cache server '{}' is not a host", names_[idx]));
    Server server;
    server.host = *host;
    server.cpu = std::make_unique<Cpu>(sim_, names_[idx], spec_.threads, spec_.cpu_speed);
    server.model = std::make_unique<MemcachedModel>(spec_.server);
    server.gutter = idx >= main_servers_;
    if (server.gutter) gutter_.push_back(idx);
    servers_.push_back(std::move(server));
  }
  for (size_t idx = 0; idx < main_servers_; ++idx) listed_.push_back(idx);
  router_ = std::make_unique<KeyRouter>(spec_.distribution, server_list(names_, listed_));
  if (!gutter_.empty()) {
    gutter_router_ = std::make_unique<KeyRouter>(spec_.distribution, server_list(names_, gutter_));
  }
}

uint64_t CacheTier::model_key(std::string_view key) { return std::hash<std::string_view>{}(key); }

CacheTier::Route CacheTier::route(std::string_view key) const {
  const size_t owner = listed_[router_->server_of(key)];
  // With a gutter pool the list never changes: a failed server's keys go to the gutter.
  if (gutter_router_ && servers_[owner].ejected) {
    return Route{gutter_[gutter_router_->server_of(key)], true};
  }
  return Route{owner, false};
}

void CacheTier::rebuild_router(std::string what) {
  std::vector<size_t> listed;
  for (size_t idx = 0; idx < main_servers_; ++idx) {
    if (!servers_[idx].ejected) listed.push_back(idx);
  }
  if (listed.empty()) listed.push_back(0);  // a client always has a list; every request fails
  auto router = std::make_unique<KeyRouter>(spec_.distribution, server_list(names_, listed));
  uint64_t moved = 0;
  for (const std::string& key : stored_keys_) {
    if (listed_[router_->server_of(key)] != listed[router->server_of(key)]) ++moved;
  }
  remaps_.push_back(Remap{sim_.now(), std::move(what),
                          stored_keys_.empty() ? 0.0
                                               : static_cast<double>(moved) /
                                                     static_cast<double>(stored_keys_.size())});
  listed_ = std::move(listed);
  router_ = std::move(router);
}

Process CacheTier::round_trip(HostId client, size_t server, uint64_t request_bytes,
                              std::function<uint64_t(MemcachedModel&)> at_server, bool* ok) {
  Server& s = servers_[server];
  *ok = false;
  try {
    if (!s.up) throw SimFault(FaultKind::kNodeDown, names_[server] + " is down");
    co_await network_.transfer(client, s.host, static_cast<double>(request_bytes));
    if (!s.up) throw SimFault(FaultKind::kNodeDown, names_[server] + " is down");
    // The server does the operation when the request is in; the reply carries what it returns.
    const uint64_t reply_bytes = at_server(*s.model);
    co_await s.cpu->compute(spec_.op_cpu.seconds() +
                                spec_.cpu_s_per_byte *
                                    static_cast<double>(request_bytes + reply_bytes),
                            "memcached");
    co_await network_.transfer(s.host, client,
                               static_cast<double>(spec_.header_bytes + reply_bytes));
    *ok = true;
  } catch (const SimFault&) {
  }
  if (*ok) co_return;
  ++counters_.errors;
  co_await sim_.sleep(spec_.connect_timeout);
  if (!s.gutter && !s.ejected) {
    s.ejected = true;
    ++counters_.ejections;
    if (gutter_router_) {
      remaps_.push_back(Remap{sim_.now(), "to the gutter: " + names_[server], 0.0});
    } else {
      rebuild_router("eject " + names_[server]);
    }
  }
}

Process CacheTier::get(HostId client, std::string key, uint32_t value_bytes, bool* hit) {
  *hit = false;
  const Route to = route(key);
  ++counters_.gets;
  if (to.gutter) ++counters_.gutter_gets;
  bool found = false;
  bool ok = false;
  const uint64_t now_us = clock_us();
  co_await sim_.spawn(round_trip(
      client, to.server, spec_.header_bytes + key.size(),
      [&](MemcachedModel& model) -> uint64_t {
        found = model.get(model_key(key), now_us);
        return found ? value_bytes : 0;
      },
      &ok));
  if (!ok || !found) co_return;
  ++counters_.hits;
  if (to.gutter) ++counters_.gutter_hits;
  *hit = true;
}

Process CacheTier::set(HostId client, std::string key, uint32_t value_bytes, uint32_t ttl_s) {
  const Route to = route(key);
  ++counters_.sets;
  // A gutter server keeps items briefly: they may go stale while their owner is away.
  const uint32_t ttl =
      to.gutter ? std::min(ttl_s == 0 ? spec_.gutter_ttl_s : ttl_s, spec_.gutter_ttl_s) : ttl_s;
  bool ok = false;
  co_await sim_.spawn(round_trip(
      client, to.server, spec_.header_bytes + key.size() + value_bytes,
      [&](MemcachedModel& model) -> uint64_t {
        model.set(model_key(key), static_cast<uint32_t>(key.size()), value_bytes, ttl,
                  clock_us());
        return 0;
      },
      &ok));
  if (ok && !to.gutter) stored_keys_.insert(std::move(key));
}

Process CacheTier::remove(HostId client, std::string key) {
  const Route to = route(key);
  ++counters_.deletes;
  bool ok = false;
  co_await sim_.spawn(round_trip(
      client, to.server, spec_.header_bytes + key.size(),
      [&](MemcachedModel& model) -> uint64_t {
        model.remove(model_key(key), clock_us());
        return 0;
      },
      &ok));
}

void CacheTier::crash(size_t server) {
  Server& s = servers_[server];
  if (!s.up) return;
  s.up = false;
  network_.set_node_up(s.host, false);
  s.cpu->fail_all(FaultKind::kNodeDown, names_[server] + " crashed");
}

void CacheTier::restart(size_t server) {
  Server& s = servers_[server];
  if (s.up) return;
  s.up = true;
  network_.set_node_up(s.host, true);
  s.model = std::make_unique<MemcachedModel>(spec_.server);  // memcached keeps nothing
  if (s.ejected) {
    s.ejected = false;
    if (gutter_router_) {
      remaps_.push_back(Remap{sim_.now(), "back from the gutter: " + names_[server], 0.0});
    } else {
      rebuild_router("rejoin " + names_[server]);
    }
  }
}

}  // namespace shardlab::sim::cache
