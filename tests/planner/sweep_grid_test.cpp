// Sweep grids: values split at top-level commas only, the cross product's order and labels, and
// the mistakes a user can make in a --grid flag.
#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/errors.h"
#include "planner/process_pool.h"
#include "planner/sweep_grid.h"

using namespace shardlab::planner;
using Catch::Matchers::Contains;

TEST_CASE("sweep grid: values split at top-level commas", "[planner][sweep]") {
  const Grid shards = parse_grid("cluster.shards=2, 4,8");
  CHECK(shards.key == "cluster.shards");
  CHECK(shards.values == std::vector<std::string>{"2", "4", "8"});
  const Grid sharding =
      parse_grid("cluster.sharding={kind: hash, key: cityHash64(user_id)},{kind: jump, key: "
                 "intHash64(user_id)}");
  CHECK(sharding.values == std::vector<std::string>{"{kind: hash, key: cityHash64(user_id)}",
                                                    "{kind: jump, key: intHash64(user_id)}"});
  CHECK(parse_grid("run.outputs=[plots, report],[report]").values.size() == 2);
  CHECK(parse_grid("table.name='a,b',c").values == std::vector<std::string>{"'a,b'", "c"});

  CHECK_THROWS_WITH(parse_grid("cluster.shards"), Contains("expected KEY=V1,V2"));
  CHECK_THROWS_WITH(parse_grid("=2,4"), Contains("the key is empty"));
  CHECK_THROWS_WITH(parse_grid("cluster.shards="), Contains("an empty value"));
  CHECK_THROWS_WITH(parse_grid("cluster.shards=2,,4"), Contains("an empty value"));
  CHECK_THROWS_WITH(parse_grid("cluster.sharding={kind: hash"), Contains("an unclosed bracket"));
  CHECK_THROWS_WITH(parse_grid("table.name='a"), Contains("an unclosed quote"));
}

TEST_CASE("sweep grid: points are the cross product, the first grid slowest", "[planner][sweep]") {
  const std::vector<SweepPoint> points =
      sweep_points({parse_grid("cluster.shards=2,4"), parse_grid("cluster.replicas=1,2,3")});
  REQUIRE(points.size() == 6);
  CHECK(points[0].label == "shards=2,replicas=1");
  CHECK(points[2].label == "shards=2,replicas=3");
  CHECK(points[3].label == "shards=4,replicas=1");
  CHECK(points[5].overrides() ==
        std::vector<std::string>{"cluster.shards=4", "cluster.replicas=3"});
  CHECK(points[5].dir == "006-shards=4,replicas=3");
  // Characters a file name should not hold are replaced in the directory, not in the label.
  const std::vector<SweepPoint> odd = sweep_points({parse_grid("run.out_dir=a/b")});
  CHECK(odd[0].label == "out_dir=a/b");
  CHECK(odd[0].dir == "001-out_dir=a_b");
  CHECK_THROWS_WITH(sweep_points({parse_grid("run.seed=1"), parse_grid("run.seed=2")}),
                    Contains("swept twice"));
}

TEST_CASE("process pool: every job runs once, failures stay with their job", "[planner][pool]") {
  const std::vector<JobStatus> statuses =
      run_in_processes(5, 2, [](size_t index) -> int {
        if (index == 1) return 3;
        if (index == 3) throw shardlab::InputError("bad point");
        return 0;
      });
  REQUIRE(statuses.size() == 5);
  CHECK(statuses[0].ok);
  CHECK(statuses[1].failure == "exit status 3");
  CHECK(statuses[2].ok);
  CHECK(statuses[3].failure == "exit status 2");
  CHECK(statuses[4].ok);
  const std::vector<JobStatus> killed =
      run_in_processes(1, 1, [](size_t) -> int { return kill(getpid(), SIGKILL); });
  CHECK(killed[0].failure == "killed by signal 9");
}
