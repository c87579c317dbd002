#!/usr/bin/env python3
"""shardlab live end to end, against servers this test starts on 127.0.0.1.

1. The loopback cluster of scenarios/live-loopback.yaml (--smoke, sync inserts): shardlab
   starts ZooKeeper, four clickhouse-servers and memcached itself, kills a replica mid-run,
   and stops everything. Checks: rows acknowledged == rows queryable; every template's answer
   equals the embedded engine's over the acknowledged rows; rows per shard equal ClickHouse's
   sharding rule evaluated by the engine; the fidelity report exists with every metric; no
   server of the run is left behind.
2. Bad inventories (--hosts): unknown role, duplicate port, a scenario node outside the
   inventory, an unreachable server: exit code 2 and FILE:LINE:COL (or the address).
3. A server of the test's own, with a planted table beside live mode's database: after
   `shardlab live --hosts` and `calibrate --live --hosts` it is intact, and live mode's rows are
   in its own database.
4. List sharding as a multiIf sharding expression: the real cluster's rows per shard equal the
   simulator's.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "differential"))
from clickhouse_server import ClickHouseServer  # noqa: E402

FAILURES: list[str] = []


def check(condition: bool, what: str) -> None:
    print(("ok   " if condition else "FAIL ") + what, flush=True)
    if not condition:
        FAILURES.append(what)


def run(shardlab: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([shardlab, *args], capture_output=True, text=True)


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line mentions `text` (the run's directory)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


def loopback_run(shardlab: str, workdir: Path) -> None:
    out = workdir / "loopback"
    result = run(shardlab, "live", str(ROOT / "scenarios" / "live-loopback.yaml"), "--smoke",
                 "--variant", "sync", "--out", str(out))
    print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
    check(result.returncode == 0, f"live --smoke --variant sync exits 0 (got {result.returncode})")
    if result.returncode != 0:
        return
    summary = json.loads((out / "summary.json").read_text())
    inserts = summary["inserts"]
    check(inserts["rows_acknowledged"] > 0, "rows were acknowledged")
    check(inserts["rows_acknowledged"] == inserts["rows_queryable"],
          f"sync: acknowledged {inserts['rows_acknowledged']} == queryable "
          f"{inserts['rows_queryable']}")
    check(inserts["rows_lost"] == 0, "sync: no row lost")
    events = [f["event"] for f in summary["faults"]]
    check(events == ["failed", "repaired"], f"the replica was killed and restarted ({events})")
    answers = summary["answers"]
    for name in ("user_history", "top_items_province"):
        check(answers.get(name, {}).get("equal_to_engine") is True,
              f"{name}: the distributed answer equals the engine's over the same rows")
        check((out / "answers" / f"{name}.tsv").exists(), f"answers/{name}.tsv written")
    shard_rows = [shard["rows"] for shard in summary["shards"]]
    check(shard_rows == answers.get("shard_rows_by_engine"),
          f"rows per shard {shard_rows} follow the sharding rule "
          f"({answers.get('shard_rows_by_engine')})")
    for shard in summary["shards"]:
        replica_rows = {r["node"]: r["rows"] for r in shard["replicas"]}
        check(len(set(replica_rows.values())) == 1,
              f"shard {shard['shard']}: replicas agree after settling ({replica_rows})")
    check(summary["cache"]["requests"]["gets"] > 0, "the cache tier was asked")
    fidelity = json.loads((out / "fidelity.json").read_text())
    for metric in ("replication.catch_up_s", "inserts.rows_acknowledged", "inserts.rows_queryable", "inserts.rows_lost",
                   "queries.user_history.latency_s.p50", "queries.user_history.latency_s.p99",
                   "queries.top_items_province.latency_s.p50", "replication.max_lag_s",
                   "shards.1.rows", "shards.2.rows", "cache.templates.user_history.hit_ratio"):
        entry = fidelity.get(metric)
        check(entry is not None and {"measured", "simulated", "ratio"} <= set(entry),
              f"fidelity.json has {metric}")
    for name in ("fidelity.md", "fidelity.html", "fidelity_latency_cdf.png",
                 "fidelity_replica_lag.png", "simulated/summary.json",
                 "timeseries/replica_lag.csv"):
        check((out / name).exists(), f"{name} written")
    markdown = (out / "fidelity.md").read_text()
    check("| inserts.rows" in markdown and "clickhouse-18.16.json." in markdown
          and "Twin 'engine': calibration the shipped defaults" in markdown,
          "fidelity.md tabulates the metrics and names both twins' calibrations")
    left = processes_mentioning(str(out))
    check(not left, f"no server of the run is left ({left})")


def list_sharding_run(shardlab: str, workdir: Path) -> None:
    """List sharding becomes a multiIf sharding expression: the real cluster must put exactly the
    rows the simulator puts on each shard (sync inserts, no faults, so both hold every row)."""
    scenario = str(ROOT / "scenarios" / "live-loopback.yaml")
    overrides = ["--smoke", "--variant", "sync", "--set", "run.duration=20min", "--set", "faults=[]",
                 "--set", "cluster.sharding={kind: list, key: province, lists: "
                 "[[天津, 吉林, 黑龙江, 浙江, 广东], [北京, 上海]], default_shard: 2}"]
    live = run(shardlab, "live", scenario, *overrides, "--no-simulation",
               "--out", str(workdir / "list_live"))
    simulated = run(shardlab, "run", scenario, *overrides, "--out", str(workdir / "list_sim"))
    check(live.returncode == 0 and simulated.returncode == 0,
          f"list sharding: live and run exit 0 (got {live.returncode}, {simulated.returncode}: "
          f"{live.stderr[-300:]}{simulated.stderr[-300:]})")
    if live.returncode != 0 or simulated.returncode != 0:
        return
    live_rows = [s["rows"] for s in json.loads((workdir / "list_live" / "summary.json").read_text())["shards"]]
    sim_rows = [s["rows"] for s in json.loads((workdir / "list_sim" / "summary.json").read_text())["shards"]]
    check(live_rows == sim_rows and sum(live_rows) > 0,
          f"list sharding: rows per shard live {live_rows} == simulated {sim_rows}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bad_inventories(shardlab: str, workdir: Path) -> None:
    scenario = str(HERE / "one_server.yaml")
    cases = {
        "unknown_role": ("cluster: c\nnodes:\n  - {name: n0, host: 127.0.0.1, port: 8123, "
                         "role: postgres}\n", "bad_unknown_role.yaml:3:", "unknown role"),
        "duplicate_port": ("cluster: c\nnodes:\n  - {name: n0, host: 127.0.0.1, port: 8123, "
                           "role: clickhouse}\n  - {name: n1, host: 127.0.0.1, port: 8123, "
                           "role: clickhouse}\n", "bad_duplicate_port.yaml:4:", "listed twice"),
        "outside": ("cluster: c\nnodes:\n  - {name: other, host: 127.0.0.1, port: 8123, "
                    "role: clickhouse}\n", "bad_outside.yaml:3:", "not in the inventory"),
    }
    port = free_port()
    cases["unreachable"] = (f"cluster: c\nnodes:\n  - {{name: n0, host: 127.0.0.1, port: {port}, "
                            "role: clickhouse}\n", "bad_unreachable.yaml:3:",
                            f"127.0.0.1:{port} does not answer")
    refused = run(shardlab, "live", str(ROOT / "scenarios" / "live-loopback.yaml"), "--smoke",
                  "--set", "workload.history_days=1", "--out", str(workdir / "out_history"))
    check(refused.returncode == 2 and "history_days" in refused.stderr
          and not (workdir / "out_history" / "servers").exists(),
          f"history days are refused before any server starts ({refused.returncode}: "
          f"{refused.stderr.strip()[:200]})")
    for name, (text, where, what) in cases.items():
        path = workdir / f"bad_{name}.yaml"
        path.write_text(text)
        result = run(shardlab, "live", scenario, "--hosts", str(path), "--no-simulation",
                     "--out", str(workdir / f"out_{name}"))
        message = result.stderr.strip()
        check(result.returncode == 2 and where in message and what in message,
              f"inventory {name}: exit 2 naming {where!r} and {what!r} (got {result.returncode}: "
              f"{message[:300]})")


def planted_table(shardlab: str, workdir: Path) -> None:
    with ClickHouseServer(workdir / "server", cluster_name="planted_cluster") as server:
        server.query("CREATE TABLE default.keep_me (x UInt64) ENGINE = MergeTree ORDER BY x")
        server.query("INSERT INTO default.keep_me SELECT number FROM system.numbers LIMIT 1000")
        inventory = workdir / "inventory.yaml"
        inventory.write_text(
            "cluster: planted_cluster\ndatabase: shardlab_live_test\nnodes:\n"
            f"  - {{name: n0, host: 127.0.0.1, port: {server.http_port}, role: clickhouse}}\n")
        result = run(shardlab, "live", str(HERE / "one_server.yaml"), "--hosts", str(inventory),
                     "--no-simulation", "--out", str(workdir / "hosts_out"))
        print(result.stdout[-2000:], result.stderr[-2000:], sep="\n")
        check(result.returncode == 0, f"live --hosts exits 0 (got {result.returncode})")
        calibration = workdir / "calibration.json"
        fitted = run(shardlab, "calibrate", "--live", str(HERE / "one_server.yaml"), "--hosts",
                     str(inventory), "--rows", "20000", "--repeat", "3", "--out", str(calibration))
        print(fitted.stdout[-2000:], fitted.stderr[-1000:], sep="\n")
        check(fitted.returncode == 0, f"calibrate --live --hosts exits 0 (got {fitted.returncode})")
        if fitted.returncode == 0:
            document = json.loads(calibration.read_text())
            check(document["about"]["source"] == "shardlab calibrate --live"
                  and document["coefficients"]["query_setup_s"] > 0,
                  "the live calibration file has fitted coefficients")
        kept = server.query("SELECT count(), sum(x) FROM default.keep_me").split()
        check(kept == ["1000", "499500"], f"the planted table is intact ({kept})")
        databases = server.query("SELECT name FROM system.databases ORDER BY name").split()
        check("shardlab_live_test" in databases, f"live mode made its own database ({databases})")
        tables = server.query(
            "SELECT name FROM system.tables WHERE database = 'default' ORDER BY name").split()
        check(tables == ["keep_me"], f"nothing was added to the default database ({tables})")
        if result.returncode == 0:
            summary = json.loads((workdir / "hosts_out" / "summary.json").read_text())
            stored = server.query("SELECT count() FROM shardlab_live_test.user_behavior_local")
            check(int(stored) == summary["inserts"]["rows_acknowledged"] > 0,
                  f"live mode's rows are in its own database ({stored.strip()})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shardlab", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    workdir = Path(args.workdir).resolve()
    subprocess.run(["rm", "-rf", str(workdir)], check=True)
    workdir.mkdir(parents=True)
    bad_inventories(args.shardlab, workdir)
    planted_table(args.shardlab, workdir)
    loopback_run(args.shardlab, workdir)
    list_sharding_run(args.shardlab, workdir)
    print(f"{len(FAILURES)} failure(s)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
