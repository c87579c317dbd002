#!/usr/bin/env bash
# The main job: installs dependencies, builds, generates rows into an embedded table, merges
# it, and answers the seed queries (the engine); then simulates a scenario end to end (the case
# study's cluster at --smoke scale) and prints where its report and figures are. ROWS (default
# 10,000,000), DATA, SCENARIO and OUT override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
rows=${ROWS:-10000000}
data=${DATA:-build/demo-data}
shardlab=build/apps/shardlab
rm -rf "$data"
echo "== loading $rows generated rows into $data"
$shardlab load --data "$data" --rows "$rows" --seed 1
$shardlab optimize --data "$data" --final
run() {
  echo
  echo "== $1"
  echo "$2"
  $shardlab sql --data "$data" "$2"
}
run "Q1: Beijing clicks on 2024-05-01" \
  "SELECT count() FROM user_behavior WHERE event_time >= '2024-05-01 00:00:00' AND event_time < '2024-05-02 00:00:00' AND province = '北京' AND action = 'click'"
run "Q2: top-10 items clicked by Beijing women in the 7 days" \
  "SELECT item_id, count() AS c FROM user_behavior WHERE event_time >= '2024-05-01 00:00:00' AND event_time < '2024-05-08 00:00:00' AND province = '北京' AND gender = 'F' AND action = 'click' GROUP BY item_id ORDER BY c DESC, item_id LIMIT 10"
top_user=$($shardlab sql --data "$data" "SELECT user_id FROM user_behavior GROUP BY user_id ORDER BY count() DESC, user_id LIMIT 1")
run "Q3: actions of the most active user ($top_user)" \
  "SELECT action, count() FROM user_behavior WHERE user_id = $top_user GROUP BY action ORDER BY action"
run "Q4: top-10 clicking users on 2024-05-02" \
  "SELECT user_id, count() AS c FROM user_behavior WHERE event_time >= '2024-05-02 00:00:00' AND event_time < '2024-05-03 00:00:00' AND action = 'click' GROUP BY user_id ORDER BY c DESC, user_id LIMIT 10"

scenario=${SCENARIO:-scenarios/ecommerce-case-study.yaml}
out=${OUT:-build/demo-run}
echo
rm -rf "$out"
echo "== simulating $scenario (--smoke) into $out"
$shardlab run "$scenario" --smoke --out "$out"
echo
echo "== results of the simulated run"
echo "report:  $out/report.html (and report.md)"
echo "figures: $(cd "$out" && ls *.png | tr '\n' ' ')"
echo "summary: $out/summary.json"
