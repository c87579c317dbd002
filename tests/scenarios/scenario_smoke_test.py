#!/usr/bin/env python3
"""Every shipped scenario runs with --smoke, and its results keep the promises shardlab makes:

  * inserts add up: sent = acknowledged + rejected; async loses nothing but whole queued blocks,
    so queryable = acknowledged - lost exactly; sync loses nothing, and with no faults
    queryable = acknowledged = sent;
  * answers: without faults, every query template's answer over the cluster (answers/NAME.tsv)
    equals the single-node engine's answer on the same rows (`shardlab load --scenario`);
  * determinism: the same scenario and seed give a byte-identical summary.json.

The replicas' tables go to --data-root (a tmpfs by default when there is one: small runs are
dominated by file creation there otherwise). Prints each scenario's wall time and
'N passed, M failed'."""
import argparse
import concurrent.futures
import glob
import json
import os
import shutil
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shardlab", required=True)
    ap.add_argument("--scenarios", required=True, help="directory of the shipped scenarios")
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()
    sl = args.shardlab
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    # The determinism rerun keeps its tables on disk, under the work directory; every other run
    # leaves the choice to shardlab (a tmpfs when the data fits).
    data_root = os.path.join(args.workdir, "data")
    # Scenarios run two at a time: the test holds the whole machine (RUN_SERIAL), and one run
    # is mostly one busy core. Each task gathers its own results; they are printed in order.
    workers = 2

    def run(scenario, out, extra=()):
        started = time.monotonic()
        proc = subprocess.run([sl, "run", scenario, "--smoke", "--out", out, *extra],
                              capture_output=True, text=True)
        return proc, time.monotonic() - started

    def check_scenario(scenario):
        """Runs one shipped scenario and checks its results: (lines to print, checks, failures)."""
        lines, failures = [], []
        checks = 0

        def check(ok, what):
            nonlocal checks
            checks += 1
            if not ok:
                failures.append(what)

        name = os.path.splitext(os.path.basename(scenario))[0]
        out = os.path.join(args.workdir, name)
        proc, wall = run(scenario, out)
        lines.append(f"{name}: exit {proc.returncode}, {wall:.1f} s wall")
        check(proc.returncode == 0, f"{name}: run failed: {proc.stderr.strip()[-400:]}")
        if proc.returncode != 0:
            return lines, checks, failures
        for summary_path in sorted(glob.glob(os.path.join(out, "**", "summary.json"), recursive=True)):
            run_dir = os.path.dirname(summary_path)
            label = os.path.relpath(run_dir, args.workdir)
            with open(summary_path) as f:
                summary = json.load(f)
            with open(os.path.join(run_dir, "run_info.json")) as f:
                run_info = json.load(f)
            check(not os.path.exists(run_info["data_dir"]),
                  f"{label}: the run left its tables behind in {run_info['data_dir']}")
            check(run_info["data_peak_bytes"] >= run_info["data_one_copy_bytes"] > 0,
                  f"{label}: data on disk below one copy of the rows: {run_info}")
            ins = dict(summary["inserts"])
            # History rows were in the table before the run: the invariants are about the run's.
            ins["rows_queryable"] -= ins.get("rows_preloaded", 0)
            faults = summary["faults"]
            mode = summary["cluster"]["insert_mode"]
            check(ins["rows_sent"] == ins["rows_acknowledged"] + ins["rows_rejected"],
                  f"{label}: sent != acknowledged + rejected: {ins}")
            if mode == "async":
                check(ins["rows_queryable"] == ins["rows_acknowledged"] - ins["rows_lost"],
                      f"{label}: async queryable != acknowledged - lost: {ins}")
            else:
                check(ins["rows_lost"] == 0, f"{label}: sync lost rows: {ins}")
                check(ins["rows_queryable"] >= ins["rows_acknowledged"],
                      f"{label}: sync lost acknowledged rows: {ins}")
            cache = summary.get("cache")
            if cache:
                for name, t in cache["templates"].items():
                    what = f"{label}: cache {name}"
                    check(t["hits"] <= t["requests"] and 0 <= t["stale_reads"] <= t["hits"],
                          f"{what}: hits {t['hits']}, stale {t['stale_reads']} of "
                          f"{t['requests']} requests")
                    check(t["requests"] == 0 or t["cluster_queries"] > 0,
                          f"{what}: requests but no query reached the cluster")
                # A waiter handed the previous answer (lease_stale) hit the template, not a
                # server.
                check(cache["requests"]["hits"] ==
                      sum(t["hits"] - t["lease_stale_served"]
                          for t in cache["templates"].values()),
                      f"{label}: the servers' hits differ from the templates' hits")
            reshard = summary.get("reshard")
            if reshard:
                check(len(summary["shards"]) == reshard["shards_after"],
                      f"{label}: {len(summary['shards'])} shards reported after growing to "
                      f"{reshard['shards_after']}")
                fraction = {}
                for st in reshard["strategies"]:
                    what = f"{label}: reshard {st['strategy']} {st['key']}"
                    check(len(st["rows_per_shard_after"]) == reshard["shards_after"] and
                          sum(st["rows_per_shard_after"]) == reshard["rows"],
                          f"{what}: rows after {st['rows_per_shard_after']} are not the "
                          f"{reshard['rows']} rows stored")
                    check((st["transfer_s"] > 0) == (st["bytes_to_move"] > 0),
                          f"{what}: {st['bytes_to_move']} bytes moved in {st['transfer_s']} s")
                    fraction[st["strategy"]] = st["fraction_to_move"]
                # Consistent hashing moves less than modulo hashing, random nothing.
                if "jump" in fraction and "hash" in fraction:
                    check(0 < fraction["jump"] < fraction["hash"],
                          f"{label}: jump moves {fraction['jump']}, hash {fraction['hash']}")
                if "random" in fraction:
                    check(fraction["random"] == 0, f"{label}: random moves rows")
            if faults:
                continue
            check(ins["rows_queryable"] == ins["rows_sent"],
                  f"{label}: rows missing without faults: {ins}")
            if ins.get("rows_preloaded", 0) > 0:
                # `shardlab load` does not load history days: no single-node table to compare.
                continue
            # The single-node engine on the same rows.
            table = os.path.join(args.workdir, "single-" + label.replace(os.sep, "-"))
            variant = summary.get("variant")
            load = [sl, "load", "--data", table, "--scenario", scenario, "--smoke"]
            if variant:
                load += ["--variant", variant]
            proc = subprocess.run(load, capture_output=True, text=True)
            check(proc.returncode == 0, f"{label}: load failed: {proc.stderr.strip()[-300:]}")
            for sql_path in sorted(glob.glob(os.path.join(run_dir, "answers", "*.sql"))):
                with open(sql_path) as f:
                    sql = f.read()
                single = subprocess.run([sl, "sql", "--data", table, sql], capture_output=True,
                                        text=True)
                with open(sql_path[:-4] + ".tsv") as f:
                    distributed = f.read()
                check(single.returncode == 0 and single.stdout == distributed,
                      f"{label}: {os.path.basename(sql_path)}: cluster answer differs from "
                      f"the single-node engine's")
            shutil.rmtree(table, ignore_errors=True)
        return lines, checks, failures

    passed = failed = 0

    def tally(results):
        nonlocal passed, failed
        for lines, checks, failures in results:
            for line in lines:
                print(line)
            for what in failures:
                print(f"FAIL: {what}")
            passed += checks - len(failures)
            failed += len(failures)

    def check(ok, what):
        tally([([], 1, [] if ok else [what])])

    def cache_variants():
        """cache-tier's variants against each other: what each strategy promises."""
        def load(variant):
            with open(os.path.join(args.workdir, "cache-tier", variant, "summary.json")) as f:
                return json.load(f)["cache"]
        stale = {v: load(v)["templates"]["top_items_beijing_women"]["stale_reads"]
                 for v in ("ttl", "change-client", "change-server", "change-middleware")}
        # Invalidation on every acknowledged insert leaves nothing stale to read; a TTL does;
        # a change log one second behind leaves a little.
        check(stale["ttl"] > 0 and stale["change-client"] == 0 and stale["change-server"] == 0,
              f"cache-tier: stale reads by strategy {stale}")
        check(stale["change-middleware"] < stale["ttl"],
              f"cache-tier: the change log served more stale reads than TTL: {stale}")
        moved = {v: load(v)["remaps"][0]["keys_moved_share"] for v in ("ketama-crash",
                                                                         "modula-crash")}
        # One of three nodes lost: ketama moves its third, modula about two thirds.
        check(0.2 < moved["ketama-crash"] < 0.45 and moved["modula-crash"] > 0.55,
              f"cache-tier: keys moved by ejecting one of three nodes: {moved}")
        # The dashboard's hot key expires every minute: without leases every client that
        # misses it queries the cluster; with leases one does; with stale answers for the
        # waiters, almost nobody waits.
        herd = {v: load(v)["templates"]["top_items_beijing_women"]
                for v in ("leases-off", "leases-on", "leases-stale")}
        peaks = {v: t["cluster_peak_per_s"] for v, t in herd.items()}
        queries = {v: t["cluster_queries"] for v, t in herd.items()}
        check(peaks["leases-on"] < peaks["leases-off"] and
              3 * queries["leases-on"] < queries["leases-off"],
              f"cache-tier: leases do not stop the herd: peak {peaks}, queries {queries}")
        check(herd["leases-off"]["lease_waits"] == 0 and herd["leases-on"]["lease_waits"] > 0 and
              herd["leases-on"]["lease_stale_served"] == 0 and
              herd["leases-stale"]["lease_stale_served"] > 0 and
              herd["leases-stale"]["lease_waits"] < herd["leases-on"]["lease_waits"],
              f"cache-tier: lease waits and stale answers: "
              f"{ {v: (t['lease_waits'], t['lease_stale_served']) for v, t in herd.items()} }")

    try:
        scenarios = sorted(glob.glob(os.path.join(args.scenarios, "*.yaml")))
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            tally(list(pool.map(check_scenario, scenarios)))
        if os.path.exists(os.path.join(args.scenarios, "cache-tier.yaml")):
            cache_variants()
        quick = os.path.join(args.scenarios, "quickstart.yaml")

        def determinism():
            # The quickstart again, into another directory, and with another seed.
            again = os.path.join(args.workdir, "quickstart-again")
            run(quick, again, ["--data-dir", data_root])
            run(quick, os.path.join(args.workdir, "quickstart-seed2"), ["--seed", "2"])

        def kept_data():
            # Tables kept with --keep-data survive later runs in the same place (a run removes
            # only scratch directories of dead runs, and kept ones are no longer scratch).
            kept_root = os.path.join(args.workdir, "kept")
            proc, _ = run(quick, os.path.join(args.workdir, "quickstart-kept"),
                          ["--data-dir", kept_root, "--keep-data"])
            kept = glob.glob(os.path.join(kept_root, "shardlab-data-*"))
            first = (proc.returncode == 0 and len(kept) == 1, f"--keep-data kept {kept}")
            proc, _ = run(quick, os.path.join(args.workdir, "quickstart-after-kept"),
                          ["--data-dir", kept_root])
            second = (proc.returncode == 0 and all(os.path.isdir(k) for k in kept),
                      "a later run removed tables kept with --keep-data")
            return [first, second]

        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            rerun = pool.submit(determinism)
            kept = pool.submit(kept_data)
            rerun.result()
            for ok, what in kept.result():
                check(ok, what)
        with open(os.path.join(args.workdir, "quickstart", "summary.json"), "rb") as a, \
                open(os.path.join(args.workdir, "quickstart-again", "summary.json"), "rb") as b:
            check(a.read() == b.read(), "quickstart: summary.json differs between two runs")
        with open(os.path.join(args.workdir, "quickstart", "summary.json"), "rb") as a, \
                open(os.path.join(args.workdir, "quickstart-seed2", "summary.json"), "rb") as b:
            check(a.read() != b.read(), "quickstart: another seed gave the same summary.json")
    finally:
        shutil.rmtree(data_root, ignore_errors=True)
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
