// Tests of the user_behavior row generator and its parts. Statistical checks compare against
// exact probabilities with chi-square or binomial bounds at a stated false-alarm rate; since the
// generator is deterministic, each check has a fixed outcome for its seed.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "shardlab/engine/date_time.h"
#include "base/errors.h"
#include "base/alias_table.h"
#include "base/counter_rng.h"
#include "workloads/diurnal_curve.h"
#include "workloads/row_generator.h"
#include "workloads/tsv_writer.h"
#include "base/zipf_sampler.h"

namespace shardlab::workloads {
namespace {

using base::AliasTable;
using base::draw;
using base::generalized_harmonic;
using base::stream_key;
using base::ZipfSampler;

// Standard normal quantiles for the false-alarm rates used below.
constexpr double kZ1e3 = 3.090232;  // one-sided alpha = 1e-3
constexpr double kZ1e6 = 4.891638;  // two-sided alpha = 1e-6

// Upper-alpha quantile of chi-square(df) by Wilson-Hilferty; within ~1% of the exact quantile for
// df >= 3, far less than the gap between a fitting and a misfitting sample at these sizes.
double chi_square_critical(int df, double z_alpha) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z_alpha * std::sqrt(a), 3);
}

double chi_square(const std::vector<uint64_t>& observed, const std::vector<double>& probability,
                  uint64_t total) {
  double statistic = 0;
  for (size_t bin = 0; bin < observed.size(); ++bin) {
    const double expected = probability[bin] * static_cast<double>(total);
    const double diff = static_cast<double>(observed[bin]) - expected;
    statistic += diff * diff / expected;
  }
  return statistic;
}

GeneratorConfig small_config() {
  GeneratorConfig config;
  config.days = 2;
  config.total_rows = 200'000;
  config.users = 100'000;
  config.items = 50'000;
  return config;
}

UserBehaviorBlock generate(const RowGenerator& generator, uint64_t first, size_t count) {
  UserBehaviorBlock block;
  generator.generate(first, count, &block);
  return block;
}

void require_same_rows(const UserBehaviorBlock& a, size_t a_offset, const UserBehaviorBlock& b,
                       size_t b_offset, size_t count) {
  for (size_t row = 0; row < count; ++row) {
    INFO("row " << row);
    REQUIRE(a.user_id[a_offset + row] == b.user_id[b_offset + row]);
    REQUIRE(a.item_id[a_offset + row] == b.item_id[b_offset + row]);
    REQUIRE(a.action[a_offset + row] == b.action[b_offset + row]);
    REQUIRE(a.event_time[a_offset + row] == b.event_time[b_offset + row]);
    REQUIRE(a.province[a_offset + row] == b.province[b_offset + row]);
    REQUIRE(a.gender[a_offset + row] == b.gender[b_offset + row]);
  }
}

