// The memcached model against figures measured on the real memcached 1.6.18 (Debian 12) and
// against its source's rules; sim/cache/README.md lists where each comes from.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "base/errors.h"
#include "experiment/cache_trace.h"
#include "sim/cache/key_distribution.h"
#include "sim/cache/memcached_model.h"

using namespace shardlab;
using namespace shardlab::sim::cache;

namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kSecond = 1'000'000;

MemcachedConfig config_mib(uint64_t mib) {
  MemcachedConfig config;
  config.memory_bytes = mib * kMiB;
  return config;
}

uint64_t key_of(const std::string& text) { return std::hash<std::string>{}(text) | 1; }

}  // namespace

TEST_CASE("slab classes are memcached -vv's for -n 48 -f 1.25", "[cache]") {
  const MemcachedModel model(config_mib(64));
  const std::vector<uint32_t> expected{
      96,    120,   152,   192,   240,   304,    384,    480,    600,    752,
      944,   1184,  1480,  1856,  2320,  2904,   3632,   4544,   5680,   7104,
      8880,  11104, 13880, 17352, 21696, 27120,  33904,  42384,  52984,  66232,
      82792, 103496, 129376, 161720, 202152, 252696, 315872, 394840, 524288};
  REQUIRE(model.classes().size() == expected.size() + 1);
  for (size_t c = 0; c < expected.size(); ++c) {
    CHECK(model.classes()[c + 1].chunk_bytes == expected[c]);
    CHECK(model.classes()[c + 1].chunks_per_page == (1u << 20) / expected[c]);
  }
  CHECK(config_mib(64).slab_classes() == 39);
}

TEST_CASE("an item costs header, key, value, CRLF and CAS, as memcached counts it", "[cache]") {
  // mem_requested on the real server: key "k1" with 10 bytes is 71, "key3" with 1000 is 1063.
  CHECK(MemcachedModel::item_bytes(2, 10) == 71);
  CHECK(MemcachedModel::item_bytes(4, 1000) == 1063);
  const MemcachedModel model(config_mib(64));
  CHECK(model.class_of(1063) == 12);
  CHECK(model.class_of(96) == 1);
  CHECK(model.class_of(97) == 2);
  CHECK(model.class_of((1u << 20) + 1) == 0);  // above -I: too large
}

TEST_CASE("memory fills page by page and evicts within the class", "[cache]") {
  // Measured: -m 16, 100,000 items of 214 bytes (class 5) leave exactly 16 pages, 69,904
  // items and 30,096 evictions.
  MemcachedModel model(config_mib(16));
  for (int i = 0; i < 100000; ++i) {
    REQUIRE(model.set(key_of("k" + std::to_string(i)), 6, 214 - 65, 0, 0) ==
            StoreResult::kStored);
  }
  const SlabClassStats& c5 = model.classes()[5];
  CHECK(MemcachedModel::item_bytes(6, 214 - 65) == 214);
  CHECK(c5.pages == 16);
  CHECK(c5.items == 69904);
  CHECK(c5.evictions == 30096);
  // A class without a page still gets its first one past the limit, as memcached grants it.
  CHECK(model.set(key_of("big"), 3, 5000, 0, 0) == StoreResult::kStored);
  CHECK(model.stats().memory_bytes == 17 * kMiB);
  CHECK(model.set(key_of("too-big"), 7, 2 << 20, 0, 0) == StoreResult::kTooLarge);
}

