#!/usr/bin/env bash
# The case study's own claims, measured: the maximum sustainable ingest rate of its 8 x 2 cluster
# (the case study reports 150k rows/s), what going from 1 to 2 replicas costs in write
# throughput (it reports 20%), and how skewed a gender sharding key is next to
# cityHash64(user_id). Each is a sweep of scenarios/ecommerce-case-study.yaml at a reduced data
# scale (rows, rates and hardware rates scaled together, so utilisation is that of full scale)
# over two hours around the evening peak; scripts/case_study_answers.py reads the comparisons
# and writes answers.md. The smallest cluster that meets the case study's requirements is
# `shardlab plan scenarios/ecommerce-plan.yaml`'s answer.
#
#   SCALE=0.01 OUT=out/case-study-answers bash scripts/case_study_answers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SHARDLAB=${SHARDLAB:-build/apps/shardlab}
SCALE=${SCALE:-0.01}
OUT=${OUT:-out/case-study-answers}
PEAKS=${PEAKS:-100000,200000,300000,400000,600000}
DATA_DIR=${DATA_DIR:-/dev/shm}
S=scenarios/ecommerce-case-study.yaml
common=(--scale "$SCALE" --window 2h --data-dir "$DATA_DIR")

"$SHARDLAB" sweep "$S" "${common[@]}" --grid "workload.peak_rows_per_s=$PEAKS" \
  --out "$OUT/ingest-2-replicas"
"$SHARDLAB" sweep "$S" "${common[@]}" --grid "workload.peak_rows_per_s=$PEAKS" \
  --set cluster.replicas=1 \
  --set 'cluster.placement=[[ch01], [ch02], [ch03], [ch04], [ch05], [ch06], [ch07], [ch08]]' \
  --out "$OUT/ingest-1-replica"
"$SHARDLAB" sweep "$S" "${common[@]}" \
  --grid 'cluster.sharding={kind: hash, key: cityHash64(user_id)},{kind: hash, key: cityHash64(gender)}' \
  --out "$OUT/sharding-key"
python3 scripts/case_study_answers.py "$OUT" --scale "$SCALE"
echo "case study answers: $OUT/answers.md"