TEST_CASE("generate() computes the documented function of (config, i)", "[workloads][generator]") {
  GeneratorConfig config;
  config.seed = 20'240'501;
  config.days = 2;
  config.total_rows = 5'000;
  config.action_mix = ActionMix{.click = 0.5, .fav = 0.2, .cart = 0.2, .buy = 0.1};
  config.female_ratio = 0.4;
  const RowGenerator generator(config);
  const UserBehaviorBlock block = generate(generator, 0, config.total_rows);

  // SplitMix64's published first output for seed 0: draw(0, 0) = mix64(kGamma).
  REQUIRE(draw(0, 0) == 0xE220A8397B1DCDAFULL);
  uint64_t key[5];
  for (uint64_t stream = 0; stream < 5; ++stream) key[stream] = stream_key(config.seed, stream);
  const double mix[4] = {0.5, 0.2, 0.2, 0.1};
  uint64_t action_threshold[3];
  double cumulative = 0;
  for (int action = 0; action < 3; ++action) {
    cumulative += mix[action];
    action_threshold[action] = static_cast<uint64_t>(std::llround(cumulative * 0x1.0p24));
  }
  const auto female_threshold = static_cast<uint64_t>(std::llround(0.4 * 0x1.0p32));
  const AliasTable provinces(kProvincePopulationMillions);
  const uint64_t low24 = (uint64_t{1} << 24) - 1;

  // Event times from the integer curve weights, independently of the generator's table: row j
  // is in the first second s with (2j + 1) W < 2 R cum(s + 1).
  const auto& curve = generator.curve();
  __extension__ using Uint128 = unsigned __int128;
  const Uint128 total_weight = Uint128{curve.day_weight()} * 2;
  const Uint128 twice_rows = 2 * Uint128{config.total_rows};
  int64_t second = 0;
  Uint128 cumulative_next = curve.second_weight(config.start);

  for (uint64_t row = 0; row < config.total_rows; ++row) {
    const uint64_t a = draw(key[RowGenerator::kUserPickStream], row);
    const uint64_t b = draw(key[RowGenerator::kUserTailStream], row);
    const uint64_t c = draw(key[RowGenerator::kItemPickStream], row);
    const uint64_t d = draw(key[RowGenerator::kItemTailAndActionStream], row);
    const uint64_t user = generator.user_sampler().sample(a, b);
    const uint64_t e = draw(key[RowGenerator::kUserAttributeStream], user);
    uint8_t action = 0;
    for (uint64_t threshold : action_threshold) action += (d & low24) >= threshold;
    while (!((2 * Uint128{row} + 1) * total_weight < twice_rows * cumulative_next)) {
      ++second;
      cumulative_next += curve.second_weight(config.start + second);
    }
    INFO("row " << row);
    REQUIRE(block.user_id[row] == user);
    REQUIRE(block.item_id[row] == generator.item_sampler().sample(c, d & ~low24));
    REQUIRE(block.action[row] == action);
    REQUIRE(block.event_time[row] == config.start + second);
    REQUIRE(block.province[row] == provinces.pick(e & 0xFFFFFFFF00000000ULL));
    REQUIRE(block.gender[row] == ((e & 0xFFFFFFFFULL) < female_threshold ? kFemale : kMale));
  }
}

TEST_CASE("rows do not depend on block boundaries or on the generator instance",
          "[workloads][generator]") {
  const GeneratorConfig config = small_config();
  const RowGenerator generator(config);
  const UserBehaviorBlock whole = generate(generator, 0, config.total_rows);

  const RowGenerator other(config);
  const size_t sizes[] = {1, 7, 511, 512, 513, 4096, 10'007, 65'536};
  uint64_t first = 0;
  for (size_t step = 0; first < config.total_rows; ++step) {
    const size_t count =
        std::min<uint64_t>(sizes[step % std::size(sizes)], config.total_rows - first);
    const UserBehaviorBlock part = generate(other, first, count);
    require_same_rows(whole, first, part, 0, count);
    first += count;
  }

  // Far into a full-scale data set: one block against single rows.
  const RowGenerator full{GeneratorConfig{}};
  const uint64_t offset = full.total_rows() - 1000;
  const UserBehaviorBlock tail = generate(full, offset, 1000);
  for (uint64_t row = 0; row < 1000; row += 37) {
    require_same_rows(tail, row, generate(full, offset + row, 1), 0, 1);
  }
  REQUIRE(generate(full, 0, 0).size() == 0);
}

