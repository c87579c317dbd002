#include "sim/cache/cache_tier.h"

#include <fmt/format.h>

#include <deque>
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

CacheTier::Route CacheTier::route(const CacheKey& key) const {
  size_t owner = 0;
  if (key.server && spec_.placement == Placement::kPartition) {
    owner = *key.server;
  } else if (spec_.placement == Placement::kRoundRobin) {
    owner = listed_[next_set_server_ % listed_.size()];
  } else {
    owner = listed_[router_->server_of(key.text)];
  }
  // With a gutter pool the list never changes: a failed server's keys go to the gutter.
  if (gutter_router_ && servers_[owner].ejected) {
    return Route{gutter_[gutter_router_->server_of(key.text)], true};
  }
  return Route{owner, false};
}

std::vector<CacheTier::Route> CacheTier::read_routes(const CacheKey& key) const {
  if (spec_.placement != Placement::kRoundRobin) return {route(key)};
  std::vector<Route> routes;
  for (const size_t server : listed_) routes.push_back(Route{server, false});
  return routes;
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
  if (s.ejected && !s.gutter) {
    // A partition map still names a server the client marked dead: the client fails the
    // request at once, without trying the network.
    ++counters_.errors;
    co_return;
  }
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
  // A client whose own host is down (a crashed application node) fails alone: ejection is each
  // client's verdict on the server (libmemcached's auto-eject), and a dead client judges nothing.
  if (!network_.node_up(client)) co_return;
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

Process CacheTier::get(HostId client, CacheKey key, uint32_t value_bytes, bool* hit) {
  std::vector<bool> hits;
  std::vector<CacheKey> keys;
  keys.push_back(std::move(key));
  std::vector<uint32_t> sizes(1, value_bytes);
  co_await sim_.spawn(get_multi(client, std::move(keys), std::move(sizes), &hits));
  *hit = hits.front();
}

Process CacheTier::get_multi(HostId client, std::vector<CacheKey> keys,
                             std::vector<uint32_t> value_bytes, std::vector<bool>* hits) {
  hits->assign(keys.size(), false);
  // One request per server, naming the keys it may hold.
  std::vector<std::vector<size_t>> asked(servers_.size());
  std::vector<bool> to_gutter(servers_.size(), false);
  for (size_t k = 0; k < keys.size(); ++k) {
    ++counters_.gets;
    const std::vector<Route> routes = read_routes(keys[k]);
    counters_.fanout_requests += routes.size() - 1;
    for (const Route& to : routes) {
      asked[to.server].push_back(k);
      if (to.gutter) {
        to_gutter[to.server] = true;
        ++counters_.gutter_gets;
      }
    }
  }
  std::vector<Future> requests;
  std::vector<std::vector<bool>> found(servers_.size());
  std::deque<bool> ok(servers_.size(), false);  // stable addresses, unlike vector<bool>
  for (size_t server = 0; server < servers_.size(); ++server) {
    if (asked[server].empty()) continue;
    uint64_t request_bytes = spec_.header_bytes;
    for (const size_t k : asked[server]) request_bytes += keys[k].text.size() + 1;
    found[server].assign(asked[server].size(), false);
    const uint64_t now_us = clock_us();
    requests.push_back(sim_.spawn(round_trip(
        client, server, request_bytes,
        [&, server, now_us](MemcachedModel& model) -> uint64_t {
          uint64_t reply = 0;
          for (size_t i = 0; i < asked[server].size(); ++i) {
            const size_t k = asked[server][i];
            found[server][i] = model.get(model_key(keys[k].text), now_us);
            if (found[server][i]) reply += value_bytes[k] + keys[k].text.size();
          }
          return reply;
        },
        &ok[server])));
  }
  co_await sim_.all_of(std::move(requests));
  for (size_t server = 0; server < servers_.size(); ++server) {
    if (!ok[server]) continue;
    for (size_t i = 0; i < asked[server].size(); ++i) {
      if (!found[server][i]) continue;
      const size_t k = asked[server][i];
      if (!(*hits)[k]) {
        (*hits)[k] = true;
        ++counters_.hits;
        if (to_gutter[server]) ++counters_.gutter_hits;
      }
    }
  }
}

Process CacheTier::set(HostId client, CacheKey key, uint32_t value_bytes, uint32_t ttl_s) {
  bool stored = false;
  co_await sim_.spawn(store(client, std::move(key), value_bytes, ttl_s, false, &stored));
}

Process CacheTier::add(HostId client, CacheKey key, uint32_t value_bytes, uint32_t ttl_s,
                       bool* stored) {
  co_await sim_.spawn(store(client, std::move(key), value_bytes, ttl_s, true, stored));
}

Process CacheTier::store(HostId client, CacheKey key, uint32_t value_bytes, uint32_t ttl_s,
                         bool only_if_absent, bool* stored) {
  *stored = false;
  const Route to = route(key);
  if (spec_.placement == Placement::kRoundRobin) ++next_set_server_;
  ++counters_.sets;
  // A gutter server keeps items briefly: they may go stale while their owner is away.
  const uint32_t ttl =
      to.gutter ? std::min(ttl_s == 0 ? spec_.gutter_ttl_s : ttl_s, spec_.gutter_ttl_s) : ttl_s;
  bool ok = false;
  bool done = false;
  co_await sim_.spawn(round_trip(
      client, to.server, spec_.header_bytes + key.text.size() + value_bytes,
      [&](MemcachedModel& model) -> uint64_t {
        const auto size = static_cast<uint32_t>(key.text.size());
        const StoreResult result =
            only_if_absent ? model.add(model_key(key.text), size, value_bytes, ttl, clock_us())
                           : model.set(model_key(key.text), size, value_bytes, ttl, clock_us());
        done = result == StoreResult::kStored;
        return 0;
      },
      &ok));
  *stored = ok && done;
  // Only hashed keys move when the server list changes.
  const bool hashed = spec_.placement == Placement::kHash ||
                      (spec_.placement == Placement::kPartition && !key.server);
  if (ok && !to.gutter && hashed) stored_keys_.insert(std::move(key.text));
}

Process CacheTier::touch(HostId client, CacheKey key, uint32_t ttl_s) {
  const Route to = route(key);
  bool ok = false;
  co_await sim_.spawn(round_trip(
      client, to.server, spec_.header_bytes + key.text.size(),
      [&](MemcachedModel& model) -> uint64_t {
        model.touch(model_key(key.text), ttl_s, clock_us());
        return 0;
      },
      &ok));
}

Process CacheTier::remove(HostId client, CacheKey key) {
  ++counters_.deletes;
  const std::vector<Route> routes = read_routes(key);
  counters_.fanout_requests += routes.size() - 1;
  std::vector<Future> requests;
  std::deque<bool> ok(routes.size(), false);
  for (size_t r = 0; r < routes.size(); ++r) {
    requests.push_back(sim_.spawn(round_trip(
        client, routes[r].server, spec_.header_bytes + key.text.size(),
        [&](MemcachedModel& model) -> uint64_t {
          model.remove(model_key(key.text), clock_us());
          return 0;
        },
        &ok[r])));
  }
  co_await sim_.all_of(std::move(requests));
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