TEST_CASE("the segmented LRU rescues items hit twice and keeps HOT at 20%", "[cache]") {
  // Measured on the real server with -m 16 and 60,000 items of class 5, after 2.5 s idle:
  // every item had drained to COLD; an item fetched once was still evicted later, one fetched
  // twice moved to WARM and survived 10,000 evictions; 20,000 more sets left number_hot at
  // 13,980, 20% of the class's 69,904.
  MemcachedModel model(config_mib(16));
  uint64_t t = 0;
  for (int i = 0; i < 60000; ++i) model.set(key_of("k" + std::to_string(i)), 6, 149, 0, t);
  t += 2'500'000;
  model.advance(t);
  CHECK(model.lru_items(5, Lru::kHot) == 0);
  CHECK(model.lru_items(5, Lru::kCold) == 60000);
  CHECK(model.get(key_of("k0"), t));  // once: only FETCHED
  CHECK(model.get(key_of("k1"), t));
  CHECK(model.get(key_of("k1"), t));  // twice: ACTIVE, to WARM on the maintainer's next pass
  t = 3 * kSecond;  // the client's next command came a moment later
  for (int i = 0; i < 20000; ++i) {  // within one second, as the measurement's client
    t += 10;
    model.set(key_of("n" + std::to_string(i)), 6, 149, 0, t);
  }
  t = 3 * kSecond + 900'000;  // stats read once the maintainer had caught up
  model.advance(t);
  CHECK_FALSE(model.get(key_of("k0"), t));
  CHECK(model.get(key_of("k1"), t));
  CHECK(model.lru_items(5, Lru::kHot) == 13980);
  CHECK(model.classes()[5].items == 69904);
}

TEST_CASE("expiry is lazy on get and strict at the LRU tail", "[cache]") {
  MemcachedModel model(config_mib(64));
  model.set(key_of("a"), 1, 100, 10, 0);
  CHECK(model.get(key_of("a"), 9 * kSecond));
  CHECK_FALSE(model.get(key_of("a"), 10 * kSecond));  // exptime == now: expired on get
  CHECK(model.stats().get_expired == 1);
  CHECK(model.set(key_of("b"), 1, 100, 5, 10 * kSecond) == StoreResult::kStored);
  CHECK(model.touch(key_of("b"), 0, 11 * kSecond));  // never expires now
  CHECK(model.get(key_of("b"), 100 * kSecond));
  CHECK(model.add(key_of("b"), 1, 100, 0, 100 * kSecond) == StoreResult::kNotStored);
  CHECK(model.remove(key_of("b"), 100 * kSecond));
  CHECK_FALSE(model.get(key_of("b"), 100 * kSecond));
}

TEST_CASE("the automover moves a page a second after its 30-second window", "[cache]") {
  // Measured: -m 16 with class 5 full, then steady sets of class 12: the first page moved about
  // 31 s after the server started, then one a second, until class 5 kept 2 pages.
  MemcachedModel model(config_mib(16));
  for (int i = 0; i < 70000; ++i) model.set(key_of("s" + std::to_string(i)), 6, 149, 0, 0);
  REQUIRE(model.classes()[5].pages == 16);
  uint64_t first_move_s = 0;
  for (uint64_t ms = 0; ms < 60'000; ++ms) {
    for (int j = 0; j < 2; ++j) {
      model.set(key_of("b" + std::to_string(ms * 2 + j)), 7, 1000, 0, ms * 1000);
    }
    if (first_move_s == 0 && model.stats().pages_moved > 0) first_move_s = ms / 1000;
  }
  CHECK(first_move_s >= 30);
  CHECK(first_move_s <= 32);
  CHECK(model.classes()[5].pages == 2);
  CHECK(model.classes()[12].pages == 15);
  MemcachedConfig off = config_mib(16);
  off.slab_automove = false;
  MemcachedModel calcified(off);
  for (int i = 0; i < 70000; ++i) calcified.set(key_of("s" + std::to_string(i)), 6, 149, 0, 0);
  for (uint64_t ms = 0; ms < 60'000; ms += 10) calcified.set(key_of("b" + std::to_string(ms)), 7, 1000, 0, ms * 1000);
  CHECK(calcified.classes()[12].pages == 1);
  CHECK(calcified.stats().pages_moved == 0);
}

TEST_CASE("settings a server cannot run with are input errors", "[cache][errors]") {
  MemcachedConfig bad = config_mib(64);
  bad.growth_factor = 1.0;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("growth factor must be above 1"));
  bad = config_mib(64);
  bad.item_size_max = 2 << 20;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("cannot exceed the page"));
  bad = config_mib(64);
  bad.memory_bytes = 1000;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("below one page"));
}