TEST_CASE("different seeds give different rows", "[workloads][generator]") {
  GeneratorConfig config = small_config();
  const UserBehaviorBlock a = generate(RowGenerator(config), 0, 100'000);
  config.seed = 2;
  const RowGenerator generator(config);
  const UserBehaviorBlock b = generate(generator, 0, 100'000);

  // Independent draws coincide with probability q = sum_k P(k)^2; the count of equal user_ids
  // is Binomial(n, q).
  const ZipfSampler& users = generator.user_sampler();
  double q = 0;
  for (uint64_t rank = 1; rank <= users.n(); ++rank) q += users.pmf(rank) * users.pmf(rank);
  uint64_t equal = 0;
  for (size_t row = 0; row < a.size(); ++row) equal += a.user_id[row] == b.user_id[row];
  const double n = static_cast<double>(a.size());
  CHECK(std::abs(static_cast<double>(equal) - n * q) <= kZ1e6 * std::sqrt(n * q * (1 - q)) + 1);
  // The seed moves every random column; event times depend only on the curve.
  REQUIRE(a.event_time == b.event_time);
  REQUIRE(a.item_id != b.item_id);
  REQUIRE(a.action != b.action);
}

TEST_CASE("event times are monotone and inside the window", "[workloads][generator][time]") {
  GeneratorConfig config;
  config.total_rows = 1'000'000;  // sparse: most seconds hold no row or one
  const RowGenerator sparse(config);
  const UserBehaviorBlock block = generate(sparse, 0, config.total_rows);
  REQUIRE(block.event_time.front() >= config.start);
  REQUIRE(block.event_time.back() < sparse.end());
  REQUIRE(std::is_sorted(block.event_time.begin(), block.event_time.end()));

  const RowGenerator full{GeneratorConfig{}};
  for (uint64_t first :
       {uint64_t{0}, full.total_rows() / 7, full.total_rows() / 2, full.total_rows() - 65'536}) {
    const UserBehaviorBlock part = generate(full, first, 65'536);
    REQUIRE(part.event_time.front() >= full.start());
    REQUIRE(part.event_time.back() < full.end());
    REQUIRE(std::is_sorted(part.event_time.begin(), part.event_time.end()));
    REQUIRE(full.event_time_of(first) == part.event_time.front());
  }
  REQUIRE(full.event_time_of(full.total_rows() - 1) < full.end());

  // first_row_at(t) splits the rows exactly at t.
  for (int64_t t = full.start() - 5; t < full.end() + 5; t += 86'400 / 7 + 13) {
    const uint64_t row = full.first_row_at(t);
    if (row < full.total_rows()) REQUIRE(full.event_time_of(row) >= t);
    if (row > 0) REQUIRE(full.event_time_of(row - 1) < t);
  }
  REQUIRE(full.first_row_at(full.start()) == 0);
  REQUIRE(full.first_row_at(full.end()) == full.total_rows());
}

TEST_CASE("per-second counts follow the curve's peak-to-mean ratio",
          "[workloads][generator][time]") {
  GeneratorConfig config;
  config.days = 1;
  config.total_rows = 10'000'000;
  const RowGenerator generator(config);
  const double target = config.peak_rows_per_s * 86'400 / static_cast<double>(config.rows_per_day);
  REQUIRE(generator.curve().realised_peak_to_mean() == Approx(target).epsilon(1e-6));

  std::vector<uint64_t> per_second(86'400);
  UserBehaviorBlock block;
  for (uint64_t first = 0; first < config.total_rows; first += 1'000'000) {
    generator.generate(first, 1'000'000, &block);
    for (uint32_t t : block.event_time) ++per_second[t - config.start];
  }
  const auto peak = std::max_element(per_second.begin(), per_second.end());
  const double mean = static_cast<double>(config.total_rows) / 86'400;
  // Event times are quantiles, not samples: every second holds R w / W rows rounded, off by less
  // than one. So the observed ratio is within 1 / mean of the realised curve ratio.
  CHECK(std::abs(static_cast<double>(*peak) / mean - generator.curve().realised_peak_to_mean()) <=
        1.0 / mean);
  // The peak is at 21:00 local time, 13:00 UTC with the default offset.
  const auto peak_second = peak - per_second.begin();
  CHECK(peak_second >= 13 * 3600);
  CHECK(peak_second < 13 * 3600 + 60);

  // rate_at: the full-scale rate, with the configured daily volume and peak.
  double day_sum = 0;
  double max_rate = 0;
  for (int64_t t = config.start; t < config.start + 86'400; ++t) {
    day_sum += generator.rate_at(t);
    max_rate = std::max(max_rate, generator.rate_at(t));
  }
  CHECK(day_sum == Approx(static_cast<double>(config.rows_per_day)).epsilon(1e-9));
  CHECK(max_rate == Approx(config.peak_rows_per_s).epsilon(1e-6));
}

TEST_CASE("a flat curve spreads rows evenly", "[workloads][time]") {
  GeneratorConfig config;
  config.days = 1;
  config.total_rows = 86'400 * 3;
  config.peak_rows_per_s = static_cast<double>(config.rows_per_day) / 86'400;
  const RowGenerator generator(config);
  REQUIRE(generator.curve().exponent() == 0.0);
  const UserBehaviorBlock block = generate(generator, 0, config.total_rows);
  for (size_t row = 0; row < block.size(); ++row) {
    REQUIRE(block.event_time[row] == config.start + static_cast<int64_t>(row / 3));
  }
}

// Bins: ranks 1..20 one by one, then (20 * 2^j, 20 * 2^(j+1)] up to n.
void check_zipf_column(const std::vector<uint64_t>& ids, const ZipfSampler& sampler) {
  std::vector<uint64_t> upper;
  for (uint64_t rank = 1; rank <= 20 && rank <= sampler.n(); ++rank) upper.push_back(rank);
  for (uint64_t edge = 40; upper.back() < sampler.n(); edge *= 2) {
    upper.push_back(std::min(edge, sampler.n()));
  }
  std::vector<double> probability(upper.size());
  double previous_cdf = 0;
  for (size_t bin = 0; bin < upper.size(); ++bin) {
    const double cdf = sampler.cdf(upper[bin]);
    probability[bin] = cdf - previous_cdf;
    previous_cdf = cdf;
  }
  std::vector<uint64_t> observed(upper.size());
  for (uint64_t id : ids) {
    REQUIRE(id >= 1);
    REQUIRE(id <= sampler.n());
    ++observed[std::lower_bound(upper.begin(), upper.end(), id) - upper.begin()];
  }
  const int df = static_cast<int>(upper.size()) - 1;
  const double statistic = chi_square(observed, probability, ids.size());
  INFO("chi-square " << statistic << " with " << df << " degrees of freedom");
  CHECK(statistic < chi_square_critical(df, kZ1e3));
}

TEST_CASE("user and item ids follow their Zipf distributions", "[workloads][generator][zipf]") {
  GeneratorConfig config;  // the defaults: 1e7 users (s = 0.9), 1e6 items (s = 1.1)
  const RowGenerator generator(config);
  const UserBehaviorBlock block = generate(generator, 0, 2'000'000);
  check_zipf_column(block.user_id, generator.user_sampler());
  check_zipf_column(block.item_id, generator.item_sampler());
}

TEST_CASE("tiny id ranges have no tail", "[workloads][generator][zipf]") {
  GeneratorConfig config = small_config();
  config.users = 1000;  // all head ranks
  config.items = 1;
  const RowGenerator generator(config);
  REQUIRE(generator.user_sampler().segment_count() == 0);
  const UserBehaviorBlock block = generate(generator, 0, 100'000);
  for (size_t row = 0; row < block.size(); ++row) {
    REQUIRE(block.user_id[row] >= 1);
    REQUIRE(block.user_id[row] <= 1000);
    REQUIRE(block.item_id[row] == 1);
  }
  CHECK(std::count(block.user_id.begin(), block.user_id.end(), 1000) > 0);
}

TEST_CASE("Zipf tables assign the documented probabilities", "[workloads][zipf]") {
  // Bounds from zipf_sampler.h: 4.1e-5 relative for (1e7, 0.9), 4.7e-5 for (1e6, 1.1).
  const struct {
    uint64_t n;
    double s;
    double bound;
  } cases[] = {{10'000'000, 0.9, 4.1e-5}, {1'000'000, 1.1, 4.7e-5}, {5'000, 0.0, 1e-9}};
  for (const auto& c : cases) {
    const ZipfSampler sampler(c.n, c.s);
    // realised_pmf() is O(table size), so check a spread of ranks: geometric steps plus both
    // sides of every segment boundary.
    std::vector<uint64_t> ranks;
    for (double rank = 1; rank <= static_cast<double>(c.n); rank = rank * 1.05 + 1) {
      ranks.push_back(static_cast<uint64_t>(rank));
    }
    for (uint64_t boundary = ZipfSampler::kHeadRanks; boundary < c.n; boundary *= 2) {
      ranks.insert(ranks.end(), {boundary, boundary + 1, boundary + 2});
    }
    ranks.push_back(c.n);
    double worst = 0;
    for (uint64_t rank : ranks) {
      worst = std::max(worst, std::abs(sampler.realised_pmf(rank) / sampler.pmf(rank) - 1));
    }
    INFO("n " << c.n << " s " << c.s);
    CHECK(worst <= c.bound);
    CHECK(sampler.cdf(c.n) == 1.0);
  }
}

TEST_CASE("generalised harmonic numbers match direct sums", "[workloads][zipf]") {
  for (double s : {0.0, 0.5, 0.9, 1.0, 1.1, 2.0}) {
    long double direct = 0;
    const uint64_t n = 200'000;
    for (uint64_t j = n; j >= 1; --j) direct += std::pow(static_cast<long double>(j), -s);
    INFO("s " << s);
    CHECK(generalized_harmonic(n, s) == Approx(static_cast<double>(direct)).epsilon(1e-13));
  }
  CHECK(generalized_harmonic(1, 0.9) == 1.0);
}

TEST_CASE("the alias table realises its weights", "[workloads][alias]") {
  const AliasTable table(kProvincePopulationMillions);
  double total = 0;
  for (double population : kProvincePopulationMillions) total += population;
  for (uint32_t province = 0; province < kProvinceCount; ++province) {
    CHECK(table.realised_probability(province) ==
          Approx(kProvincePopulationMillions[province] / total).epsilon(1e-12));
  }
  const double weights[] = {0.0, 1.0, 0.0, 3.0};
  const AliasTable sparse(weights);
  CHECK(sparse.realised_probability(0) == 0.0);
  CHECK(sparse.realised_probability(2) == 0.0);
  CHECK(sparse.realised_probability(3) == Approx(0.75).epsilon(1e-14));
  for (uint64_t bits = 0; bits < 1000; ++bits) {
    const uint32_t outcome = sparse.pick(draw(9, bits));
    REQUIRE((outcome == 1 || outcome == 3));
  }
}

TEST_CASE("each user has one province and one gender", "[workloads][generator][users]") {
  GeneratorConfig config = small_config();
  config.users = 20'000;  // many repeat visits
  const RowGenerator generator(config);
  const UserBehaviorBlock block = generate(generator, 0, config.total_rows);
  std::unordered_map<uint64_t, std::pair<uint8_t, uint8_t>> seen;
  for (size_t row = 0; row < block.size(); ++row) {
    const auto attributes = std::make_pair(block.province[row], block.gender[row]);
    const auto [it, inserted] = seen.emplace(block.user_id[row], attributes);
    REQUIRE(it->second == attributes);
    if (inserted) {
      REQUIRE(generator.province_of(block.user_id[row]) == attributes.first);
      REQUIRE(generator.gender_of(block.user_id[row]) == attributes.second);
    }
  }
  REQUIRE(seen.size() > 1000);
}

TEST_CASE("gender ratio and province shares over users", "[workloads][generator][users]") {
  const RowGenerator generator{GeneratorConfig{}};
  const uint64_t users = 1'000'000;
  uint64_t women = 0;
  std::vector<uint64_t> per_province(kProvinceCount);
  for (uint64_t user = 1; user <= users; ++user) {
    women += generator.gender_of(user) == kFemale;
    ++per_province[generator.province_of(user)];
  }
  // Genders are independent Bernoulli(female_ratio) per user.
  const double p = generator.config().female_ratio;
  const double n = static_cast<double>(users);
  CHECK(std::abs(static_cast<double>(women) - n * p) <= kZ1e6 * std::sqrt(n * p * (1 - p)));

  double total = 0;
  for (double population : kProvincePopulationMillions) total += population;
  std::vector<double> share(kProvinceCount);
  for (size_t province = 0; province < kProvinceCount; ++province) {
    share[province] = kProvincePopulationMillions[province] / total;
  }
  const double statistic = chi_square(per_province, share, users);
  INFO("chi-square " << statistic);
  CHECK(statistic < chi_square_critical(kProvinceCount - 1, kZ1e3));
  // The largest and smallest divisions come out in order.
  CHECK(per_province[18] == *std::max_element(per_province.begin(), per_province.end()));  // 广东
  CHECK(per_province[33] == *std::min_element(per_province.begin(), per_province.end()));  // 澳门
}

TEST_CASE("actions follow the configured mix", "[workloads][generator]") {
  GeneratorConfig config = small_config();
  config.action_mix = ActionMix{.click = 8, .fav = 1, .cart = 0, .buy = 1};  // relative weights
  const RowGenerator generator(config);
  const UserBehaviorBlock block = generate(generator, 0, config.total_rows);
  std::vector<uint64_t> counts(kActionNames.size());
  for (uint8_t action : block.action) ++counts[action];
  CHECK(counts[2] == 0);
  const std::vector<uint64_t> present = {counts[0], counts[1], counts[3]};
  const double statistic = chi_square(present, {0.8, 0.1, 0.1}, block.size());
  CHECK(statistic < chi_square_critical(2, kZ1e3));
}

TEST_CASE("invalid configs are input errors", "[workloads][config]") {
  struct Case {
    const char* field;
    void (*mutate)(GeneratorConfig&);
  };
  const Case cases[] = {
      {"days", [](GeneratorConfig& c) { c.days = 0; }},
      {"days", [](GeneratorConfig& c) { c.days = 367; }},
      {"start", [](GeneratorConfig& c) { c.start = -1; }},
      {"start", [](GeneratorConfig& c) { c.start = (int64_t{1} << 32) - 86'400; }},
      {"users", [](GeneratorConfig& c) { c.users = 0; }},
      {"items", [](GeneratorConfig& c) { c.items = uint64_t{1} << 41; }},
      {"user_zipf_exponent", [](GeneratorConfig& c) { c.user_zipf_exponent = -0.1; }},
      {"item_zipf_exponent", [](GeneratorConfig& c) { c.item_zipf_exponent = NAN; }},
      {"action_mix.fav", [](GeneratorConfig& c) { c.action_mix.fav = -1; }},
      {"action_mix",
       [](GeneratorConfig& c) {
         c.action_mix = ActionMix{0, 0, 0, 0};
       }},
      {"female_ratio", [](GeneratorConfig& c) { c.female_ratio = 1.5; }},
      {"rows_per_day", [](GeneratorConfig& c) { c.rows_per_day = 0; }},
      {"total_rows", [](GeneratorConfig& c) { c.total_rows = uint64_t{1} << 41; }},
      {"peak_rows_per_s", [](GeneratorConfig& c) { c.peak_rows_per_s = 10; }},
      {"peak_rows_per_s", [](GeneratorConfig& c) { c.peak_rows_per_s = 1e9; }},
      {"utc_offset_hours", [](GeneratorConfig& c) { c.utc_offset_hours = 15; }},
  };
  for (const Case& c : cases) {
    GeneratorConfig config;
    c.mutate(config);
    INFO("field " << c.field);
    REQUIRE_THROWS_AS(RowGenerator(config), InputError);
    REQUIRE_THROWS_WITH(validate(config), Catch::Contains(c.field));
  }
  REQUIRE_NOTHROW(validate(GeneratorConfig{}));
}

TEST_CASE("TSV rows in ClickHouse TabSeparated format", "[workloads][tsv]") {
  UserBehaviorBlock block;
  block.resize(3);
  const int64_t day = dt::days_from_civil(2024, 5, 1) * dt::kSecondsPerDay;
  block.user_id = {1, 18'446'744'073'709'551'615ULL, 10};
  block.item_id = {0, 99, 1'000'000};
  block.action = {0, 3, 1};
  block.event_time = {static_cast<uint32_t>(day), static_cast<uint32_t>(day),
                      static_cast<uint32_t>(day + 86'399 + 3600)};
  block.province = {0, 7, 33};
  block.gender = {kFemale, kMale, kFemale};
  std::string text;
  append_tsv(block, &text);
  REQUIRE(text ==
          "1\t0\tclick\t2024-05-01 00:00:00\t北京\tF\n"
          "18446744073709551615\t99\tbuy\t2024-05-01 00:00:00\t黑龙江\tM\n"
          "10\t1000000\tfav\t2024-05-02 00:59:59\t澳门\tF\n");
}

TEST_CASE("TsvWriter output equals the in-memory format", "[workloads][tsv]") {
  const RowGenerator generator(small_config());
  const UserBehaviorBlock block = generate(generator, 1000, 5000);
  std::string expected;
  append_tsv(block, &expected);
  append_tsv(block, &expected);

  std::FILE* file = std::tmpfile();
  REQUIRE(file != nullptr);
  {
    TsvWriter writer(file, 4 * kMaxTsvRowBytes);  // a tiny buffer: many partial writes
    writer.write(block);
    writer.write(block);
    writer.flush();
    REQUIRE(writer.bytes_formatted() == expected.size());
  }
  std::rewind(file);
  std::string actual(expected.size() + 1, '\0');
  actual.resize(std::fread(actual.data(), 1, actual.size(), file));
  std::fclose(file);
  REQUIRE(actual == expected);
  // Every line has six fields, and event times parse back.
  size_t line_start = 0;
  for (size_t row = 0; row < 5000; ++row) {
    const size_t line_end = expected.find('\n', line_start);
    const std::string line = expected.substr(line_start, line_end - line_start);
    REQUIRE(std::count(line.begin(), line.end(), '\t') == 5);
    const size_t time_start = line.find('\t', line.find('\t', line.find('\t') + 1) + 1) + 1;
    REQUIRE(dt::parse_date_time(line.substr(time_start, 19)) == block.event_time[row]);
    line_start = line_end + 1;
  }
}

}  // namespace
}  // namespace shardlab::workloads