TEST_CASE("ketama builds libmemcached's ring", "[cache][ketama]") {
  // Worked example, checked against libmemcached 1.1.4: MD5("127.0.0.1-0") gives the points
  // 3187647615, 2893990766, 813702075 and 4292932786 (the default port is left out of the
  // name), and with weights 1, 2, 3 the key "key0" goes to 127.0.0.1:11212.
  const KeyRouter router(KeyDistribution::kKetama, {{"127.0.0.1", 11211, 1},
                                                     {"127.0.0.1", 11212, 2},
                                                     {"10.0.0.5", 11211, 3}});
  CHECK(router.points_per_server() == std::vector<size_t>{80, 160, 240});
  CHECK(router.server_of("key0") == 1);
  CHECK(ketama_key_hash("key0") == 4060279841u);
  CHECK(ketama_key_hash("foo") == 3675831724u);
  CHECK(one_at_a_time_hash("foo") == 596015325u);
  // Single precision matters: 25 equal servers get 156 points each, not 160.
  std::vector<CacheServer> servers;
  for (int i = 0; i < 25; ++i) servers.push_back({"10.0.0." + std::to_string(i + 1)});
  const KeyRouter many(KeyDistribution::kKetama, servers);
  CHECK(many.points_per_server().front() == 156);
  // Losing a node moves only its keys under ketama, and almost every key under modula.
  std::vector<CacheServer> four(servers.begin(), servers.begin() + 4);
  std::vector<CacheServer> three(servers.begin(), servers.begin() + 3);
  size_t ketama_moved = 0;
  size_t modula_moved = 0;
  const KeyRouter k4(KeyDistribution::kKetama, four), k3(KeyDistribution::kKetama, three);
  const KeyRouter m4(KeyDistribution::kModula, four), m3(KeyDistribution::kModula, three);
  for (int i = 0; i < 20000; ++i) {
    const std::string key = "user:" + std::to_string(i);
    const size_t before = k4.server_of(key);
    ketama_moved += before != k3.server_of(key);
    if (before != 3) CHECK(before == k3.server_of(key));
    modula_moved += m4.server_of(key) != m3.server_of(key);
  }
  CHECK(ketama_moved > 20000 * 0.15);
  CHECK(ketama_moved < 20000 * 0.35);
  CHECK(modula_moved > 20000 * 0.70);
}

TEST_CASE("a trace line that is wrong is refused with its line number", "[cache][errors]") {
  const std::string path = "cache_trace_test.csv";
  const auto error_of = [&](const std::string& text) -> std::string {
    std::ofstream(path) << text;
    try {
      experiment::CacheTraceReader reader(path);
      std::vector<experiment::CacheRequest> block;
      do reader.read(&block);
      while (!block.empty());
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  const std::string header = "time_s,op,key,value_bytes,ttl_s\n";
  CHECK(error_of("time,op\n").find(":1: expected the header") != std::string::npos);
  CHECK(error_of(header + "0,get,a,10,0\n1,fetch,a,10,0\n").find(":3: op must be one of") !=
        std::string::npos);
  CHECK(error_of(header + "0,get,a b,10,0\n").find(":2: the key") != std::string::npos);
  CHECK(error_of(header + "0,get,a,-1,0\n").find(":2: value_bytes") != std::string::npos);
  CHECK(error_of(header + "0,get,a,1,-5\n").find(":2: ttl_s") != std::string::npos);
  CHECK(error_of(header + "2,get,a,1,0\n1,get,a,1,0\n").find(":3: time_s goes backwards") !=
        std::string::npos);
  CHECK(error_of(header + "0,get,a,1\n").find(":2: expected 5 fields") != std::string::npos);
  CHECK(error_of(header + "0,get,a,1,0\n\n0.5,set,b,2,0") == "");  // blank line, no final newline
  std::remove(path.c_str());
}
